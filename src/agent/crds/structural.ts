import { isRecord } from "../../core/objects.js";

/**
 * Turns the JSON Schema zod writes (target openapi-3.0) into a structural schema, the only kind a CRD of
 * apiextensions.k8s.io/v1 may have (Kubernetes docs, "Specifying a structural schema"):
 *
 * - every node has a `type` (or x-kubernetes-int-or-string), so the API server knows what to prune;
 * - no $ref: references are inlined;
 * - a union of objects becomes one object with every branch's fields (the skeleton), the branches kept
 *   under anyOf with value validations only (no type, description, default, additionalProperties or
 *   nullable inside a junctor), and a CEL rule per branch refusing the fields of the other branches, so
 *   that the branches stay apart as zod keeps them apart;
 * - a union of an integer and a string becomes x-kubernetes-int-or-string;
 * - patterns, lengths, bounds and enums are kept; defaults are dropped (the agent applies the same defaults
 *   when it reads an object with the zod schema, so what is stored is what was written), and so are the
 *   keywords Kubernetes does not know (propertyNames, $schema) and `additionalProperties: false` (structural
 *   schemas prune unknown fields instead; clients with strict field validation, kubectl's default, see
 *   them refused).
 *
 * Anything it cannot make structural throws, naming the path, so a schema change that would produce a CRD
 * the API server refuses fails at generation, not at install.
 */

export type JsonSchema = Record<string, unknown>;

export class StructuralSchemaError extends Error {
  override readonly name = "StructuralSchemaError";
}

/** Keywords kept as they are. */
const kept = [
  "description",
  "nullable",
  "enum",
  "pattern",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "required",
  "x-kubernetes-validations",
  "x-kubernetes-int-or-string",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
] as const;

/** Keywords a junctor's branch may not hold (value validations only). */
const notInJunctors = new Set([
  "type",
  "description",
  "default",
  "additionalProperties",
  "nullable",
  "x-kubernetes-validations",
  "x-kubernetes-int-or-string",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
]);

/** Formats the API server knows (k8s.io/apiextensions-apiserver, SupportedFormats); others are dropped. */
const knownFormats = new Set(["int32", "int64", "float", "double", "byte", "date", "date-time", "uuid"]);

interface Context {
  readonly definitions: Readonly<Record<string, unknown>>;
  /** The $refs being inlined, to refuse a cycle rather than recurse forever. */
  readonly inlining: readonly string[];
}

/** The structural form of `schema`, a root as z.toJSONSchema returns it (with $defs when it has refs). */
export function toStructural(schema: JsonSchema): JsonSchema {
  const definitions = isRecord(schema.$defs)
    ? schema.$defs
    : isRecord(schema.definitions)
      ? schema.definitions
      : {};
  return convert(schema, "", { definitions, inlining: [] });
}

function fail(path: string, problem: string): never {
  throw new StructuralSchemaError(`${path === "" ? "(root)" : path}: ${problem}`);
}

function convert(node: JsonSchema, path: string, context: Context): JsonSchema {
  if (typeof node.$ref === "string") {
    const [target, inner] = resolved(node, path, context);
    return convert(target, path, inner);
  }
  const branches = node.anyOf ?? node.oneOf;
  if (Array.isArray(branches)) return convertUnion(node, branches, path, context);
  if (node.allOf !== undefined) fail(path, "allOf (an intersection) cannot be made structural");
  if (node.not !== undefined) fail(path, "`not` is not supported");
  return convertTyped(node, path, context);
}

function resolved(node: JsonSchema, path: string, context: Context): [JsonSchema, Context] {
  const ref = String(node.$ref);
  const name = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref)?.[1];
  const target = name === undefined ? undefined : context.definitions[name];
  if (!isRecord(target)) fail(path, `cannot resolve ${ref}`);
  if (context.inlining.includes(ref)) fail(path, `${ref} is recursive; a CRD schema cannot be`);
  return [
    { ...target, ...without(node, ["$ref"]) },
    { ...context, inlining: [...context.inlining, ref] },
  ];
}

function convertTyped(node: JsonSchema, path: string, context: Context): JsonSchema {
  const type = node.type;
  const free = node["x-kubernetes-preserve-unknown-fields"] === true;
  const intOrString = node["x-kubernetes-int-or-string"] === true;
  if (typeof type !== "string" && !free && !intOrString) fail(path, "has no type");
  const result: JsonSchema = typeof type === "string" ? { type } : {};
  for (const key of kept) if (node[key] !== undefined) result[key] = node[key];
  if (node.const !== undefined) result.enum = [node.const];
  if (typeof node.format === "string" && knownFormats.has(node.format)) result.format = node.format;
  Object.assign(result, convertChildren(node, path, context));
  return result;
}

function convertChildren(node: JsonSchema, path: string, context: Context): JsonSchema {
  const children: JsonSchema = {};
  if (isRecord(node.properties)) {
    children.properties = Object.fromEntries(
      Object.entries(node.properties).map(([key, value]) => [
        key,
        convert(asSchema(value, `${path}.${key}`), `${path}.${key}`, context),
      ]),
    );
  }
  if (isRecord(node.items)) children.items = convert(node.items, `${path}[]`, context);
  else if (node.type === "array") fail(path, "an array needs one schema for its items");
  const additional = node.additionalProperties;
  // A map: properties and additionalProperties are exclusive in a CRD, and `false` is what pruning does.
  if (isRecord(additional)) {
    if (isRecord(node.properties)) fail(path, "has both properties and a schema for other properties");
    children.additionalProperties = convert(additional, `${path}.*`, context);
  } else if (additional === true) children["x-kubernetes-preserve-unknown-fields"] = true;
  return children;
}

function without(schema: JsonSchema, keys: readonly string[]): JsonSchema {
  return Object.fromEntries(Object.entries(schema).filter(([key]) => !keys.includes(key)));
}

function asSchema(value: unknown, path: string): JsonSchema {
  if (!isRecord(value)) fail(path, "is not a schema");
  return value;
}

// ---- unions ---------------------------------------------------------------------------------------

/** The branches of nested unions, flattened: zod writes anyOf [oneOf [...], {...}] for a union of unions. */
function flatBranches(branches: readonly unknown[], path: string, context: Context): JsonSchema[] {
  return branches.flatMap((branch) => {
    const schema = asSchema(branch, path);
    if (typeof schema.$ref === "string")
      return flatBranches([resolved(schema, path, context)[0]], path, context);
    const inner = schema.anyOf ?? schema.oneOf;
    return Array.isArray(inner) ? flatBranches(inner, path, context) : [schema];
  });
}

function convertUnion(node: JsonSchema, raw: readonly unknown[], path: string, context: Context): JsonSchema {
  const branches = flatBranches(raw, path, context).map((branch) => convert(branch, path, context));
  const types = new Set(branches.map((branch) => branch.type));
  const description = typeof node.description === "string" ? { description: node.description } : {};
  if (isIntOrString(types))
    return { "x-kubernetes-int-or-string": true, ...description, ...stringBounds(branches) };
  const [first, ...rest] = branches;
  if (first === undefined || types.size !== 1)
    fail(path, `a union of ${[...types].join(", ")} cannot be structural`);
  const skeleton = rest.reduce((merged, branch) => merge(merged, branch, path), first);
  if (first.type !== "object") return { ...skeleton, ...description };
  return objectUnion(skeleton, branches, description);
}

/** The string branch's length bounds, which an int-or-string keeps (they bound its CEL rules' cost). */
function stringBounds(branches: readonly JsonSchema[]): JsonSchema {
  const text = branches.find((branch) => branch.type === "string") ?? {};
  return Object.fromEntries(
    (["minLength", "maxLength"] as const).flatMap((key) =>
      text[key] === undefined ? [] : [[key, text[key]]],
    ),
  );
}

function isIntOrString(types: ReadonlySet<unknown>): boolean {
  return types.size === 2 && types.has("string") && (types.has("integer") || types.has("number"));
}

function objectUnion(
  skeleton: JsonSchema,
  branches: readonly JsonSchema[],
  description: JsonSchema,
): JsonSchema {
  const open = without(skeleton, ["required", "x-kubernetes-validations"]);
  const markers = branches.map((_, index) => discriminator(branches, index) ?? uniqueField(branches, index));
  const validations = branches.flatMap((branch, index) => {
    const marker = markers[index];
    if (marker === undefined) return [];
    const exclusive = exclusiveFieldsRule(skeleton, branch, marker);
    return [...branchRules(branch, marker), ...(exclusive === undefined ? [] : [exclusive])];
  });
  return {
    ...open,
    ...description,
    anyOf: branches.map(valueValidations),
    ...(validations.length > 0 ? { "x-kubernetes-validations": validations } : {}),
  };
}

/**
 * A branch's own CEL rules, which a junctor may not hold, moved to the skeleton and guarded by the branch's
 * marker, so they apply to that branch alone (the mode rules of a pod step, not of a wait step).
 */
function branchRules(branch: JsonSchema, marker: Marker): JsonSchema[] {
  return asList(branch["x-kubernetes-validations"]).flatMap((rule) =>
    isRecord(rule) && typeof rule.rule === "string"
      ? [{ ...rule, rule: `!(${marker.condition}) || (${rule.rule})` }]
      : [],
  );
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A branch inside a junctor: its validations, without the keywords only the skeleton may hold. */
export function valueValidations(schema: JsonSchema): JsonSchema {
  const result: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (notInJunctors.has(key) || key === "anyOf" || key === "oneOf") continue;
    const inner = nestedValidations(key, value);
    if (inner === undefined) result[key] = value;
    else if (Object.keys(inner).length > 0) result[key] = inner;
  }
  return result;
}

/** The validations of a node's properties or items; undefined for any other keyword. */
function nestedValidations(key: string, value: unknown): JsonSchema | undefined {
  if (key === "items" && isRecord(value)) return valueValidations(value);
  if (key !== "properties" || !isRecord(value)) return undefined;
  return Object.fromEntries(
    Object.entries(value).flatMap(([name, child]) => {
      const inner = valueValidations(asSchema(child, name));
      return Object.keys(inner).length > 0 ? [[name, inner]] : [];
    }),
  );
}

// ---- merging the branches of a union into one skeleton ----------------------------------------------

/** Keywords that narrow a value: a skeleton keeps one only where every branch has it the same. */
const narrowing = [
  "pattern",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minItems",
  "maxItems",
  "x-kubernetes-validations",
  "anyOf",
] as const;

function merge(a: JsonSchema, b: JsonSchema, path: string): JsonSchema {
  if (a["x-kubernetes-int-or-string"] === true && b["x-kubernetes-int-or-string"] === true) return a;
  if (a.type !== b.type) fail(path, `its branches give it the types ${String(a.type)} and ${String(b.type)}`);
  const differing = narrowing.filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]));
  const result = without(a, [...differing, "enum"]);
  const values = mergedEnum(a.enum, b.enum);
  if (values !== undefined) result.enum = values;
  if (a.description === undefined && b.description !== undefined) result.description = b.description;
  return { ...result, ...mergedChildren(a, b, path) };
}

function mergedEnum(a: unknown, b: unknown): unknown[] | undefined {
  if (!Array.isArray(a) || !Array.isArray(b)) return undefined;
  const left: unknown[] = a;
  const right: unknown[] = b;
  return [...left, ...right.filter((value) => !left.includes(value))];
}

function mergedChildren(a: JsonSchema, b: JsonSchema, path: string): JsonSchema {
  const children: JsonSchema = {};
  if (isRecord(a.properties) || isRecord(b.properties)) {
    children.properties = mergedProperties(a.properties, b.properties, path);
    children.required = asList(a.required).filter((name) => asList(b.required).includes(name));
  }
  if (isRecord(a.items) && isRecord(b.items)) children.items = merge(a.items, b.items, `${path}[]`);
  if (isRecord(a.additionalProperties) && isRecord(b.additionalProperties)) {
    children.additionalProperties = merge(a.additionalProperties, b.additionalProperties, `${path}.*`);
  }
  return children;
}

function mergedProperties(a: unknown, b: unknown, path: string): JsonSchema {
  const left = isRecord(a) ? a : {};
  const right = isRecord(b) ? b : {};
  const result: JsonSchema = { ...left };
  for (const [key, value] of Object.entries(right)) {
    const existing = left[key];
    result[key] = isRecord(existing)
      ? merge(existing, asSchema(value, `${path}.${key}`), `${path}.${key}`)
      : value;
  }
  return result;
}

// ---- keeping the branches apart -----------------------------------------------------------------------

interface Marker {
  /** CEL: true when the object is meant as this branch. */
  readonly condition: string;
  /** How the message names the branch: `fault: scale`, `wait`. */
  readonly label: string;
}

/** A field whose single value tells this branch from every other one: a discriminator (fault: scale). */
function discriminator(branches: readonly JsonSchema[], index: number): Marker | undefined {
  const own = propertiesOf(branches[index]);
  for (const [name, schema] of Object.entries(own)) {
    const value = singleValue(schema);
    if (typeof value !== "string") continue;
    const distinct = branches.every((other, at) => {
      if (at === index) return true;
      const theirs = propertiesOf(other)[name];
      return theirs === undefined || (singleValue(theirs) !== undefined && singleValue(theirs) !== value);
    });
    if (distinct)
      return { condition: `has(self.${name}) && self.${name} == '${value}'`, label: `${name}: ${value}` };
  }
  return undefined;
}

/** A required field no other branch has (a probe's http, a wait step's wait). */
function uniqueField(branches: readonly JsonSchema[], index: number): Marker | undefined {
  const required = asList(branches[index]?.required).filter((name) => typeof name === "string");
  const unique = required.find((name) =>
    branches.every((other, at) => at === index || propertiesOf(other)[name] === undefined),
  );
  return unique === undefined ? undefined : { condition: `has(self.${unique})`, label: unique };
}

function propertiesOf(schema: JsonSchema | undefined): Record<string, JsonSchema> {
  const properties = schema?.properties;
  return isRecord(properties) ? (properties as Record<string, JsonSchema>) : {};
}

function singleValue(schema: unknown): unknown {
  return isRecord(schema) && Array.isArray(schema.enum) && schema.enum.length === 1
    ? schema.enum[0]
    : undefined;
}

/**
 * A CEL rule: an object meant as `branch` holds none of the fields only other branches have, down to the
 * fields of its nested objects (a scale step's params hold no config-drift key). Undefined when nothing
 * foreign could appear.
 */
function exclusiveFieldsRule(
  skeleton: JsonSchema,
  branch: JsonSchema,
  marker: Marker,
): { rule: string; message: string } | undefined {
  const foreign = foreignFields(skeleton, branch, "self");
  if (foreign.length === 0) return undefined;
  return {
    rule: `!(${marker.condition}) || (${foreign.map((field) => `!${field}`).join(" && ")})`,
    message: `with ${marker.label}, only these fields are allowed: ${allowedFields(skeleton, branch)}`,
  };
}

/** CEL `has(...)` tests, guarded by their parents', for the fields of `skeleton` that `branch` lacks. */
function foreignFields(skeleton: JsonSchema, branch: JsonSchema, at: string): string[] {
  const mine = propertiesOf(branch);
  return Object.entries(propertiesOf(skeleton)).flatMap(([name, schema]) => {
    const own = mine[name];
    if (own === undefined) return [`has(${at}.${name})`];
    return foreignFields(schema, own, `${at}.${name}`).map((test) => `(has(${at}.${name}) && ${test})`);
  });
}

/** The branch's fields, and those of its nested objects whose fields differ between the branches. */
function allowedFields(skeleton: JsonSchema, branch: JsonSchema): string {
  const own = propertiesOf(branch);
  const nested = Object.entries(own).flatMap(([name, schema]) => {
    const shared = propertiesOf(skeleton)[name];
    if (shared === undefined || foreignFields(shared, schema, "self").length === 0) return [];
    return [`${name}: ${Object.keys(propertiesOf(schema)).join(", ")}`];
  });
  const fields = Object.keys(own).join(", ");
  return nested.length === 0 ? fields : `${fields} (${nested.join("; ")})`;
}

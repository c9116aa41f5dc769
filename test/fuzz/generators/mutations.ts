import fc from "fast-check";
import type { DocKind } from "./documents.js";
import { formatPath, ruleAt, type Segment } from "./field-rules.js";
import {
  anyText,
  hostileDurations,
  hostileKeys,
  hostileNames,
  hostileNumbers,
  hostileNumberTexts,
  hostileUrls,
} from "./hostile.js";

/**
 * Mutations of a valid document: a value replaced by a hostile one, a field deleted, an unknown field
 * added, a type changed, a hostile key added to a map. Each says what it did and, when the field rules
 * are sure the result is invalid, which field the refusal must name.
 */

export interface Mutation {
  /** What was done, for the failure list: "replace spec.method[0].params.name with \"../..\"". */
  readonly description: string;
  /** The class of attack, for grouping failures. */
  readonly attack: string;
  /** Set when the result is certainly invalid: the field (formatted) that the refusal must name. */
  readonly mustRefuse?: string;
}

export interface MutatedDoc {
  readonly kind: DocKind;
  readonly doc: unknown;
  readonly mutation: Mutation;
}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === "object" && value !== null;
}

/** Every path in the document, containers included, parents before children. */
export function pathsOf(value: unknown, prefix: Segment[] = []): Segment[][] {
  if (!isContainer(value)) return [];
  const entries: [Segment, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function containerAt(doc: unknown, path: readonly Segment[]): Container | undefined {
  let node: unknown = doc;
  for (const segment of path) {
    if (!isContainer(node)) return undefined;
    node = (node as Record<Segment, unknown>)[segment];
  }
  return isContainer(node) ? node : undefined;
}

/** Sets an own property, even one named __proto__ (as YAML's reader does), so the document holds it. */
function setOwn(container: Container, key: Segment, value: unknown): void {
  Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true });
}

function valuesFor(secret: string): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<unknown>(...hostileNames) },
    { weight: 3, arbitrary: fc.constantFrom<unknown>(...hostileDurations) },
    { weight: 2, arbitrary: fc.constantFrom<unknown>(...hostileNumbers, ...hostileNumberTexts) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(...hostileUrls(secret)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<unknown>(
        null,
        true,
        false,
        [],
        {},
        ["a"],
        { a: 1 },
        "@every 0s",
        "@every 1ms",
      ),
    },
    { weight: 1, arbitrary: anyText() },
  );
}

function describeValue(value: unknown): string {
  const text = typeof value === "number" ? String(value) : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

function replace(base: MutatedDoc["doc"], kind: DocKind, path: Segment[], value: unknown): MutatedDoc {
  const doc = clone(base);
  const parent = containerAt(doc, path.slice(0, -1));
  const key = path[path.length - 1];
  if (parent !== undefined && key !== undefined) setOwn(parent, key, value);
  const bad = ruleAt(kind, path).valueIsBad?.(value) === true;
  return {
    kind,
    doc,
    mutation: {
      description: `replace ${formatPath(path)} with ${describeValue(value)}`,
      attack: "hostile value",
      ...(bad ? { mustRefuse: formatPath(path) } : {}),
    },
  };
}

function remove(base: unknown, kind: DocKind, path: Segment[]): MutatedDoc {
  const doc = clone(base);
  const parent = containerAt(doc, path.slice(0, -1));
  const key = path[path.length - 1];
  if (Array.isArray(parent) && typeof key === "number") parent.splice(key, 1);
  else if (parent !== undefined && key !== undefined) Reflect.deleteProperty(parent, key);
  const required = ruleAt(kind, path).required === true && !Array.isArray(parent);
  return {
    kind,
    doc,
    mutation: {
      description: `delete ${formatPath(path)}`,
      attack: "deleted field",
      ...(required ? { mustRefuse: formatPath(path) } : {}),
    },
  };
}

/** A key added to a mapping: unknown in a strict one, a hostile selector key in a free map. */
function addKey(
  base: unknown,
  kind: DocKind,
  path: Segment[],
  key: string,
  value: unknown,
): MutatedDoc | undefined {
  const doc = clone(base);
  const target = containerAt(doc, path);
  if (target === undefined || Array.isArray(target) || Object.hasOwn(target, key)) return undefined;
  setOwn(target, key, value);
  const rule = ruleAt(kind, path);
  const bad = rule.strict === true || rule.keyIsBad?.(key) === true;
  return {
    kind,
    doc,
    mutation: {
      description: `add ${formatPath([...path, key])}: ${describeValue(value)}`,
      attack: rule.keyIsBad === undefined ? "unknown field" : "hostile map key",
      ...(bad ? { mustRefuse: formatPath(path) } : {}),
    },
  };
}

/** One mutation of `base`, drawn among all its paths. */
export function mutate(kind: DocKind, base: unknown, secret: string): fc.Arbitrary<MutatedDoc> {
  const paths = pathsOf(base);
  const mappings = [
    [] as Segment[],
    ...paths.filter((path) => {
      const node = containerAt(base, path);
      return node !== undefined && !Array.isArray(node);
    }),
  ];
  const atPath = fc.constantFrom(...paths);
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.tuple(atPath, valuesFor(secret)).map(([path, value]) => replace(base, kind, path, value)),
    },
    { weight: 2, arbitrary: atPath.map((path) => remove(base, kind, path)) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...mappings),
          fc.constantFrom("unknownField", ...hostileKeys),
          fc.constantFrom<unknown>("x", 1, null),
        )
        .map(
          ([path, key, value]) => addKey(base, kind, path, key, value) ?? replace(base, kind, path, value),
        ),
    },
  );
}

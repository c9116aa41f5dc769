import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { resourceKinds } from "../../experiments/files/resources.js";
import { chaosMeshGroup, installedByAnnotation, kindDefinitions } from "./definitions.js";
import type { CustomResourceDefinition } from "./generate.js";
import { crdFiles, renderCrd } from "./generate.js";
import type { JsonSchema } from "./structural.js";

/**
 * deploy/crds/ is generated: these tests fail when it is stale, and hold every schema in it to the rules
 * of a structural schema, so the API server accepts what `kubectl apply -f deploy/crds/` sends.
 */

const repoRoot = join(import.meta.dirname, "..", "..", "..");

function yamlFilesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return yamlFilesUnder(path);
    return entry.name.endsWith(".yaml") ? [relative(repoRoot, path)] : [];
  });
}

interface Version {
  readonly name: string;
  readonly subresources: Record<string, unknown>;
  readonly additionalPrinterColumns: { name: string; jsonPath: string }[];
  readonly schema: { readonly openAPIV3Schema: JsonSchema };
}

function versionOf(crd: CustomResourceDefinition): Version {
  const spec = crd.spec as { versions: Version[] };
  const [version] = spec.versions;
  if (version === undefined) throw new Error("no version");
  return version;
}

function specOf(crd: CustomResourceDefinition): Record<string, unknown> {
  return crd.spec as Record<string, unknown>;
}

const forbiddenInJunctors = ["type", "description", "default", "additionalProperties", "nullable"];

function isTyped(schema: JsonSchema): boolean {
  return (
    typeof schema.type === "string" ||
    schema["x-kubernetes-int-or-string"] === true ||
    schema["x-kubernetes-preserve-unknown-fields"] === true
  );
}

/** What is wrong with one node, children aside. */
function nodeProblems(schema: JsonSchema, path: string, inJunctor: boolean): string[] {
  const checks: [boolean, string][] = [
    [!inJunctor && !isTyped(schema), "no type"],
    ["$ref" in schema || "oneOf" in schema || "allOf" in schema, "$ref/oneOf/allOf"],
    ["default" in schema || "const" in schema, "default/const"],
    ["additionalProperties" in schema && "properties" in schema, "properties and additionalProperties"],
    ...forbiddenInJunctors.map((key): [boolean, string] => [
      inJunctor && key in schema,
      `${key} in a junctor`,
    ]),
  ];
  return checks.flatMap(([broken, rule]) => (broken ? [`${path}: ${rule}`] : []));
}

function childSchemas(schema: JsonSchema, path: string): [JsonSchema, string][] {
  const properties = Object.entries(fieldsOf(schema)).map(([name, child]): [JsonSchema, string] => [
    child,
    `${path}.${name}`,
  ]);
  const others = (["items", "additionalProperties"] as const).flatMap((key): [JsonSchema, string][] => {
    const child = schema[key];
    return typeof child === "object" && child !== null ? [[child as JsonSchema, `${path}.${key}`]] : [];
  });
  return [...properties, ...others];
}

function fieldsOf(schema: JsonSchema | undefined): Record<string, JsonSchema> {
  return (schema?.properties ?? {}) as Record<string, JsonSchema>;
}

/** Every place a schema breaks a rule of structural schemas, as "path: rule". */
function structuralProblems(schema: JsonSchema, path: string, inJunctor: boolean): string[] {
  const branches = (schema.anyOf ?? []) as JsonSchema[];
  return [
    ...nodeProblems(schema, path, inJunctor),
    ...childSchemas(schema, path).flatMap(([child, at]) => structuralProblems(child, at, inJunctor)),
    ...branches.flatMap((branch) => [
      ...structuralProblems(branch, `${path}.anyOf`, true),
      ...fieldsOutsideJunctor(branch, schema, `${path}.anyOf`),
    ]),
  ];
}

/** A field a junctor's branch speaks of must be in the skeleton too. */
function fieldsOutsideJunctor(branch: JsonSchema, skeleton: JsonSchema, path: string): string[] {
  const own = (skeleton.properties ?? {}) as Record<string, JsonSchema>;
  return Object.entries((branch.properties ?? {}) as Record<string, JsonSchema>).flatMap(([name, child]) => {
    const outside = own[name];
    if (outside === undefined) return [`${path}.${name}: not in the skeleton`];
    return fieldsOutsideJunctor(child, outside, `${path}.${name}`);
  });
}

describe("the structural check these tests apply", () => {
  it("finds a node without a type, a typed branch, and a branch's field missing from the skeleton", () => {
    const bad: JsonSchema = {
      type: "object",
      properties: { a: {} },
      anyOf: [{ type: "object", properties: { b: { minLength: 1 } } }],
    };
    expect(structuralProblems(bad, "", false)).toEqual([
      ".a: no type",
      ".anyOf: type in a junctor",
      ".anyOf.b: not in the skeleton",
    ]);
  });
});

describe("deploy/crds/", () => {
  const files = crdFiles();

  it("holds exactly the generated CRDs, as generated (regenerate: npm run crds)", () => {
    expect(yamlFilesUnder(join(repoRoot, "deploy", "crds")).sort()).toEqual(
      files.map((file) => file.path).sort(),
    );
    for (const file of files) {
      // Compared as data, so prettier's layout of the YAML (npm run crds runs it) is not a difference.
      const committed = readFileSync(join(repoRoot, file.path), "utf8");
      expect(parse(committed), file.path).toEqual(parse(renderCrd(file.crd)));
      expect(committed.startsWith("# Generated by `npm run crds`"), file.path).toBe(true);
    }
  });

  it("has a CRD for every resource kind of broadside.dev, and PodChaos, Schedule and NetworkChaos of chaos-mesh.org", () => {
    const names = files.map((file) => (file.crd.metadata as { name: string }).name);
    expect(names).toEqual([
      "podchaos.broadside.dev",
      "schedules.broadside.dev",
      "configdrifts.broadside.dev",
      "resourcesqueezes.broadside.dev",
      "scales.broadside.dev",
      "experiments.broadside.dev",
      "networkchaos.broadside.dev",
      "podchaos.chaos-mesh.org",
      "schedules.chaos-mesh.org",
      "networkchaos.chaos-mesh.org",
    ]);
    expect(kindDefinitions.map((definition) => definition.kind).sort()).toEqual([...resourceKinds].sort());
  });

  it.each(files.map((file) => [file.path, file.crd] as const))("%s is structural", (_, crd) => {
    expect(structuralProblems(versionOf(crd).schema.openAPIV3Schema, "", false)).toEqual([]);
  });

  it("keeps the bounds of the files' schemas: names, durations, counts, enums", () => {
    const podChaos = files[0]?.crd;
    if (podChaos === undefined) throw new Error("no PodChaos");
    const spec = fieldsOf(versionOf(podChaos).schema.openAPIV3Schema).spec ?? {};
    const fields = fieldsOf(spec);
    expect(fields.gracePeriod).toMatchObject({ type: "integer", minimum: 0, maximum: 86400 });
    expect(fields.action).toMatchObject({ enum: ["pod-kill", "pod-failure", "container-kill"] });
    const duration = fields.duration ?? {};
    expect(duration).toMatchObject({ type: "string", maxLength: 64 });
    expect(typeof duration.pattern).toBe("string");
    expect(JSON.stringify(duration["x-kubernetes-validations"])).toContain("duration('168h')");
    expect(fieldsOf(fields.selector).namespaces?.items).toMatchObject({
      maxLength: 63,
      pattern: "^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$",
    });
    expect(spec["x-kubernetes-validations"]).toContainEqual(
      expect.objectContaining({
        fieldPath: ".value",
        message: "is required for mode fixed, fixed-percent, random-max-percent",
      }),
    );
  });

  it("gives every kind a status subresource, printer columns, short names and the chaos category", () => {
    for (const { crd } of files) {
      const version = versionOf(crd);
      expect(version.subresources).toEqual({ status: {} });
      expect(version.additionalPrinterColumns.map((column) => column.name)).toContain("Age");
      const status = fieldsOf(version.schema.openAPIV3Schema).status;
      expect(Object.keys(fieldsOf(status))).toEqual(
        expect.arrayContaining(["observedGeneration", "conditions", "targets"]),
      );
    }
    const broadside = files.filter((file) => specOf(file.crd).group === "broadside.dev");
    for (const { crd } of broadside) {
      expect((specOf(crd).names as { categories: string[] }).categories).toEqual(["chaos", "broadside"]);
    }
  });

  it("marks the chaos-mesh.org CRDs as installed by Broadside, with the same schemas as Broadside's", () => {
    const chaosMesh = files.filter((file) => specOf(file.crd).group === chaosMeshGroup);
    expect(chaosMesh).toHaveLength(3);
    for (const { crd } of chaosMesh) {
      expect((crd.metadata as { annotations: Record<string, string> }).annotations).toEqual({
        [installedByAnnotation]: "broadside",
      });
      const kind = (specOf(crd).names as { kind: string }).kind;
      const own = files.find(
        (file) =>
          specOf(file.crd).group === "broadside.dev" &&
          (specOf(file.crd).names as { kind: string }).kind === kind,
      );
      expect(versionOf(crd).schema).toEqual(own === undefined ? undefined : versionOf(own.crd).schema);
    }
  });
});

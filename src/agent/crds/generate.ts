import { z } from "zod";
import { stringify } from "yaml";
import { celRules } from "../../experiments/files/cel.js";
import { resourceSpecs } from "../../experiments/files/resources.js";
import type { KindDefinition } from "./definitions.js";
import {
  broadsideCategories,
  broadsideGroup,
  chaosMeshGroup,
  chaosMeshKinds,
  installedByAnnotation,
  kindDefinitions,
  resourceVersion,
} from "./definitions.js";
import type { JsonSchema } from "./structural.js";
import { toStructural } from "./structural.js";

/**
 * The CustomResourceDefinitions of Broadside's resources, generated from the zod schemas that read the
 * files (experiments/files/resources.ts) and the status schemas (status.ts): zod writes JSON Schema in
 * its input form (what a user writes, "30s" rather than a Duration), with the CEL rules attached to the
 * schemas, and structural.ts makes it a schema the API server accepts. `npm run crds` writes them to
 * deploy/crds/; a test fails when the committed files differ.
 */

export type CustomResourceDefinition = Record<string, unknown>;

/** The structural OpenAPI schema of a zod schema, with its CEL rules. */
export function crdSchemaOf(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: "openapi-3.0",
    io: "input",
    // Refinements that neither JSON Schema nor a CEL rule can say stay with the agent, as with the files.
    unrepresentable: "throw",
    override: (context) => {
      const meta = celRules.get(context.zodSchema);
      if (meta !== undefined)
        context.jsonSchema["x-kubernetes-validations"] = meta.rules.map((rule) => ({ ...rule }));
    },
  }) as JsonSchema;
  return ordered(toStructural(json));
}

/** Keys in the order a reader of the YAML expects: what a node is, then what it holds, then its rules. */
const keyOrder = [
  "type",
  "description",
  "format",
  "nullable",
  "x-kubernetes-int-or-string",
  "x-kubernetes-preserve-unknown-fields",
  "enum",
  "pattern",
  "minLength",
  "maxLength",
  "minimum",
  "exclusiveMinimum",
  "maximum",
  "exclusiveMaximum",
  "minItems",
  "maxItems",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "required",
  "properties",
  "additionalProperties",
  "items",
  "anyOf",
  "x-kubernetes-validations",
];

function rank(key: string): number {
  const index = keyOrder.indexOf(key);
  return index === -1 ? keyOrder.length : index;
}

/** A schema with its keys (and its children's) in keyOrder; property names keep their order. */
function ordered(schema: JsonSchema): JsonSchema {
  const entries = Object.entries(schema).sort(([a], [b]) => rank(a) - rank(b));
  return Object.fromEntries(entries.map(([key, value]) => [key, orderedValue(key, value)]));
}

function orderedValue(key: string, value: unknown): unknown {
  if (key === "properties" && isSchemaMap(value)) {
    return Object.fromEntries(Object.entries(value).map(([name, child]) => [name, ordered(child)]));
  }
  if ((key === "items" || key === "additionalProperties") && isSchema(value)) return ordered(value);
  if (key === "anyOf" && Array.isArray(value)) return value.map((branch: JsonSchema) => ordered(branch));
  return value;
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSchemaMap(value: unknown): value is Record<string, JsonSchema> {
  return isSchema(value);
}

function rootSchema(definition: KindDefinition): JsonSchema {
  return {
    type: "object",
    description: definition.description,
    required: ["spec"],
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      spec: crdSchemaOf(resourceSpecs[definition.kind]),
      status: crdSchemaOf(definition.status),
    },
  };
}

interface GroupOptions {
  readonly group: string;
  readonly categories: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
}

export function customResourceDefinition(
  definition: KindDefinition,
  options: GroupOptions,
): CustomResourceDefinition {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${definition.plural}.${options.group}`,
      labels: { "app.kubernetes.io/part-of": "broadside" },
      ...(options.annotations === undefined ? {} : { annotations: { ...options.annotations } }),
    },
    spec: {
      group: options.group,
      names: {
        kind: definition.kind,
        listKind: `${definition.kind}List`,
        plural: definition.plural,
        singular: definition.singular,
        shortNames: [...definition.shortNames],
        categories: [...options.categories],
      },
      scope: "Namespaced",
      versions: [
        {
          name: resourceVersion,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: definition.columns.map((column) => ({ ...column })),
          schema: { openAPIV3Schema: rootSchema(definition) },
        },
      ],
    },
  };
}

export interface CrdFile {
  /** Relative to the repository's root. */
  readonly path: string;
  readonly crd: CustomResourceDefinition;
}

/** Chaos Mesh's own short names would clash with a real Chaos Mesh's; the drop-ins go without. */
function chaosMeshDefinition(definition: KindDefinition): KindDefinition {
  return { ...definition, shortNames: [] };
}

/** Every CRD file: Broadside's in deploy/crds/, the chaos-mesh.org drop-ins in deploy/crds/chaos-mesh/. */
export function crdFiles(): CrdFile[] {
  const broadside = kindDefinitions.map((definition) => ({
    path: `deploy/crds/${definition.plural}.${broadsideGroup}.yaml`,
    crd: customResourceDefinition(definition, { group: broadsideGroup, categories: broadsideCategories }),
  }));
  const chaosMesh = kindDefinitions
    .filter((definition) => chaosMeshKinds.includes(definition.kind))
    .map((definition) => ({
      path: `deploy/crds/chaos-mesh/${definition.plural}.${chaosMeshGroup}.yaml`,
      crd: customResourceDefinition(chaosMeshDefinition(definition), {
        group: chaosMeshGroup,
        categories: ["chaos-mesh"],
        annotations: { [installedByAnnotation]: "broadside" },
      }),
    }));
  return [...broadside, ...chaosMesh];
}

const header =
  "# Generated by `npm run crds` from the zod schemas in src/experiments/files/resources.ts and\n" +
  "# src/agent/crds/; do not edit (src/agent/crds/generate.test.ts fails when this file is stale).\n";

/** The file's text: the header, then the CRD as YAML, as prettier leaves it. */
export function renderCrd(crd: CustomResourceDefinition): string {
  return `${header}${stringify(crd, { lineWidth: 0 })}`;
}

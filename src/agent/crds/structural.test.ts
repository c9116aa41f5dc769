import { z } from "zod";
import { describe, expect, it } from "vitest";
import { withCel } from "../../experiments/files/cel.js";
import { crdSchemaOf } from "./generate.js";
import type { JsonSchema } from "./structural.js";
import { StructuralSchemaError, toStructural } from "./structural.js";

/**
 * The rules of a structural schema (Kubernetes: "Specifying a structural schema"), each shown on a small
 * schema; the generated CRDs are walked against the same rules in generate.test.ts.
 */

const stepSchema = z.discriminatedUnion("fault", [
  z.strictObject({ fault: z.literal("kill"), selector: z.string().min(1), grace: z.number().int().max(60) }),
  z.strictObject({
    fault: z.literal("scale"),
    params: z.strictObject({ name: z.string(), replicas: z.number().int().min(0).max(1000) }),
  }),
  z.strictObject({
    fault: z.literal("drift"),
    params: z.strictObject({ name: z.string(), key: z.string().regex(/^[a-z]+$/) }),
  }),
]);

function properties(schema: JsonSchema): Record<string, JsonSchema> {
  return (schema.properties ?? {}) as Record<string, JsonSchema>;
}

describe("a union of objects becomes one object the API server can prune", () => {
  const schema = crdSchemaOf(stepSchema);

  it("has every branch's fields in one typed skeleton, nested fields merged", () => {
    expect(schema.type).toBe("object");
    expect(Object.keys(properties(schema))).toEqual(["fault", "selector", "grace", "params"]);
    expect(Object.keys(properties(properties(schema).params ?? {}))).toEqual(["name", "replicas", "key"]);
    expect(properties(schema).fault).toEqual({ type: "string", enum: ["kill", "scale", "drift"] });
  });

  it("keeps each branch's validations under anyOf, with no type, description or additionalProperties there", () => {
    const branches = schema.anyOf as JsonSchema[];
    expect(branches).toHaveLength(3);
    expect(branches[1]).toEqual({
      required: ["fault", "params"],
      properties: {
        fault: { enum: ["scale"] },
        params: { required: ["name", "replicas"], properties: { replicas: { minimum: 0, maximum: 1000 } } },
      },
    });
    expect(JSON.stringify(branches)).not.toMatch(/"(type|description|default|additionalProperties)"/);
  });

  it("keeps the branches apart with a CEL rule per branch, down to nested fields", () => {
    const rules = schema["x-kubernetes-validations"] as { rule: string; message: string }[];
    const scale = rules.find((rule) => rule.message.startsWith("with fault: scale"));
    expect(scale?.rule).toBe(
      "!(has(self.fault) && self.fault == 'scale') || " +
        "(!has(self.selector) && !has(self.grace) && !(has(self.params) && has(self.params.key)))",
    );
    expect(scale?.message).toBe(
      "with fault: scale, only these fields are allowed: fault, params (params: name, replicas)",
    );
  });

  it("guards a branch's own CEL rules with its discriminator, since a junctor cannot hold them", () => {
    const guarded = z.union([
      withCel(z.strictObject({ kind: z.literal("a"), n: z.number() }), {
        rule: "self.n > 1",
        message: "small",
      }),
      z.strictObject({ kind: z.literal("b") }),
    ]);
    const rules = crdSchemaOf(guarded)["x-kubernetes-validations"] as { rule: string }[];
    expect(rules.map((rule) => rule.rule)).toContain("!(has(self.kind) && self.kind == 'a') || (self.n > 1)");
  });

  it("tells branches apart by a required field of their own when there is no discriminator", () => {
    const probe = z.union([z.strictObject({ http: z.string() }), z.strictObject({ grpc: z.string() })]);
    const rules = crdSchemaOf(probe)["x-kubernetes-validations"] as { rule: string }[];
    expect(rules.map((rule) => rule.rule)).toEqual([
      "!(has(self.http)) || (!has(self.grpc))",
      "!(has(self.grpc)) || (!has(self.http))",
    ]);
  });
});

describe("what a CRD schema may not hold is rewritten or dropped", () => {
  it("inlines references, and refuses a recursive one", () => {
    const inlined = toStructural({
      type: "object",
      properties: { a: { $ref: "#/$defs/name" } },
      $defs: { name: { type: "string", maxLength: 63 } },
    });
    expect(JSON.stringify(inlined)).not.toContain("$ref");
    expect(properties(inlined).a).toEqual({ type: "string", maxLength: 63 });
    expect(() =>
      toStructural({
        type: "object",
        properties: { next: { $ref: "#/$defs/node" } },
        $defs: { node: { type: "object", properties: { next: { $ref: "#/$defs/node" } } } },
      }),
    ).toThrow(/\.next\.next: #\/\$defs\/node is recursive/);
  });

  it("makes a number-or-string an int-or-string, keeping the string's length bound", () => {
    expect(crdSchemaOf(z.union([z.string().max(16), z.number()]))).toEqual({
      "x-kubernetes-int-or-string": true,
      maxLength: 16,
    });
  });

  it("drops defaults, closed objects and propertyNames; turns const into enum; keeps bounds and patterns", () => {
    const schema = crdSchemaOf(
      z.strictObject({
        mode: z.literal("one").default("one"),
        count: z.number().int().min(1).max(10),
        name: z
          .string()
          .min(1)
          .max(63)
          .regex(/^[a-z]+$/),
        labels: z.record(z.string(), z.string()),
      }),
    );
    expect(schema).toEqual({
      type: "object",
      required: ["count", "name", "labels"],
      properties: {
        mode: { type: "string", enum: ["one"] },
        count: { type: "integer", minimum: 1, maximum: 10 },
        name: { type: "string", pattern: "^[a-z]+$", minLength: 1, maxLength: 63 },
        labels: { type: "object", additionalProperties: { type: "string" } },
      },
    });
  });

  it.each([
    ["a node without a type", { type: "object", properties: { anything: {} } }, /\.anything: has no type/],
    [
      "a union of different types",
      { anyOf: [{ type: "object" }, { type: "boolean" }] },
      /a union of object, boolean cannot be structural/,
    ],
    ["an intersection", { allOf: [{ type: "object" }, { type: "object" }] }, /allOf/],
  ])("refuses %s, naming where", (_, schema, message) => {
    expect(() => toStructural(schema)).toThrow(StructuralSchemaError);
    expect(() => toStructural(schema)).toThrow(message);
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { objectFaultKinds, podFaultKinds } from "../../faults/types.js";
import { faultStepSchema } from "./experiment-schema.js";
import { experimentJsonSchema, experimentJsonSchemaPath } from "./json-schema.js";

describe("the published JSON Schema of the Experiment kind", () => {
  it("is the one generated from the parser's schema (regenerate: npx tsx src/experiments/files/write-json-schema.ts)", () => {
    const committed: unknown = JSON.parse(
      readFileSync(new URL(`../../../${experimentJsonSchemaPath}`, import.meta.url), "utf8"),
    );
    expect(committed).toEqual(experimentJsonSchema());
  });

  it("is draft 2020-12 and closed to unknown fields", () => {
    const schema = experimentJsonSchema();
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.additionalProperties).toBe(false);
  });

  it("offers a step for every fault kind of the engine", () => {
    const kinds = faultStepSchema.options.map((option) => option.shape.fault.value);
    expect(kinds.sort()).toEqual([...podFaultKinds, ...objectFaultKinds].sort());
  });
});

import { z } from "zod";
import { experimentSchema } from "./experiment-schema.js";

/**
 * The JSON Schema (draft 2020-12) of Broadside's Experiment kind, published as
 * docs/schema/experiment.schema.json for editors (yaml-language-server reads a
 * `# yaml-language-server: $schema=...` comment). Generated from the very schema the parser uses, in its
 * input form (what a user writes: "30s", not a Duration); json-schema.test.ts fails when the committed file
 * differs, and `npx tsx src/experiments/files/write-json-schema.ts` writes it again.
 */

export const experimentJsonSchemaPath = "docs/schema/experiment.schema.json";

export function experimentJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(experimentSchema, {
    target: "draft-2020-12",
    io: "input",
    // Refinements (unique names, a latency threshold within the timeout) are not expressible; the parser checks them.
    unrepresentable: "throw",
  });
}

/** The file's text: two-space JSON with a final newline, as prettier leaves it. */
export function renderExperimentJsonSchema(): string {
  return `${JSON.stringify(experimentJsonSchema(), null, 2)}\n`;
}

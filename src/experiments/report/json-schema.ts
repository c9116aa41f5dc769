import { z } from "zod";
import { runReportSchema } from "./run-report.js";

/**
 * The JSON Schema (draft 2020-12) of the RunReport, published as docs/schema/run-report.schema.json for
 * whoever reads reports without Broadside: a CI step, a dashboard, another language. Generated from the
 * very schema `broadside report` reads with, in its input form: fields it does not know are allowed, as the
 * reader drops them (a later additive change does not break an older reader). json-schema.test.ts fails
 * when the committed file differs; `npm run schema:run-report` writes it again.
 */

export const runReportJsonSchemaPath = "docs/schema/run-report.schema.json";

export function runReportJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(runReportSchema, {
    target: "draft-2020-12",
    io: "input",
    // The consistency of the evidence (consistency.ts) is not expressible; the reader checks it.
    unrepresentable: "throw",
    // The types are readonly to the code that reads a report; JSON Schema's readOnly says something else
    // (a value the owning authority manages, which requests should not send), so it is left out.
    override: (context) => {
      delete context.jsonSchema.readOnly;
    },
  });
}

/** The file's text: two-space JSON with a final newline, as prettier leaves it. */
export function renderRunReportJsonSchema(): string {
  return `${JSON.stringify(runReportJsonSchema(), null, 2)}\n`;
}

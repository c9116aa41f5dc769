import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { runReportJsonSchema, runReportJsonSchemaPath } from "./json-schema.js";
import { runReportSchema } from "./run-report.js";

describe("the published JSON Schema of the RunReport", () => {
  it("is the one generated from the reader's schema (regenerate: npm run schema:run-report)", () => {
    const committed: unknown = JSON.parse(
      readFileSync(new URL(`../../../${runReportJsonSchemaPath}`, import.meta.url), "utf8"),
    );
    expect(committed).toEqual(runReportJsonSchema());
  });

  it("is draft 2020-12 and names the document it describes", () => {
    const schema = runReportJsonSchema();
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.properties).toMatchObject({
      apiVersion: { const: "broadside.dev/v1alpha1" },
      kind: { const: "RunReport" },
      schemaVersion: { const: 2 },
    });
  });

  it("requires every field the reader requires, and only those", () => {
    const shape = runReportSchema.unwrap().shape;
    // A field is optional to the reader when an object without it passes that field's schema.
    const optional = Object.entries(shape)
      .filter(([key, field]) => z.object({ [key]: field }).safeParse({}).success)
      .map(([key]) => key);
    expect(optional).toEqual(["restarts"]);
    expect(runReportJsonSchema().required).toEqual(Object.keys(shape).filter((key) => key !== "restarts"));
  });

  it("allows fields it does not know, as the reader drops them rather than refusing the file", () => {
    expect(runReportJsonSchema().additionalProperties).toBeUndefined();
  });

  it("says nothing of readOnly: the types are readonly to code, not to whoever writes a report", () => {
    expect(JSON.stringify(runReportJsonSchema())).not.toContain("readOnly");
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { notificationJsonSchema, notificationJsonSchemaPath } from "./json-schema.js";

describe("the published JSON Schema of the generic webhook's body", () => {
  it("is the one generated from the body's schema (regenerate: npx tsx src/agent/notify/write-json-schema.ts)", () => {
    const committed: unknown = JSON.parse(
      readFileSync(new URL(`../../../${notificationJsonSchemaPath}`, import.meta.url), "utf8"),
    );
    expect(committed).toEqual(notificationJsonSchema());
  });

  it("pins the version, and leaves room for fields added within it", () => {
    const schema = notificationJsonSchema();
    expect(schema.additionalProperties).toEqual({});
    expect(schema).toHaveProperty(["properties", "schemaVersion", "const"], "broadside.dev/notification/v1");
  });
});

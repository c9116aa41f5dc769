import { z } from "zod";
import { webhookBodySchema } from "./payload.js";

/**
 * The JSON Schema (draft 2020-12) of the generic webhook's body, published as
 * docs/schema/notification.schema.json for receivers to validate against. Generated from the schema the
 * body is typed by; json-schema.test.ts fails when the committed file differs, and
 * `npx tsx src/agent/notify/write-json-schema.ts && npx prettier --write docs/schema` writes it again.
 */

export const notificationJsonSchemaPath = "docs/schema/notification.schema.json";

export function notificationJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(webhookBodySchema, {
    target: "draft-2020-12",
    io: "output",
    unrepresentable: "throw",
  });
}

/** The file's text: two-space JSON with a final newline, as prettier leaves it. */
export function renderNotificationJsonSchema(): string {
  return `${JSON.stringify(notificationJsonSchema(), null, 2)}\n`;
}

import { writeFile } from "node:fs/promises";
import { notificationJsonSchemaPath, renderNotificationJsonSchema } from "../../core/notify/json-schema.js";

// Writes docs/schema/notification.schema.json; run from the repository root:
//   npx tsx src/agent/notify/write-json-schema.ts && npx prettier --write docs/schema
await writeFile(notificationJsonSchemaPath, renderNotificationJsonSchema());

import { writeFile } from "node:fs/promises";
import { renderRunReportJsonSchema, runReportJsonSchemaPath } from "./json-schema.js";

// Writes docs/schema/run-report.schema.json; run from the repository root: npm run schema:run-report
await writeFile(runReportJsonSchemaPath, renderRunReportJsonSchema());

import { writeFile } from "node:fs/promises";
import { experimentJsonSchemaPath, renderExperimentJsonSchema } from "./json-schema.js";

// Writes docs/schema/experiment.schema.json; run from the repository root:
//   npx tsx src/experiments/files/write-json-schema.ts && npx prettier --write docs/schema
await writeFile(experimentJsonSchemaPath, renderExperimentJsonSchema());

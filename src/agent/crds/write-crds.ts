import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { crdFiles, renderCrd } from "./generate.js";
import { referencePath, renderReference } from "./reference.js";

// Writes deploy/crds/ and docs/crd-reference.md (npm run crds); run from the repository root.
const files = crdFiles();
for (const file of files) {
  await mkdir(dirname(file.path), { recursive: true });
  await writeFile(file.path, renderCrd(file.crd));
}
await writeFile(referencePath, renderReference(files));

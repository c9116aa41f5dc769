import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { crdFiles, renderCrd } from "./generate.js";

// Writes deploy/crds/ (npm run crds); run from the repository root.
for (const file of crdFiles()) {
  await mkdir(dirname(file.path), { recursive: true });
  await writeFile(file.path, renderCrd(file.crd));
}

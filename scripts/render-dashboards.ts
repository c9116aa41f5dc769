// `npm run dashboards`: renders the dashboards as code (scripts/dashboards/) to deploy/grafana/*.json, and
// the same files into the Helm chart (deploy/helm/broadside/dashboards/), whose ConfigMap ships them.
// scripts/dashboards/dashboards.test.ts fails when a committed file differs from what this writes.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dashboardDirs, dashboards, dashboardText } from "./dashboards/chaos-recovery.js";

const root = fileURLToPath(new URL("..", import.meta.url));
for (const dir of dashboardDirs(root)) {
  await mkdir(dir, { recursive: true });
  for (const [file, dashboard] of Object.entries(dashboards())) {
    await writeFile(join(dir, file), dashboardText(dashboard));
    process.stderr.write(`wrote ${join(dir, file)}\n`);
  }
}

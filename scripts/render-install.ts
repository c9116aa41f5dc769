// `npm run render-install`: copies deploy/crds/ into the chart, builds helm on first use (cached by
// version, like the sandbox's binaries), and writes deploy/broadside.yaml from the chart's defaults.
import { writeFile } from "node:fs/promises";
import { readConfig } from "../src/cli/config.js";
import { processIo } from "../src/cli/options.js";
import { sandboxEnvironment } from "../src/cli/sandbox-commands.js";
import { ensureHelm } from "../src/sandbox/build.js";
import { installPaths, renderInstall, syncChartCrds } from "../src/sandbox/install-manifest.js";

const config = readConfig(process.env);
const env = sandboxEnvironment(config, processIo);
const paths = installPaths(config.packageRoot);
await syncChartCrds(paths);
if (process.argv.includes("--crds-only")) process.exit(0);
const helm = await ensureHelm({ ...env.build, onProgress: env.onProgress, clock: env.clock });
await writeFile(paths.rendered, await renderInstall(helm, paths));
processIo.err(`wrote ${paths.rendered}\n`);

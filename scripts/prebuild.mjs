#!/usr/bin/env node
// npm test's background build (scripts/test.mjs starts it, niced, its output in a log file): what the
// integration tier would otherwise build on first use, one after the other in its own time, is built while
// the tiers before it run. The control plane, helm (the chart's tests), Flux (flux.test.ts and the duel)
// and Prometheus (prometheus.test.ts), each into
// Broadside's version-keyed cache; nothing when cached. A sandbox or test that needs one of them meanwhile
// waits for this build rather than doing it twice (src/sandbox/build.ts). Runs the compiled code in dist/.
import { readConfig } from "../dist/cli/config.js";
import { processIo } from "../dist/cli/options.js";
import { sandboxEnvironment } from "../dist/cli/sandbox-commands.js";
import { ensureBinaries, ensureHelm } from "../dist/sandbox/build.js";
import { sandboxBuild } from "../dist/sandbox/sandbox.js";

const started = Date.now();
const env = sandboxEnvironment(readConfig(process.env), processIo);
const build = { ...env.build, onProgress: env.onProgress, clock: env.clock };
try {
  await ensureBinaries(build);
  await ensureHelm(build);
  await sandboxBuild(env, ["flux", "prometheus"]);
  // npm test's tiers block its event loop, so it learns of this exit late: the time is told here.
  process.stdout.write(
    `prebuild: everything built or cached, in ${Math.round((Date.now() - started) / 1000)} s\n`,
  );
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}

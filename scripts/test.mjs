#!/usr/bin/env node
// `npm test`: the whole suite, in order: build, format check, lint, typecheck, Chromium set-up (installs
// Debian's chromium when missing, see test/browser/setup-chromium.mjs), the tested Nodes' set-up, unit,
// fuzz and browser tests, integration tests (which start one sandbox, building its binaries on first use),
// and the unit tests again. The tiers run on the current Node LTS line, the last unit run on the oldest
// line `engines` admits (ADR 0021): each a
// pinned release that node-runtime.mjs fetches from the npm registry once and keeps in Broadside's cache,
// or the machine's own Node when it is of the line. vitest is started with that node, whose directory
// also comes first on the PATH, so the CLI and every process the tests start (process.execPath, or
// `node` from the PATH) run on the same line. Names every failed test
// (a "FAILED tier file > test: message" line each, since CI keeps only a run's tail), then prints one closing line,
// "tests: N passed, M failed, K skipped" (test-summary.mjs: a test its suite's failed setup kept from
// running counts as failed; a failed step the counts cannot show is named after it), and exits non-zero
// exactly when that line reports a failure.
// While the tiers before the integration tier run, scripts/prebuild.mjs builds what the integration tier
// needs (the sandbox's control plane, helm, Flux, Prometheus: about 25 minutes of Go builds on a fresh
// machine's two cores, nothing once cached) in the background, niced so the tiers in front keep their
// pace; a sandbox or test that needs one of them meanwhile waits for that build rather than doing it twice.
// Safety net: any sandbox of this run that appears during it (the integration sandbox and the ones its
// tests name after it, "it-demo" and the like) is stopped at the end, so no server outlives the run. A
// sandbox another checkout starts meanwhile is not this run's, and is left alone.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { homedir, setPriority } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { dirname, join } from "node:path";
import { chromiumPath, ensureChromium } from "../test/browser/setup-chromium.mjs";
import { ensureNetworkTools } from "../test/integration/setup-network-tools.mjs";
import { cacheRootOf, ensureNode, pathWithFirst, testedNodes } from "./node-runtime.mjs";
import { summarize } from "./test-summary.mjs";

const resultsDir = ".test-results";
/** Each tier's vitest project, and the tested Node (testedNodes' key) it runs on. */
const tiers = [
  { name: "unit", project: "unit", node: "current" },
  { name: "fuzz", project: "fuzz", node: "current" },
  { name: "browser", project: "browser", node: "current" },
  { name: "integration", project: "integration", node: "current" },
  // Last: the second line's run never holds up the current line's results.
  { name: `unit (node ${testedNodes.oldest.line})`, project: "unit", node: "oldest" },
];
const npx = "npx";
const vitest = join("node_modules", "vitest", "vitest.mjs");
const broadside = [process.execPath, "bin/broadside.js"];

/** Runs one step with its output on ours; returns its exit status (null: ended by a signal). */
function run(label, program, args, env = process.env) {
  process.stdout.write(`\n=== ${label}: ${program} ${args.join(" ")}\n`);
  const started = Date.now();
  const status = spawnSync(program, args, { stdio: "inherit", env }).status;
  process.stdout.write(`=== ${label}: ${Math.round((Date.now() - started) / 1000)} s\n`);
  return status;
}

/**
 * The tested Nodes' paths by key. One that cannot be had is a failed step, and its tiers run on the
 * machine's Node instead, so the run still says what it can.
 */
function setUpNodes(failedSteps) {
  const cacheRoot = cacheRootOf(process.env, homedir());
  const nodes = {};
  for (const [key, release] of Object.entries(testedNodes)) {
    const label = `node ${release.line} set-up`;
    process.stdout.write(`\n=== ${label}: ${release.version} (ADR 0021)\n`);
    const ensured = ensureNode(release, { cacheRoot });
    if (ensured.ok) {
      process.stdout.write(`${ensured.node} (${ensured.source})\n`);
      nodes[key] = ensured.node;
    } else {
      process.stdout.write(
        `${ensured.message}; running its tiers on ${process.execPath} ${process.version}\n`,
      );
      failedSteps.push(label);
      nodes[key] = process.execPath;
    }
  }
  return nodes;
}

/** The file a tier's JSON report goes to: "unit (node 22)" -> unit-node-22.json. */
function reportFile(tier) {
  return join(resultsDir, `${tier.name.replace(/[^a-z0-9]+/g, "-").replace(/-$/, "")}.json`);
}

/** The integration tier's sandbox (test/integration/names.ts) and those its tests name after it. */
function isThisRunsSandbox(name) {
  const integration = process.env.BROADSIDE_IT_SANDBOX ?? "it";
  return name === integration || name.startsWith(`${integration}-`);
}

function sandboxNames() {
  const result = spawnSync(broadside[0], [...broadside.slice(1), "sandbox", "list"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.split("\n").filter(Boolean) : [];
}

/**
 * Starts scripts/prebuild.mjs in a process group of its own, its output in a log file, never on ours.
 * Returns what finishPrebuild needs to report it and to make sure it does not outlive the run.
 */
function startPrebuild() {
  const logFile = join(resultsDir, "prebuild.log");
  const log = openSync(logFile, "w");
  process.stdout.write(`\n=== prebuild, in the background: scripts/prebuild.mjs (log: ${logFile})\n`);
  const child = spawn(process.execPath, ["scripts/prebuild.mjs"], {
    stdio: ["ignore", log, log],
    detached: true,
  });
  closeSync(log);
  const prebuild = { child, logFile, ended: false, status: undefined };
  child.on("exit", (code, signal) => {
    prebuild.ended = true;
    prebuild.status = code ?? signal;
  });
  // Before it starts Go: the compilers it forks inherit the priority.
  if (child.pid !== undefined) setPriority(child.pid, 10);
  return prebuild;
}

/** Reports how the background build went; one still running at the end is stopped, with its group. */
async function finishPrebuild(prebuild) {
  await sleep(100); // lets an exit that came during the synchronous tiers be seen
  if (!prebuild.ended) {
    try {
      process.kill(-prebuild.child.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
    process.stdout.write(`\n=== prebuild: still running at the end, stopped (log: ${prebuild.logFile})\n`);
    return;
  }
  // Its own last line says how long it took: the exit is seen only now, the tiers having blocked ours.
  const lines = readFileSync(prebuild.logFile, "utf8").trim().split("\n");
  process.stdout.write(
    `\n=== prebuild: ${prebuild.status === 0 ? "done" : `exited with ${prebuild.status}`}: ${lines.at(-1) ?? ""} (log: ${prebuild.logFile})\n`,
  );
}

/** The tier's JSON report, or undefined when it wrote none. */
function reportOf(tier) {
  try {
    return JSON.parse(readFileSync(reportFile(tier), "utf8"));
  } catch {
    return undefined;
  }
}

rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
const sandboxesBefore = new Set(sandboxNames());
const failedSteps = [];
const step = (label, program, args) => {
  if (run(label, program, args) !== 0) failedSteps.push(label);
};
const tierRuns = [];
let prebuild;
try {
  step("build", npx, ["tsc", "-p", "tsconfig.build.json"]);
  prebuild = startPrebuild();
  step("format", npx, ["prettier", "--check", "."]);
  step("lint", npx, ["eslint", "--max-warnings", "0", "."]);
  step("typecheck", npx, ["tsc", "-p", "tsconfig.json", "--noEmit"]);
  process.stdout.write(`\n=== chromium set-up: ${chromiumPath}\n`);
  const chromium = ensureChromium({ logDir: resultsDir });
  if (!chromium.ok) {
    process.stdout.write(`${chromium.message}\n`);
    failedSteps.push("chromium set-up");
  }
  process.stdout.write("\n=== network tools set-up: nft, tc, ip\n");
  const networkTools = ensureNetworkTools({ logDir: resultsDir });
  if (!networkTools.ok) {
    process.stdout.write(`${networkTools.message}\n`);
    failedSteps.push("network tools set-up");
  }
  const nodes = setUpNodes(failedSteps);
  for (const tier of tiers) {
    const node = nodes[tier.node];
    const env = { ...process.env, PATH: pathWithFirst(dirname(node), process.env.PATH) };
    const exitCode = run(
      `${tier.name} tests`,
      node,
      [
        vitest,
        "run",
        "--project",
        tier.project,
        "--reporter=default",
        "--reporter=json",
        `--outputFile.json=${reportFile(tier)}`,
      ],
      env,
    );
    tierRuns.push({ name: tier.name, report: reportOf(tier), exitCode });
  }
} catch (error) {
  // Still close with a line that says so, rather than a stack trace in its place.
  process.stdout.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  failedSteps.push("npm test itself (see the error above)");
} finally {
  if (prebuild !== undefined) await finishPrebuild(prebuild);
  for (const name of sandboxNames()) {
    if (!sandboxesBefore.has(name) && isThisRunsSandbox(name))
      spawnSync(broadside[0], [...broadside.slice(1), "sandbox", "down", "--name", name], {
        stdio: "ignore",
      });
  }
}

// A tier that never started (the run broke off before it) is reported as having no report.
for (const tier of tiers.filter(({ name }) => !tierRuns.some((run) => run.name === name)))
  tierRuns.push({ name: tier.name, report: undefined, exitCode: null });
const { lines, exitCode } = summarize(tierRuns, failedSteps);
for (const line of lines) process.stdout.write(`${line}\n`);
process.exitCode = exitCode;

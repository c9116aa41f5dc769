#!/usr/bin/env node
// `npm test`: the whole suite, in order: build, format check, lint, typecheck, Chromium set-up (installs
// Debian's chromium when missing, see test/browser/setup-chromium.mjs), unit tests, browser tests,
// integration tests in two shards side by side, each with a sandbox of its own (the first built before
// them, with the Kubernetes binaries on first use; see runIntegrationShards). Names every failed test
// (a "FAILED tier file > test: message" line each, since CI keeps only a run's tail), then prints one closing line,
// "tests: N passed, M failed, K skipped" (test-summary.mjs: a test its suite's failed setup kept from
// running counts as failed; a failed step the counts cannot show is named after it), and exits non-zero
// exactly when that line reports a failure.
// Safety net: any sandbox that appears during the run is stopped at the end, so no server outlives it.
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { chromiumPath, ensureChromium } from "../test/browser/setup-chromium.mjs";
import { splitIntoShards } from "./integration-shards.mjs";
import { summarize } from "./test-summary.mjs";

const resultsDir = ".test-results";
const tiers = ["unit", "fuzz", "browser"];
const integrationShards = 2;
const npx = "npx";
const broadside = [process.execPath, "bin/broadside.js"];

/** Runs one step with its output on ours; returns its exit status (null: ended by a signal). */
function run(label, program, args) {
  process.stdout.write(`\n=== ${label}: ${program} ${args.join(" ")}\n`);
  return spawnSync(program, args, { stdio: "inherit" }).status;
}

function sandboxNames() {
  const result = spawnSync(broadside[0], [...broadside.slice(1), "sandbox", "list"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.split("\n").filter(Boolean) : [];
}

const vitestArgs = (project, reportName) => [
  "vitest",
  "run",
  "--project",
  project,
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${join(resultsDir, `${reportName}.json`)}`,
];

/**
 * The integration tier as shards side by side (scripts/integration-shards.mjs), each with a sandbox of its
 * own (BROADSIDE_IT_SANDBOX). The first shard's sandbox is started before the shards, so a cold machine
 * builds the Kubernetes binaries once, not once per shard. Each shard's output goes to a log file, printed
 * whole when the shard ends, so the two never interleave.
 */
async function runIntegrationShards() {
  const files = readdirSync(join("test", "integration"))
    .filter((name) => name.endsWith(".test.ts"))
    .map((name) => join("test", "integration", name));
  const shards = splitIntoShards(files, integrationShards).map((shard, index) => ({
    ...shard,
    name: `integration-${index + 1}`,
    sandbox: `it-${index + 1}`,
  }));
  const first = shards[0];
  if (
    run(`sandbox for ${first.name}`, broadside[0], [
      ...broadside.slice(1),
      "sandbox",
      "up",
      "--name",
      first.sandbox,
    ]) !== 0
  )
    failedSteps.push(`sandbox for ${first.name}`);
  process.stdout.write(`\n=== integration tests: ${shards.length} shards side by side\n`);
  for (const shard of shards)
    process.stdout.write(
      `${shard.name} (sandbox ${shard.sandbox}, about ${shard.seconds} s): ${shard.files.join(" ")}\n`,
    );
  return Promise.all(shards.map((shard) => runShard(shard)));
}

function runShard(shard) {
  const logFile = join(resultsDir, `${shard.name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(npx, [...vitestArgs("integration", shard.name), ...shard.files], {
    env: { ...process.env, BROADSIDE_IT_SANDBOX: shard.sandbox },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  return new Promise((resolve) => {
    child.on("close", (code) => {
      log.end(() => {
        process.stdout.write(`\n=== ${shard.name} (exit ${code ?? "on a signal"}; log ${logFile}):\n`);
        process.stdout.write(readFileSync(logFile, "utf8"));
        resolve({ name: shard.name, report: reportOf(shard.name), exitCode: code });
      });
    });
  });
}

/** The tier's JSON report, or undefined when it wrote none. */
function reportOf(tier) {
  try {
    return JSON.parse(readFileSync(join(resultsDir, `${tier}.json`), "utf8"));
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
try {
  step("build", npx, ["tsc", "-p", "tsconfig.build.json"]);
  step("format", npx, ["prettier", "--check", "."]);
  step("lint", npx, ["eslint", "--max-warnings", "0", "."]);
  step("typecheck", npx, ["tsc", "-p", "tsconfig.json", "--noEmit"]);
  process.stdout.write(`\n=== chromium set-up: ${chromiumPath}\n`);
  const chromium = ensureChromium({ logDir: resultsDir });
  if (!chromium.ok) {
    process.stdout.write(`${chromium.message}\n`);
    failedSteps.push("chromium set-up");
  }
  for (const tier of tiers) {
    const exitCode = run(`${tier} tests`, npx, vitestArgs(tier, tier));
    tierRuns.push({ name: tier, report: reportOf(tier), exitCode });
  }
  tierRuns.push(...(await runIntegrationShards()));
} catch (error) {
  // Still close with a line that says so, rather than a stack trace in its place.
  process.stdout.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  failedSteps.push("npm test itself (see the error above)");
} finally {
  for (const name of sandboxNames()) {
    if (!sandboxesBefore.has(name))
      spawnSync(broadside[0], [...broadside.slice(1), "sandbox", "down", "--name", name], {
        stdio: "ignore",
      });
  }
}

// A tier that never started (the run broke off before it) is reported as having no report.
const shardNames = Array.from({ length: integrationShards }, (_, index) => `integration-${index + 1}`);
for (const tier of [...tiers, ...shardNames].filter((name) => !tierRuns.some((run) => run.name === name)))
  tierRuns.push({ name: tier, report: undefined, exitCode: null });
const { lines, exitCode } = summarize(tierRuns, failedSteps);
for (const line of lines) process.stdout.write(`${line}\n`);
process.exitCode = exitCode;

#!/usr/bin/env node
// `npm test`: the whole suite, in order: build, format check, lint, typecheck, Chromium set-up (installs
// Debian's chromium when missing, see test/browser/setup-chromium.mjs), unit tests, browser tests,
// integration tests (which start one sandbox, building its binaries on first use). Names every failed test
// (a "FAILED tier file > test: message" line each, since CI keeps only a run's tail), then prints one closing line,
// "tests: N passed, M failed, K skipped" (test-summary.mjs: a test its suite's failed setup kept from
// running counts as failed; a failed step the counts cannot show is named after it), and exits non-zero
// exactly when that line reports a failure.
// Safety net: any sandbox of this run that appears during it (the integration sandbox and the ones its
// tests name after it, "it-demo" and the like) is stopped at the end, so no server outlives the run. A
// sandbox another checkout starts meanwhile is not this run's, and is left alone.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { chromiumPath, ensureChromium } from "../test/browser/setup-chromium.mjs";
import { summarize } from "./test-summary.mjs";

const resultsDir = ".test-results";
const tiers = ["unit", "fuzz", "browser", "integration"];
const npx = "npx";
const broadside = [process.execPath, "bin/broadside.js"];

/** Runs one step with its output on ours; returns its exit status (null: ended by a signal). */
function run(label, program, args) {
  process.stdout.write(`\n=== ${label}: ${program} ${args.join(" ")}\n`);
  return spawnSync(program, args, { stdio: "inherit" }).status;
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
    const exitCode = run(`${tier} tests`, npx, [
      "vitest",
      "run",
      "--project",
      tier,
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${join(resultsDir, `${tier}.json`)}`,
    ]);
    tierRuns.push({ name: tier, report: reportOf(tier), exitCode });
  }
} catch (error) {
  // Still close with a line that says so, rather than a stack trace in its place.
  process.stdout.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  failedSteps.push("npm test itself (see the error above)");
} finally {
  for (const name of sandboxNames()) {
    if (!sandboxesBefore.has(name) && isThisRunsSandbox(name))
      spawnSync(broadside[0], [...broadside.slice(1), "sandbox", "down", "--name", name], {
        stdio: "ignore",
      });
  }
}

// A tier that never started (the run broke off before it) is reported as having no report.
for (const tier of tiers.filter((name) => !tierRuns.some((run) => run.name === name)))
  tierRuns.push({ name: tier, report: undefined, exitCode: null });
const { lines, exitCode } = summarize(tierRuns, failedSteps);
for (const line of lines) process.stdout.write(`${line}\n`);
process.exitCode = exitCode;

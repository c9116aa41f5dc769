#!/usr/bin/env node
// `npm test`: the whole suite, in order: build, format check, lint, typecheck, Chromium set-up (installs
// Debian's chromium when missing, see test/browser/setup-chromium.mjs), unit tests, browser tests,
// integration tests (which start one sandbox, building its binaries on first use). Prints one closing line,
// "tests: N passed, M failed", and exits non-zero if any step failed.
// Safety net: any sandbox that appears during the run is stopped at the end, so no server outlives it.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { chromiumPath, ensureChromium } from "../test/browser/setup-chromium.mjs";

const resultsDir = ".test-results";
const tiers = ["unit", "fuzz", "browser", "integration"];
const npx = "npx";
const broadside = [process.execPath, "bin/broadside.js"];

function run(label, program, args) {
  process.stdout.write(`\n=== ${label}: ${program} ${args.join(" ")}\n`);
  const result = spawnSync(program, args, { stdio: "inherit" });
  return result.status === 0;
}

function sandboxNames() {
  const result = spawnSync(broadside[0], [...broadside.slice(1), "sandbox", "list"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.split("\n").filter(Boolean) : [];
}

function counts(tier) {
  try {
    const report = JSON.parse(readFileSync(join(resultsDir, `${tier}.json`), "utf8"));
    return {
      passed: report.numPassedTests,
      failed: report.numFailedTests,
      skipped: report.numPendingTests + report.numTodoTests,
    };
  } catch {
    return { passed: 0, failed: 0, skipped: 0, missing: true };
  }
}

rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
const sandboxesBefore = new Set(sandboxNames());
const failedSteps = [];
const step = (label, program, args) => {
  if (!run(label, program, args)) failedSteps.push(label);
};
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
    step(`${tier} tests`, npx, [
      "vitest",
      "run",
      "--project",
      tier,
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${join(resultsDir, `${tier}.json`)}`,
    ]);
  }
} finally {
  for (const name of sandboxNames()) {
    if (!sandboxesBefore.has(name))
      spawnSync(broadside[0], [...broadside.slice(1), "sandbox", "down", "--name", name], {
        stdio: "ignore",
      });
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const tier of tiers) {
  const tierCounts = counts(tier);
  passed += tierCounts.passed;
  failed += tierCounts.failed;
  skipped += tierCounts.skipped;
  process.stdout.write(
    `${tier}: ${tierCounts.passed} passed, ${tierCounts.failed} failed, ${tierCounts.skipped} skipped${tierCounts.missing ? " (no report: the tier did not run)" : ""}\n`,
  );
}
if (failedSteps.length > 0) process.stdout.write(`failed steps: ${failedSteps.join(", ")}\n`);
process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exitCode = failedSteps.length > 0 || failed > 0 ? 1 : 0;

#!/usr/bin/env node
// `npm run fuzz -- --runs 100000 [--seed N]`: a long campaign of the fuzz tier (test/fuzz/): N generated
// cases in all, shared by its tests as in the default run, from one seed. Prints the seed, the number of
// cases, the cases that broke a rule and those that crashed (BRD_INTERNAL, a stack trace, an exception that
// is not Broadside's), and the time; exits non-zero when any case failed. Replay a run with its seed.
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function option(name, fallback) {
  const index = process.argv.indexOf(name);
  if (index < 0) return fallback;
  const value = process.argv[index + 1] ?? "";
  if (!/^\d+$/.test(value)) {
    process.stderr.write(`${name} needs a whole number, got "${value}"\n`);
    process.exit(2);
  }
  return value;
}

const runs = option("--runs", "10000");
const seed = option("--seed", process.env.BROADSIDE_FUZZ_SEED || String(randomInt(2 ** 31 - 1)));
const summaryDir = mkdtempSync(join(tmpdir(), "broadside-fuzz-summary-"));
process.stdout.write(`fuzz campaign: seed ${seed}, ${runs} generated cases\n`);
const started = Date.now();
const result = spawnSync("npx", ["vitest", "run", "--project", "fuzz"], {
  stdio: "inherit",
  env: {
    ...process.env,
    BROADSIDE_FUZZ_RUNS: runs,
    BROADSIDE_FUZZ_SEED: seed,
    BROADSIDE_FUZZ_SUMMARY_DIR: summaryDir,
  },
});
const seconds = Math.round((Date.now() - started) / 1000);
const summaries = readdirSync(summaryDir).map((file) =>
  JSON.parse(readFileSync(join(summaryDir, file), "utf8")),
);
rmSync(summaryDir, { recursive: true, force: true });
const total = (key) => summaries.reduce((sum, summary) => sum + summary[key], 0);
process.stdout.write(
  `fuzz campaign: seed ${seed}: ${total("cases")} cases, ${total("failed")} failed, ${total("crashed")} crashed, in ${seconds} s\n`,
);
for (const summary of summaries.filter((each) => each.failed > 0)) {
  process.stdout.write(
    `  ${summary.name}: ${summary.failed} of ${summary.cases} failed (${summary.crashed} crashed, ${summary.distinct} distinct)\n`,
  );
}
process.exitCode = result.status === 0 && total("failed") === 0 ? 0 : 1;

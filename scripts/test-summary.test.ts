import { spawnSync } from "node:child_process";
import { copyFile, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summarize, tierCounts } from "./test-summary.mjs";

const root = join(import.meta.dirname, "..");
const fixtureDir = join(root, "test", "fixtures", "vitest-failed-setup");

/**
 * The report of a real vitest run (the version this repository pins) of the fixture suites: one file
 * whose beforeAll throws before its two tests (and a third test in a suite that runs), one file that
 * fails while it loads. Run in a temporary directory, so no tier of ours ever runs the fixture.
 */
let report: unknown;
let vitestStatus: number | null = null;
let workDir = "";

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "broadside-vitest-fixture-"));
  for (const file of await readdir(fixtureDir)) await copyFile(join(fixtureDir, file), join(workDir, file));
  // The fixture imports vitest; the temporary directory borrows this checkout's node_modules.
  await symlink(join(root, "node_modules"), join(workDir, "node_modules"), "dir");
  const vitest = join(root, "node_modules", "vitest", "vitest.mjs");
  const outputFile = join(workDir, "report.json");
  const run = spawnSync(
    process.execPath,
    [vitest, "run", "--root", workDir, "--reporter=json", `--outputFile.json=${outputFile}`],
    { cwd: workDir, encoding: "utf8", timeout: 120_000 },
  );
  vitestStatus = run.status;
  report = JSON.parse(await readFile(outputFile, "utf8"));
}, 180_000);

afterAll(async () => {
  if (workDir !== "") await rm(workDir, { recursive: true, force: true });
});

describe("npm test's closing count, from vitest's JSON report", () => {
  it("reads a suite whose beforeAll failed as failed tests, where vitest's own totals say skipped", () => {
    // The problem, as vitest 4 reports it: the run failed, yet no test counts as failed.
    expect(vitestStatus).toBe(1);
    expect(report).toMatchObject({ success: false, numFailedTests: 0, numPendingTests: 2 });
    // Two tests the failed setup kept from running, and a file that never loaded: three failures.
    expect(tierCounts(report)).toEqual({ passed: 1, failed: 3, skipped: 0, missing: false });
  });

  it("closes with a line and an exit code that agree", () => {
    const { lines, exitCode } = summarize([{ name: "unit", report, exitCode: vitestStatus }], []);
    expect(lines.slice(-2)).toEqual([
      "unit: 1 passed, 3 failed, 0 skipped",
      "tests: 1 passed, 3 failed, 0 skipped",
    ]);
    expect(exitCode).toBe(1);
  });

  it("passes a clean run with exit code 0, counting tests skipped in a passing file as skipped", () => {
    const clean = {
      testResults: [
        {
          status: "passed",
          assertionResults: [{ status: "passed" }, { status: "skipped" }, { status: "todo" }],
        },
      ],
    };
    expect(summarize([{ name: "unit", report: clean, exitCode: 0 }], [])).toEqual({
      lines: ["unit: 1 passed, 0 failed, 2 skipped", "tests: 1 passed, 0 failed, 2 skipped"],
      exitCode: 0,
    });
  });

  it("names a failure the counts cannot show, so that the line never says 0 failed with exit code 1", () => {
    const allPassed = { testResults: [{ status: "passed", assertionResults: [{ status: "passed" }] }] };
    const { lines, exitCode } = summarize(
      [
        { name: "unit", report: allPassed, exitCode: 1 },
        // No report is no evidence, whatever vitest's exit status.
        { name: "integration", report: undefined, exitCode: 0 },
      ],
      ["lint"],
    );
    expect(lines).toEqual([
      "unit: 1 passed, 0 failed, 0 skipped",
      "integration: 0 passed, 0 failed, 0 skipped (no report: the tier did not run)",
      "tests: 1 passed, 0 failed, 0 skipped; failed steps: lint, unit tests (vitest exited 1 with no failed test in its report), integration tests (no report)",
    ]);
    expect(exitCode).toBe(1);
  });

  it("names each failed file above the counts, with the first line of what went wrong", () => {
    const { lines } = summarize([{ name: "unit", report, exitCode: vitestStatus }], []);
    const failures = lines.slice(0, -2).sort();
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatch(
      /^FAILED unit .*failed-load\.test\.ts: .*the module failed to load on purpose$/,
    );
    expect(failures[1]).toMatch(/^FAILED unit .*failed-setup\.test\.ts: failed outside its tests \(a hook\)/);
  });

  it("names a failed test by its full name and the first line of its message", () => {
    const failing = {
      testResults: [
        {
          name: `${process.cwd()}/src/a.test.ts`,
          status: "failed",
          assertionResults: [
            { status: "passed", fullName: "a works" },
            {
              status: "failed",
              fullName: "a breaks",
              failureMessages: ["\nAssertionError: 1 !== 2\n  at x"],
            },
          ],
        },
      ],
    };
    expect(summarize([{ name: "unit", report: failing, exitCode: 1 }], []).lines).toEqual([
      "FAILED unit src/a.test.ts > a breaks: AssertionError: 1 !== 2",
      "unit: 1 passed, 1 failed, 0 skipped",
      "tests: 1 passed, 1 failed, 0 skipped",
    ]);
  });

  it("takes anything but a vitest JSON report as no report", () => {
    expect(tierCounts({ testResults: "no" })).toEqual({ passed: 0, failed: 0, skipped: 0, missing: true });
    expect(tierCounts(undefined)).toMatchObject({ missing: true });
  });
});

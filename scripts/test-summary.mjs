// The closing count of `npm test` (scripts/test.mjs), from each tier's vitest JSON report
// (--reporter=json). Types: test-summary.d.mts. Tested by test-summary.test.ts against the report of a
// real vitest run of a fixture whose setup fails (test/fixtures/vitest-failed-setup/).
//
// Why not vitest's own totals: when a beforeAll fails, vitest 4 marks the file "failed" but reports its
// tests as "skipped" (numPendingTests), not failed, and a file that fails while loading has no tests at
// all. Counted that way, a run whose setup failed closes with "0 failed" and exit code 1. Here a test
// that did not run in a file that failed counts as failed (its setup kept it from running), and a
// failed file with no failed test counts as one failure. The JSON report does not say why a test was
// skipped, so an it.skip in a failed file would count as failed too; Broadside's tests skip nothing
// ("nothing skipped silently"), so that is the right reading for this codebase.

const notRun = new Set(["skipped", "pending"]);

function isRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The files of a vitest JSON report, or undefined when it is not one. */
function filesOf(report) {
  if (!isRecord(report) || !Array.isArray(report.testResults)) return undefined;
  return report.testResults.filter(isRecord);
}

function countFile(file, counts) {
  const fileFailed = file.status === "failed";
  let failedHere = 0;
  for (const test of Array.isArray(file.assertionResults) ? file.assertionResults.filter(isRecord) : []) {
    if (test.status === "passed") counts.passed += 1;
    else if (test.status === "failed" || (fileFailed && notRun.has(test.status))) failedHere += 1;
    else counts.skipped += 1;
  }
  // A file that failed with nothing failed in it (it did not load, or only a hook failed): one failure.
  counts.failed += fileFailed && failedHere === 0 ? 1 : failedHere;
}

/** Passed, failed and skipped tests of one tier's report; `missing` when there is no report to read. */
export function tierCounts(report) {
  const files = filesOf(report);
  if (files === undefined) return { passed: 0, failed: 0, skipped: 0, missing: true };
  const counts = { passed: 0, failed: 0, skipped: 0, missing: false };
  for (const file of files) countFile(file, counts);
  return counts;
}

function tierLine(name, counts) {
  const note = counts.missing ? " (no report: the tier did not run)" : "";
  return `${name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${note}`;
}

/**
 * A tier without a report (it did not run, whatever its exit status), or whose vitest failed although
 * its report shows no failed test (an unhandled error, a global setup that threw): a failure the counts
 * cannot show, so the closing line names it.
 */
function unexplainedFailure(tier, counts) {
  if (counts.missing) return `${tier.name} tests (no report)`;
  if (tier.exitCode === 0 || counts.failed > 0) return undefined;
  return `${tier.name} tests (vitest exited ${tier.exitCode ?? "on a signal"} with no failed test in its report)`;
}

/** The first line of a message, cut to a length a CI log's tail keeps readable. */
function firstLine(text) {
  const line =
    String(text)
      .split("\n")
      .find((part) => part.trim() !== "") ?? "";
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/**
 * One line per failure of a tier, naming the file, the test and the first line of its message: CI shows
 * only the tail of a run's output, so what failed must be there, not only how many.
 */
export function failureLines(tierName, report) {
  return (filesOf(report) ?? [])
    .filter((file) => file.status === "failed")
    .flatMap((file) => fileFailureLines(tierName, file));
}

function fileFailureLines(tierName, file) {
  const path = typeof file.name === "string" ? file.name.replace(`${process.cwd()}/`, "") : "?";
  const tests = Array.isArray(file.assertionResults) ? file.assertionResults.filter(isRecord) : [];
  const failed = tests.filter((test) => test.status === "failed");
  // vitest's report keeps a load error's message but not a failed hook's: the run's output above has it.
  const why = firstLine(file.message ?? "") || "failed outside its tests (a hook); the output above says why";
  if (failed.length === 0) return [`FAILED ${tierName} ${path}: ${why}`];
  return failed.map((test) => `FAILED ${tierName} ${path} > ${test.fullName ?? "?"}: ${messageOf(test)}`);
}

function messageOf(test) {
  return Array.isArray(test.failureMessages) ? firstLine(test.failureMessages[0] ?? "") : "";
}

/**
 * The failures, named (failureLines), then one line per tier, then the closing line, `tests: N passed, M failed, K skipped`, followed by
 * `; failed steps: ...` when a step failed that the counts do not show (build, lint, a tier's vitest
 * failing outside any test). The exit code is 0 exactly when the closing line reports 0 failed and no
 * failed step, so the two always agree.
 */
export function summarize(tiers, failedSteps) {
  const lines = tiers.flatMap((tier) => failureLines(tier.name, tier.report));
  const total = { passed: 0, failed: 0, skipped: 0 };
  const unexplained = [];
  for (const tier of tiers) {
    const counts = tierCounts(tier.report);
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
    lines.push(tierLine(tier.name, counts));
    const failure = unexplainedFailure(tier, counts);
    if (failure !== undefined) unexplained.push(failure);
  }
  const steps = [...failedSteps, ...unexplained];
  const stepsNote = steps.length > 0 ? `; failed steps: ${steps.join(", ")}` : "";
  lines.push(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped${stepsNote}`);
  return { lines, exitCode: total.failed > 0 || steps.length > 0 ? 1 : 0 };
}

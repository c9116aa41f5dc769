import { describeError, usageError } from "../../core/errors.js";
import { documentLimits } from "../../core/input-limits.js";
import { nestsDeeperThan } from "../../core/objects.js";
import { factsOf } from "./build.js";
import { describeProblems, factProblems } from "./consistency.js";
import { runReportSchema, type RunReport } from "./run-report.js";

/**
 * The RunReport as a file: `broadside run` writes it with renderJson, `broadside report` reads it back
 * with parseRunReport, which checks the shape (run-report.ts) and the consistency of the evidence.
 */

/** Pretty-printed, with a final newline: the file `broadside run` writes and `broadside report` reads. */
export function renderJson(report: RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The report's shape, and the consistency of its evidence (what the builder would have refused). */
const checkedReportSchema = runReportSchema.superRefine((report, context) => {
  for (const problem of factProblems(factsOf(report))) {
    context.addIssue({ code: "custom", path: [...problem.path], message: problem.message });
  }
});

/**
 * Reads a report file's text. Anything wrong is a usage error naming `source` and the path of the bad
 * field ("run.json: samples[3].ok: Invalid input: expected boolean, received string"). Figures are
 * read as stored; figureMismatches says whether the samples support them.
 */
export function parseRunReport(text: string, source: string): RunReport {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error: unknown) {
    throw usageError(source, `is not JSON: ${describeError(error)}`);
  }
  if (nestsDeeperThan(input, documentLimits.depth)) {
    throw usageError(source, `nests more than ${documentLimits.depth} levels deep; no report does`);
  }
  const result = checkedReportSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    path: issue.path.map((key) => (typeof key === "symbol" ? String(key) : key)),
    message: issue.message,
  }));
  throw usageError(source, describeProblems(problems));
}

// Types of test-summary.mjs, for its unit test.

export interface TierCounts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** There was no report to read (the tier did not run, or wrote something else). */
  readonly missing: boolean;
}

export interface TierRun {
  readonly name: string;
  /** The parsed JSON report vitest wrote (--reporter=json), or undefined when there is none. */
  readonly report: unknown;
  /** vitest's exit status; null when a signal ended it. */
  readonly exitCode: number | null;
}

export function tierCounts(report: unknown): TierCounts;

/** One line per failed test (or failed file without one): "FAILED tier file > test: first line". */
export function failureLines(tierName: string, report: unknown): string[];

export function summarize(
  tiers: readonly TierRun[],
  failedSteps: readonly string[],
): { readonly lines: string[]; readonly exitCode: 0 | 1 };

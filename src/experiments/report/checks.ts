import { z } from "zod";
import type { FaultReport } from "./fault-outcome.js";
import { formatAvailability, formatMs } from "./format.js";
import { isolationProblems, type RestartReport } from "./restarts.js";
import { phaseNames, type PhaseName, type ProbeFigures, type WindowFigures } from "./samples.js";
import { count, name } from "./schema-fields.js";

/**
 * Hypothesis checks and the verdict. A check names a figure of the report and a tolerance; the report
 * evaluates it itself, so the result is recomputed with the figures and cannot disagree with them.
 */

export const probeFigureNames = [
  "availability",
  "longestUnreachableMs",
  "p50Ms",
  "p95Ms",
  "p99Ms",
  "maxMs",
] as const;
export type ProbeFigureName = (typeof probeFigureNames)[number];

/** A phase, or the whole run. */
export type FigureScope = PhaseName | "overall";

export const checkSubjectSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("probe"),
      probe: name,
      scope: z.enum([...phaseNames, "overall"]),
      figure: z.enum(probeFigureNames),
    })
    .readonly(),
  z
    .object({
      type: z.literal("fault-recovery"),
      fault: count.meta({
        description: "The recovery time of the fault at this index of the report's `faults`.",
      }),
    })
    .readonly(),
]);
export type CheckSubject = z.infer<typeof checkSubjectSchema>;

/** The observed figure must be `op` the limit: availability >= 0.99, longest unreachable <= 2000 ms. */
export const toleranceSchema = z.object({ op: z.enum(["<=", "<", ">=", ">"]), limit: z.number() }).readonly();
export type Tolerance = z.infer<typeof toleranceSchema>;

/** A check as a hypothesis declares it: a figure and the tolerance it must meet. */
export const checkSpecSchema = z.object({
  name: z.string(),
  subject: checkSubjectSchema,
  tolerance: toleranceSchema,
});
export type CheckSpec = Readonly<z.infer<typeof checkSpecSchema>>;

export const checkResultSchema = checkSpecSchema
  .extend({
    observed: z.number().nullable().meta({
      description:
        "Null when the figure has no value: no samples, nothing succeeded, or the fault did not recover.",
    }),
    passed: z
      .boolean()
      .meta({ description: "A missing figure fails: a hypothesis is only confirmed by evidence." }),
  })
  .readonly();
export type CheckResult = z.infer<typeof checkResultSchema>;

export const verdictSchema = z.discriminatedUnion("result", [
  z.object({ result: z.literal("passed") }).readonly(),
  z.object({ result: z.literal("failed"), reasons: z.array(z.string()).readonly() }).readonly(),
  z.object({ result: z.literal("aborted"), reason: z.string() }).readonly(),
]);
export type Verdict = z.infer<typeof verdictSchema>;

const figureReaders: Record<ProbeFigureName, (figures: ProbeFigures) => number | null> = {
  availability: (figures) => figures.availability,
  // No failure in a window with samples is a measured 0 ms; no samples at all is no evidence.
  longestUnreachableMs: (figures) => (figures.sent === 0 ? null : (figures.longestUnreachable?.ms ?? 0)),
  p50Ms: (figures) => figures.latency?.p50Ms ?? null,
  p95Ms: (figures) => figures.latency?.p95Ms ?? null,
  p99Ms: (figures) => figures.latency?.p99Ms ?? null,
  maxMs: (figures) => figures.latency?.maxMs ?? null,
};

const figureLabels: Record<ProbeFigureName, string> = {
  availability: "availability",
  longestUnreachableMs: "longest unreachable",
  p50Ms: "p50 latency",
  p95Ms: "p95 latency",
  p99Ms: "p99 latency",
  maxMs: "max latency",
};

/** What checks read their figures from. */
export interface Evidence {
  readonly phases: Readonly<Record<PhaseName, WindowFigures>>;
  readonly overall: WindowFigures;
  readonly faults: readonly FaultReport[];
}

export function observe(subject: CheckSubject, evidence: Evidence): number | null {
  if (subject.type === "fault-recovery") return evidence.faults[subject.fault]?.recoveryMs ?? null;
  const window = subject.scope === "overall" ? evidence.overall : evidence.phases[subject.scope];
  const figures = window.probes.find((probe) => probe.probe === subject.probe);
  return figures === undefined ? null : figureReaders[subject.figure](figures);
}

function holds(observed: number, op: Tolerance["op"], limit: number): boolean {
  if (op === "<=") return observed <= limit;
  if (op === "<") return observed < limit;
  if (op === ">=") return observed >= limit;
  return observed > limit;
}

export function evaluate(spec: CheckSpec, evidence: Evidence): CheckResult {
  const observed = observe(spec.subject, evidence);
  const { op, limit } = spec.tolerance;
  const passed = observed !== null && holds(observed, op, limit);
  return { name: spec.name, subject: spec.subject, tolerance: spec.tolerance, observed, passed };
}

/** "availability of probe front-door during chaos", "recovery time of fault 1". Faults count from 1. */
export function describeSubject(subject: CheckSubject): string {
  if (subject.type === "fault-recovery") return `recovery time of fault ${subject.fault + 1}`;
  const scope = subject.scope === "overall" ? "over the whole run" : `during ${subject.scope}`;
  return `${figureLabels[subject.figure]} of probe ${subject.probe} ${scope}`;
}

function isAvailability(subject: CheckSubject): boolean {
  return subject.type === "probe" && subject.figure === "availability";
}

/** A figure of `subject` written as every format writes it. */
export function formatFigure(subject: CheckSubject, value: number | null): string {
  if (isAvailability(subject)) return formatAvailability(value);
  return formatMs(value);
}

/** "0.9861 (wanted >= 0.9900)", or why there is no value. */
export function describeOutcome(check: CheckResult): string {
  const wanted = `wanted ${check.tolerance.op} ${formatFigure(check.subject, check.tolerance.limit)}`;
  if (check.observed === null) return `no value (${whyNoValue(check.subject)}; ${wanted})`;
  return `${formatFigure(check.subject, check.observed)} (${wanted})`;
}

function whyNoValue(subject: CheckSubject): string {
  return subject.type === "fault-recovery" ? "the fault did not recover" : "no samples to measure it";
}

/**
 * The verdict: aborted when the run was cut short (its figures cover only part of the experiment, so
 * they neither confirm nor refute it); otherwise failed when any check failed, any fault did not
 * recover, or isolation did not hold; passed otherwise. Every reason is one sentence a CI log can show.
 */
export function verdictOf(
  aborted: string | undefined,
  checks: readonly CheckResult[],
  faults: readonly FaultReport[],
  restarts: RestartReport | undefined,
): Verdict {
  if (aborted !== undefined) return { result: "aborted", reason: aborted };
  const reasons = [
    ...checks
      .filter((check) => !check.passed)
      .map(
        (check) =>
          `check "${check.name}" failed: ${describeSubject(check.subject)} was ${describeOutcome(check)}`,
      ),
    ...faults.flatMap((fault, index) =>
      fault.problems.map((problem) => `fault ${index + 1} (${fault.kind}): ${problem}`),
    ),
    ...(restarts === undefined ? [] : isolationProblems(restarts).map((problem) => `isolation: ${problem}`)),
  ];
  return reasons.length === 0 ? { result: "passed" } : { result: "failed", reasons };
}

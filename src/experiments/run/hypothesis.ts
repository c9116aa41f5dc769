import type { HypothesisCheck, Probe } from "../files/model.js";
import type { Tolerance as FileTolerance } from "../files/tolerance.js";
import { evaluate, type CheckResult, type CheckSpec, type FigureScope } from "../report/checks.js";
import type { ProbeFigureName } from "../report/checks.js";
import { windowFigures, type PhaseName, type Sample, type TimeWindow } from "../report/samples.js";

/**
 * A hypothesis's tolerances as the report's checks. Each check a file asks for judges the figures of one
 * phase of the report: `before` the baseline, `during` the chaos phase, `after` the recovery phase. The
 * report evaluates them itself (report/checks.ts), so the verdict can be recomputed from the samples.
 */

const phaseOfCheck: Readonly<Record<HypothesisCheck, PhaseName>> = {
  before: "baseline",
  during: "chaos",
  after: "recovery",
};

const percentileFigures: Readonly<Record<number, ProbeFigureName>> = {
  50: "p50Ms",
  95: "p95Ms",
  99: "p99Ms",
};

function figureOf(tolerance: FileTolerance): ProbeFigureName {
  if (tolerance.metric === "availability") return "availability";
  if (tolerance.metric === "longest-failure") return "longestUnreachableMs";
  const figure = percentileFigures[tolerance.percentile];
  // The tolerance parser accepts only the percentiles reports compute.
  if (figure === undefined) throw new Error(`no report figure for p${String(tolerance.percentile)}`);
  return figure;
}

function limitOf(tolerance: FileTolerance): CheckSpec["tolerance"] {
  if (tolerance.metric === "availability") return { op: tolerance.comparator, limit: tolerance.ratio };
  return { op: tolerance.comparator, limit: tolerance.threshold.milliseconds };
}

/** One check of one tolerance of one probe over one scope. */
export function checkOf(
  probe: string,
  tolerance: FileTolerance,
  scope: FigureScope,
  label: string,
): CheckSpec {
  return {
    name: `${probe}: ${tolerance.text} (${label})`,
    subject: { type: "probe", probe, scope, figure: figureOf(tolerance) },
    tolerance: limitOf(tolerance),
  };
}

/** Every tolerance of every probe, once per check the hypothesis asks for, in the file's order. */
export function hypothesisChecks(probes: readonly Probe[], checks: readonly HypothesisCheck[]): CheckSpec[] {
  return checks.flatMap((check) =>
    probes.flatMap((probe) =>
      probe.tolerances.map((tolerance) => checkOf(probe.name, tolerance, phaseOfCheck[check], check)),
    ),
  );
}

/**
 * The tolerances judged over `window` alone (the before and after checks, and each tick of the during
 * check's sliding window): the results that failed, empty when the steady state held.
 */
export function breachesIn(
  probes: readonly Probe[],
  samples: readonly Sample[],
  window: TimeWindow,
  label: string,
): CheckResult[] {
  const figures = windowFigures(
    probes.map((probe) => probe.name),
    samples,
    window,
  );
  const evidence = { phases: { baseline: figures, chaos: figures, recovery: figures }, overall: figures };
  return probes
    .flatMap((probe) => probe.tolerances.map((tolerance) => checkOf(probe.name, tolerance, "overall", label)))
    .map((spec) => evaluate(spec, { ...evidence, faults: [] }))
    .filter((result) => !result.passed);
}

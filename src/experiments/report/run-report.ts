import { z } from "zod";
import { BroadsideError, describeError, usageError } from "../../core/errors.js";
import { formatPath } from "../../core/field-path.js";
import { isRecord, optional } from "../../core/objects.js";
import {
  evaluate,
  probeFigureNames,
  verdictOf,
  type CheckResult,
  type CheckSpec,
  type Verdict,
} from "./checks.js";
import {
  faultFacts,
  replacementsSeen,
  type FaultFacts,
  type FaultInput,
  type ReplacementSeen,
} from "./fault-facts.js";
import { factsOfFault, withOutcome, type FaultReport } from "./fault-outcome.js";
import {
  restartObservations,
  restartReport,
  type RestartObservation,
  type RestartReport,
} from "./restarts.js";
import {
  bySentAt,
  phaseNames,
  phasesOf,
  windowFigures,
  type PhaseName,
  type Sample,
  type TimeWindow,
  type WindowFigures,
} from "./samples.js";

/**
 * The RunReport: the JSON document a `broadside run` leaves behind, and the one input of every other
 * format (`broadside report run.json --format md|junit|html`). It keeps the evidence (raw samples, the
 * engine's recovery facts, the restart counts, the check definitions) next to the figures and verdict
 * derived from it; `recompute` derives them again, so a reader can check every figure against its samples.
 *
 * Versioning: apiVersion and kind name the document; schemaVersion changes whenever a field changes
 * meaning or a required field is added. Readers refuse other schema versions rather than misread them,
 * and drop fields they do not know (a later additive change does not stop an older reader).
 */

export const reportApiVersion = "broadside.dev/v1alpha1";
export const reportKind = "RunReport";
export const reportSchemaVersion = 1;

export interface ProbeSpec {
  readonly name: string;
  /** How often the probe sends: the resolution of its unreachable stretches. */
  readonly intervalMs: number;
  /** What it probes, for people ("GET / on the front door"). */
  readonly target?: string;
}

/** A time some fault was active; the report shades these on its timeline. */
export interface ChaosWindow extends TimeWindow {
  readonly label?: string;
}

export interface RunReport {
  readonly apiVersion: typeof reportApiVersion;
  readonly kind: typeof reportKind;
  readonly schemaVersion: typeof reportSchemaVersion;
  readonly title: string;
  /** Epoch ms: the run window [startedAt, endedAt) contains the three phases. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly probes: readonly ProbeSpec[];
  readonly chaosWindows: readonly ChaosWindow[];
  readonly phases: Readonly<Record<PhaseName, WindowFigures>>;
  /** The whole run: unreachable stretches here are not cut at phase boundaries. */
  readonly overall: WindowFigures;
  readonly faults: readonly FaultReport[];
  readonly replacements: readonly ReplacementSeen[];
  /** Absent when restart counts were not observed (object faults touch no pods). */
  readonly restarts?: RestartReport;
  readonly checks: readonly CheckResult[];
  readonly verdict: Verdict;
  /** Every sample, sorted by sentAt; samples outside the run window are kept but count nowhere. */
  readonly samples: readonly Sample[];
}

/** What a run hands over: the evidence, in the engine's own shapes. */
export interface RunInput {
  readonly title: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly probes: readonly ProbeSpec[];
  /** Sorted, not overlapping, inside the run. */
  readonly chaosWindows: readonly ChaosWindow[];
  readonly samples: readonly Sample[];
  readonly faults: readonly FaultInput[];
  readonly restarts?: readonly RestartObservation[];
  readonly checks: readonly CheckSpec[];
  /** Why the run was cut short, if it was. */
  readonly aborted?: string;
}

/** The evidence in the report's own shapes: what `recompute` starts from. */
interface RunFacts extends Omit<RunInput, "faults"> {
  readonly faults: readonly FaultFacts[];
}

/** Builds the report from a run's evidence. Throws BRD_INTERNAL if the evidence contradicts itself. */
export function buildRunReport(input: RunInput): RunReport {
  return derive({ ...input, faults: input.faults.map(faultFacts) });
}

/** Derives every figure, check result and the verdict of `report` again from its evidence. */
export function recompute(report: RunReport): RunReport {
  return derive(factsOf(report));
}

/**
 * Paths of the figures in `report` that its evidence does not give (a hand-edited file, or a bug);
 * empty when every figure matches. `broadside report` can refuse, or warn, on a non-empty answer.
 */
export function figureMismatches(report: RunReport): string[] {
  return differences(report, recompute(report), []);
}

function factsOf(report: RunReport): RunFacts {
  const verdict = report.verdict;
  return {
    title: report.title,
    startedAt: report.startedAt,
    endedAt: report.endedAt,
    probes: report.probes,
    chaosWindows: report.chaosWindows,
    samples: report.samples,
    faults: report.faults.map(factsOfFault),
    ...optional("restarts", report.restarts === undefined ? undefined : restartObservations(report.restarts)),
    checks: report.checks.map(({ name, subject, tolerance }) => ({ name, subject, tolerance })),
    ...optional("aborted", verdict.result === "aborted" ? verdict.reason : undefined),
  };
}

function derive(facts: RunFacts): RunReport {
  const problems = factProblems(facts);
  if (problems.length > 0) {
    throw new BroadsideError(
      "BRD_INTERNAL",
      `the run's evidence contradicts itself: ${describeProblems(problems)}`,
    );
  }
  const samples = bySentAt(facts.samples);
  const names = facts.probes.map((probe) => probe.name);
  const windows = phasesOf(facts.startedAt, facts.endedAt, facts.chaosWindows);
  const phases = {
    baseline: windowFigures(names, samples, windows.baseline),
    chaos: windowFigures(names, samples, windows.chaos),
    recovery: windowFigures(names, samples, windows.recovery),
  };
  const overall = windowFigures(names, samples, { start: facts.startedAt, end: facts.endedAt });
  const faults = facts.faults.map(withOutcome);
  const restarts = facts.restarts === undefined ? undefined : restartReport(facts.restarts);
  const checks = facts.checks.map((spec) => evaluate(spec, { phases, overall, faults }));
  return {
    apiVersion: reportApiVersion,
    kind: reportKind,
    schemaVersion: reportSchemaVersion,
    title: facts.title,
    startedAt: facts.startedAt,
    endedAt: facts.endedAt,
    probes: facts.probes,
    chaosWindows: facts.chaosWindows,
    phases,
    overall,
    faults,
    replacements: replacementsSeen(facts.faults),
    ...optional("restarts", restarts),
    checks,
    verdict: verdictOf(facts.aborted, checks, faults, restarts),
    samples,
  };
}

/** Pretty-printed, with a final newline: the file `broadside run` writes and `broadside report` reads. */
export function renderJson(report: RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

// ---- consistency of the evidence (shared by the builder and the reader) ----

type Path = readonly (string | number)[];

interface Problem {
  readonly path: Path;
  readonly message: string;
}

/** What a path names when it is empty: the report as a whole. */
const documentRoot = "(the document)";

function describeProblems(problems: readonly Problem[]): string {
  const shown = problems
    .slice(0, 3)
    .map((problem) => `${formatPath(problem.path, documentRoot)}: ${problem.message}`);
  const more = problems.length > shown.length ? ` (and ${problems.length - shown.length} more)` : "";
  return `${shown.join("; ")}${more}`;
}

function factProblems(facts: RunFacts): Problem[] {
  const endProblem: Problem[] =
    facts.endedAt < facts.startedAt ? [{ path: ["endedAt"], message: "is before startedAt" }] : [];
  return [
    ...endProblem,
    ...probeProblems(facts.probes),
    ...windowProblems(facts),
    ...sampleProblems(facts),
    ...checkProblems(facts),
  ];
}

function probeProblems(probes: readonly ProbeSpec[]): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  probes.forEach((probe, index) => {
    if (seen.has(probe.name))
      problems.push({ path: ["probes", index, "name"], message: "is declared twice" });
    seen.add(probe.name);
  });
  return problems;
}

/** Phases are derived from the windows' order, so windows must be sorted, disjoint and inside the run. */
function windowProblems(facts: RunFacts): Problem[] {
  const problems: Problem[] = [];
  let previousEnd = facts.startedAt;
  facts.chaosWindows.forEach((window, index) => {
    const path = ["chaosWindows", index];
    if (window.end < window.start) problems.push({ path, message: "ends before it starts" });
    else if (window.start < facts.startedAt || window.end > facts.endedAt) {
      problems.push({ path, message: "is not inside [startedAt, endedAt]" });
    } else if (window.start < previousEnd) {
      problems.push({ path, message: "overlaps or precedes the window before it" });
    }
    previousEnd = Math.max(previousEnd, window.end);
  });
  return problems;
}

function sampleProblems(facts: RunFacts): Problem[] {
  const declared = new Set(facts.probes.map((probe) => probe.name));
  const problems: Problem[] = [];
  facts.samples.forEach((sample, index) => {
    if (!declared.has(sample.probe)) {
      problems.push({
        path: ["samples", index, "probe"],
        message: `names undeclared probe "${sample.probe}"`,
      });
    }
  });
  return problems;
}

function checkProblems(facts: RunFacts): Problem[] {
  const declared = new Set(facts.probes.map((probe) => probe.name));
  const problems: Problem[] = [];
  facts.checks.forEach((check, index) => {
    const subject = check.subject;
    if (subject.type === "probe" && !declared.has(subject.probe)) {
      problems.push({
        path: ["checks", index, "subject", "probe"],
        message: `names undeclared probe "${subject.probe}"`,
      });
    }
    if (subject.type === "fault-recovery" && subject.fault >= facts.faults.length) {
      problems.push({
        path: ["checks", index, "subject", "fault"],
        message: `there is no fault ${subject.fault}`,
      });
    }
  });
  return problems;
}

function differences(stored: unknown, fresh: unknown, path: Path): string[] {
  if (Object.is(stored, fresh)) return [];
  if (Array.isArray(stored) && Array.isArray(fresh)) {
    const left: readonly unknown[] = stored;
    const right: readonly unknown[] = fresh;
    if (left.length !== right.length) return [formatPath(path, documentRoot)];
    return left.flatMap((item, index) => differences(item, right[index], [...path, index]));
  }
  if (isRecord(stored) && isRecord(fresh)) {
    const keys = [...new Set([...Object.keys(stored), ...Object.keys(fresh)])];
    return keys.flatMap((key) => differences(stored[key], fresh[key], [...path, key]));
  }
  return [formatPath(path, documentRoot)];
}

// ---- the schema, for reading a report back ----

const epochMs = z.number().nonnegative().max(8.64e15);
const ms = z.number();
const count = z.number().int().nonnegative();
const name = z.string().min(1);

const sampleSchema = z.object({
  probe: name,
  sentAt: epochMs,
  latencyMs: z.number().nonnegative(),
  ok: z.boolean(),
  status: z.number().int().exactOptional(),
  error: z.string().exactOptional(),
});

const probeFiguresSchema = z.object({
  probe: name,
  sent: count,
  successes: count,
  failures: count,
  availability: z.number().min(0).max(1).nullable(),
  longestUnreachable: z.object({ ms, from: epochMs, to: epochMs, stillFailing: z.boolean() }).nullable(),
  latency: z.object({ samples: count, p50Ms: ms, p95Ms: ms, p99Ms: ms, maxMs: ms }).nullable(),
  errors: z.array(z.object({ kind: z.string(), count })),
});

const windowFiguresSchema = z.object({ start: epochMs, end: epochMs, probes: z.array(probeFiguresSchema) });

const workloadRefSchema = z.object({ kind: name, namespace: z.string(), name });

const shotSchema = z.discriminatedUnion("accepted", [
  z.object({ accepted: z.literal(true), at: epochMs }),
  z.object({ accepted: z.literal(false), at: epochMs, reason: z.string() }),
]);

const replacementSchema = z.discriminatedUnion("expected", [
  z.object({ expected: z.literal(false), why: z.string() }),
  z.object({
    expected: z.literal(true),
    pod: z.object({ name, uid: z.string(), node: z.string().exactOptional() }).exactOptional(),
    createdMs: ms.exactOptional(),
    scheduledMs: ms.exactOptional(),
    readyMs: ms.exactOptional(),
  }),
]);

const victimSchema = z.object({
  pod: z.object({ namespace: z.string(), name, uid: z.string(), node: z.string().exactOptional() }),
  workload: workloadRefSchema.exactOptional(),
  shot: shotSchema.exactOptional(),
  requestedAt: epochMs.exactOptional(),
  acceptedMs: ms.exactOptional(),
  goneMs: ms.exactOptional(),
  replacement: replacementSchema,
});

const workloadSchema = z.object({
  workload: workloadRefSchema,
  status: z.enum(["restored", "not-restored", "untracked", "not-hit"]),
  desired: count.exactOptional(),
  available: count.exactOptional(),
  dipped: z.boolean(),
  restoredAt: epochMs.exactOptional(),
  restoredMs: ms.exactOptional(),
  restoredBy: z.enum(["workload-status", "replacements-ready"]).exactOptional(),
});

const changeSchema = z.object({
  ledgerId: name,
  target: z.object({ apiVersion: name, kind: name, namespace: z.string(), name, uid: z.string() }),
  path: z.string(),
  injectedAt: epochMs,
  result: z.enum([
    "reverted",
    "healed-externally",
    "target-gone",
    "never-applied",
    "failed",
    "closed-elsewhere",
    "left-open",
  ]),
  resolvedAt: epochMs,
  by: z.string().exactOptional(),
  detail: z.string().exactOptional(),
});

const outcomeFields = {
  targets: z.array(z.string()),
  recovered: z.boolean(),
  recoveryMs: ms.nullable(),
  problems: z.array(z.string()),
};

const faultSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("pod"),
    kind: name,
    ledgerIds: z.array(z.string()),
    victims: z.array(victimSchema),
    workloads: z.array(workloadSchema),
    complete: z.boolean(),
    watchFailure: z.string().exactOptional(),
    ...outcomeFields,
  }),
  z.object({ type: z.literal("object"), kind: name, changes: z.array(changeSchema), ...outcomeFields }),
]);

const replacementSeenSchema = z.object({
  fault: count,
  victim: z.string(),
  pod: z.string(),
  node: z.string().exactOptional(),
  createdMs: ms.exactOptional(),
  scheduledMs: ms.exactOptional(),
  readyMs: ms.exactOptional(),
});

const restartChangeSchema = z.object({
  namespace: z.string(),
  name,
  node: z.string().exactOptional(),
  before: count,
  after: count.exactOptional(),
  change: z.number().int().nullable(),
});

const subjectSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("probe"),
    probe: name,
    scope: z.enum([...phaseNames, "overall"]),
    figure: z.enum(probeFigureNames),
  }),
  z.object({ type: z.literal("fault-recovery"), fault: count }),
]);

const checkSchema = z.object({
  name: z.string(),
  subject: subjectSchema,
  tolerance: z.object({ op: z.enum(["<=", "<", ">=", ">"]), limit: z.number() }),
  observed: z.number().nullable(),
  passed: z.boolean(),
});

const verdictSchema = z.discriminatedUnion("result", [
  z.object({ result: z.literal("passed") }),
  z.object({ result: z.literal("failed"), reasons: z.array(z.string()) }),
  z.object({ result: z.literal("aborted"), reason: z.string() }),
]);

const runReportSchema: z.ZodType<RunReport> = z
  .object({
    apiVersion: z.literal(
      reportApiVersion,
      `must be "${reportApiVersion}": this is not a Broadside run report`,
    ),
    kind: z.literal(reportKind, `must be "${reportKind}"`),
    schemaVersion: z.literal(
      reportSchemaVersion,
      `this Broadside reads schemaVersion ${reportSchemaVersion}; the file was written by another version`,
    ),
    title: z.string(),
    startedAt: epochMs,
    endedAt: epochMs,
    probes: z.array(
      z.object({ name, intervalMs: z.number().positive(), target: z.string().exactOptional() }),
    ),
    chaosWindows: z.array(z.object({ start: epochMs, end: epochMs, label: z.string().exactOptional() })),
    phases: z.object({
      baseline: windowFiguresSchema,
      chaos: windowFiguresSchema,
      recovery: windowFiguresSchema,
    }),
    overall: windowFiguresSchema,
    faults: z.array(faultSchema),
    replacements: z.array(replacementSeenSchema),
    restarts: z
      .object({
        targets: z.array(restartChangeSchema),
        nodeMates: z.array(restartChangeSchema),
        isolationHeld: z.boolean(),
      })
      .exactOptional(),
    checks: z.array(checkSchema),
    verdict: verdictSchema,
    samples: z.array(sampleSchema),
  })
  .superRefine((report, context) => {
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
  const result = runReportSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    path: issue.path.map((key) => (typeof key === "symbol" ? String(key) : key)),
    message: issue.message,
  }));
  throw usageError(source, describeProblems(problems));
}

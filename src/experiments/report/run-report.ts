import { z } from "zod";
import { probeFigureNames, type CheckResult, type CheckSpec, type Verdict } from "./checks.js";
import type { FaultFacts, FaultInput, ReplacementSeen } from "./fault-facts.js";
import type { FaultReport } from "./fault-outcome.js";
import type { RestartObservation, RestartReport } from "./restarts.js";
import { phaseNames, type PhaseName, type Sample, type TimeWindow, type WindowFigures } from "./samples.js";

/**
 * The RunReport: the JSON document a `broadside run` leaves behind, and the one input of every other
 * format (`broadside report run.json --format md|junit|html`). It keeps the evidence (raw samples, the
 * engine's recovery facts, the restart counts, the check definitions) next to the figures and verdict
 * derived from it; `recompute` derives them again, so a reader can check every figure against its samples.
 *
 * Versioning: apiVersion and kind name the document; schemaVersion changes whenever a field changes
 * meaning or a required field is added. Readers refuse other schema versions rather than misread them,
 * and drop fields they do not know (a later additive change does not stop an older reader).
 *
 * This module is the document's model and schema; build.ts builds and recomputes it, consistency.ts
 * checks its evidence, json.ts writes and reads it.
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
export interface RunFacts extends Omit<RunInput, "faults"> {
  readonly faults: readonly FaultFacts[];
}

// ---- the schema, for reading a report back (json.ts adds the checks of consistency.ts) ----

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

export const runReportSchema: z.ZodType<RunReport> = z.object({
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
  probes: z.array(z.object({ name, intervalMs: z.number().positive(), target: z.string().exactOptional() })),
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
});

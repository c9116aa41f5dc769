import type { LedgerRecord, TargetRef } from "../../core/ledger/record.js";
import type { RecoveryResult, RecoverySummary } from "../../core/ledger/recovery.js";
import { optional } from "../../core/objects.js";
import type {
  RecoveryReport,
  RestorationStatus,
  VictimTimeline,
  WorkloadRestoration,
} from "../../kube/recovery-timing.js";

/**
 * Faults as a report tells them: what was hit, the ledger records, and the recovery figures the engine
 * measured (kube/recovery-timing.ts for pod faults, core/ledger/recovery.ts for object faults). The
 * report's shapes restate the engine's without `undefined` values, because JSON has none: a milestone
 * that was not seen is an absent field. What the report concludes from these facts is fault-outcome.ts's.
 */

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node?: string;
}

export interface WorkloadRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export type ShotReport =
  | { readonly accepted: true; readonly at: number }
  | { readonly accepted: false; readonly at: number; readonly reason: string };

export type ReplacementReport =
  | { readonly expected: false; readonly why: string }
  | {
      readonly expected: true;
      readonly pod?: { readonly name: string; readonly uid: string; readonly node?: string };
      readonly createdMs?: number;
      readonly scheduledMs?: number;
      readonly readyMs?: number;
    };

/** One victim's milestones, each in ms since `requestedAt` (the shot being sent). */
export interface VictimReport {
  readonly pod: PodRef;
  readonly workload?: WorkloadRef;
  readonly shot?: ShotReport;
  readonly requestedAt?: number;
  readonly acceptedMs?: number;
  readonly goneMs?: number;
  readonly replacement: ReplacementReport;
}

export interface WorkloadReport {
  readonly workload: WorkloadRef;
  readonly status: RestorationStatus;
  readonly desired?: number;
  readonly available?: number;
  readonly dipped: boolean;
  readonly restoredAt?: number;
  /** Since the first shot at the workload was sent. */
  readonly restoredMs?: number;
  readonly restoredBy?: "workload-status" | "replacements-ready";
}

export interface PodFaultFacts {
  readonly type: "pod";
  /** The fault module: "pod-kill", "pod-evict". */
  readonly kind: string;
  readonly ledgerIds: readonly string[];
  readonly victims: readonly VictimReport[];
  readonly workloads: readonly WorkloadReport[];
  /** Every awaited milestone was seen before the engine's timeout. */
  readonly complete: boolean;
  readonly watchFailure?: string;
}

/** One changed field of one object and how it came back. */
export interface ObjectChangeReport {
  readonly ledgerId: string;
  readonly target: TargetRef;
  readonly path: string;
  /** Epoch ms of the change (the ledger record is written right before it). */
  readonly injectedAt: number;
  readonly result: RecoveryResult;
  /** Epoch ms of the outcome: the revert, the external heal, or giving up. */
  readonly resolvedAt: number;
  /** Who else restored the target (a field manager), when known. */
  readonly by?: string;
  readonly detail?: string;
}

export interface ObjectFaultFacts {
  readonly type: "object";
  /** The fault module: "config-drift", "resource-squeeze", "scale". */
  readonly kind: string;
  readonly changes: readonly ObjectChangeReport[];
}

/** What the engine reported: the part of a fault's entry that a report keeps as evidence. */
export type FaultFacts = PodFaultFacts | ObjectFaultFacts;

/** A pod fault as the engine reports it (PodChaosResult: the shots' ledger ids and the recovery report). */
export interface PodFaultInput {
  readonly type: "pod";
  readonly kind: string;
  readonly ledgerIds: readonly string[];
  readonly recovery: RecoveryReport;
}

/** An object fault: per change, when it was injected and the recovery summary of its record. */
export interface ObjectFaultInput {
  readonly type: "object";
  readonly kind: string;
  readonly changes: readonly { readonly injectedAt: number; readonly recovery: RecoverySummary }[];
}

export type FaultInput = PodFaultInput | ObjectFaultInput;

/**
 * Pairs ObjectChaosResult's records with their recovery summaries by ledger id; a record's createdAt
 * stands for the injection, since the record is written right before the change. A record without a
 * summary is left out: this run never recovered it, and the ledger still holds it open. A summary
 * without its record (which the engine does not produce) is timed from its own outcome: 0 ms.
 */
export function objectFaultInput(
  kind: string,
  records: readonly LedgerRecord[],
  recovery: readonly RecoverySummary[],
): ObjectFaultInput {
  const injected = new Map(records.map((record) => [record.id, record.createdAt]));
  return {
    type: "object",
    kind,
    changes: recovery.map((summary) => ({
      injectedAt: injected.get(summary.id) ?? summary.at,
      recovery: summary,
    })),
  };
}

export function faultFacts(input: FaultInput): FaultFacts {
  if (input.type === "pod") {
    return {
      type: "pod",
      kind: input.kind,
      ledgerIds: [...input.ledgerIds],
      victims: input.recovery.victims.map(victimReport),
      workloads: input.recovery.workloads.map(workloadReport),
      complete: input.recovery.complete,
      ...optional("watchFailure", input.recovery.watchFailure),
    };
  }
  return {
    type: "object",
    kind: input.kind,
    changes: input.changes.map(({ injectedAt, recovery }) => ({
      ledgerId: recovery.id,
      target: recovery.target,
      path: recovery.path,
      injectedAt,
      result: recovery.result,
      resolvedAt: recovery.at,
      ...optional("by", recovery.by),
      ...optional("detail", recovery.detail),
    })),
  };
}

export function victimReport(timeline: VictimTimeline): VictimReport {
  const { pod, shot, replacement } = timeline;
  return {
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid, ...optional("node", pod.node) },
    ...optional("workload", timeline.workload),
    ...optional("shot", shot === undefined ? undefined : shotReport(shot)),
    ...optional("requestedAt", timeline.requestedAt),
    ...optional("acceptedMs", timeline.acceptedMs),
    ...optional("goneMs", timeline.goneMs),
    replacement: replacementReport(replacement),
  };
}

function shotReport(shot: NonNullable<VictimTimeline["shot"]>): ShotReport {
  return shot.accepted
    ? { accepted: true, at: shot.at }
    : { accepted: false, at: shot.at, reason: shot.reason };
}

function replacementReport(replacement: VictimTimeline["replacement"]): ReplacementReport {
  if (!replacement.expected) return { expected: false, why: replacement.why };
  const pod = replacement.pod;
  return {
    expected: true,
    ...optional(
      "pod",
      pod === undefined ? undefined : { name: pod.name, uid: pod.uid, ...optional("node", pod.node) },
    ),
    ...optional("createdMs", replacement.createdMs),
    ...optional("scheduledMs", replacement.scheduledMs),
    ...optional("readyMs", replacement.readyMs),
  };
}

export function workloadReport(restoration: WorkloadRestoration): WorkloadReport {
  return {
    workload: restoration.workload,
    status: restoration.status,
    ...optional("desired", restoration.desired),
    ...optional("available", restoration.available),
    dipped: restoration.dipped,
    ...optional("restoredAt", restoration.restoredAt),
    ...optional("restoredMs", restoration.restoredMs),
    ...optional("restoredBy", restoration.restoredBy),
  };
}
/** Who put the original back: Broadside, the field manager that healed it, or "unknown". */
export function healedBy(change: ObjectChangeReport): string | undefined {
  if (change.result === "reverted") return "broadside";
  if (change.result === "healed-externally") return change.by ?? "unknown";
  return undefined;
}

export function describeWorkload(workload: WorkloadRef): string {
  return `${workload.kind} ${workload.namespace}/${workload.name}`;
}

export function describeChange(change: ObjectChangeReport): string {
  const target = change.target;
  return `${target.kind} ${target.namespace}/${target.name} ${change.path}`;
}

/** A replacement pod seen taking a victim's place. */
export interface ReplacementSeen {
  /** Index of the fault in the report's `faults`. */
  readonly fault: number;
  readonly victim: string;
  readonly pod: string;
  readonly node?: string;
  readonly createdMs?: number;
  readonly scheduledMs?: number;
  readonly readyMs?: number;
}

export function replacementsSeen(faults: readonly FaultFacts[]): ReplacementSeen[] {
  return faults.flatMap((fault, index) =>
    fault.type === "pod" ? fault.victims.flatMap((victim) => replacementOf(index, victim)) : [],
  );
}

function replacementOf(fault: number, victim: VictimReport): ReplacementSeen[] {
  const replacement = victim.replacement;
  if (!replacement.expected || replacement.pod === undefined) return [];
  return [
    {
      fault,
      victim: `${victim.pod.namespace}/${victim.pod.name}`,
      pod: `${victim.pod.namespace}/${replacement.pod.name}`,
      ...optional("node", replacement.pod.node),
      ...optional("createdMs", replacement.createdMs),
      ...optional("scheduledMs", replacement.scheduledMs),
      ...optional("readyMs", replacement.readyMs),
    },
  ];
}

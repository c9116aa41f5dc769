import { z } from "zod";
import type { LedgerRecord } from "../../core/ledger/record.js";
import type { RecoverySummary } from "../../core/ledger/recovery.js";
import { optional } from "../../core/objects.js";
import type { ContainerKill } from "../../engine/container-kill.js";
import type { NetworkFaultRun } from "../../engine/network-chaos.js";
import type { PodFailureTimeline } from "../../engine/pod-readiness.js";
import type { RecoveryReport, VictimTimeline, WorkloadRestoration } from "../../kube/recovery/types.js";
import { count, epochMs, ms, name } from "./schema-fields.js";

/**
 * Faults as a report tells them: what was hit, the ledger records, and the recovery figures the engine
 * measured (kube/recovery/ for pod faults, core/ledger/recovery.ts for object faults). The
 * report's shapes restate the engine's without `undefined` values, because JSON has none: a milestone
 * that was not seen is an absent field. What the report concludes from these facts is fault-outcome.ts's.
 * The shapes are zod schemas, the one source of their types (schema-fields.ts); the conversions below
 * from the engine's types are where the compiler checks that the two still agree.
 */

const podRefSchema = z
  .object({ namespace: z.string(), name, uid: z.string(), node: z.string().exactOptional() })
  .readonly();
export type PodRef = z.infer<typeof podRefSchema>;

const workloadRefSchema = z.object({ kind: name, namespace: z.string(), name }).readonly();
export type WorkloadRef = z.infer<typeof workloadRefSchema>;

const shotSchema = z.discriminatedUnion("accepted", [
  z.object({ accepted: z.literal(true), at: epochMs }).readonly(),
  z.object({ accepted: z.literal(false), at: epochMs, reason: z.string() }).readonly(),
]);
export type ShotReport = z.infer<typeof shotSchema>;

const replacementSchema = z.discriminatedUnion("expected", [
  z.object({ expected: z.literal(false), why: z.string() }).readonly(),
  z
    .object({
      expected: z.literal(true),
      pod: z.object({ name, uid: z.string(), node: z.string().exactOptional() }).readonly().exactOptional(),
      createdMs: ms.exactOptional(),
      scheduledMs: ms.exactOptional(),
      readyMs: ms.exactOptional(),
    })
    .readonly(),
]);
export type ReplacementReport = z.infer<typeof replacementSchema>;

/** One victim's milestones, each in ms since `requestedAt` (the shot being sent). */
const victimSchema = z
  .object({
    pod: podRefSchema,
    workload: workloadRefSchema.exactOptional(),
    shot: shotSchema.exactOptional(),
    requestedAt: epochMs.exactOptional(),
    acceptedMs: ms.exactOptional(),
    goneMs: ms.exactOptional(),
    replacement: replacementSchema,
  })
  .readonly();
export type VictimReport = z.infer<typeof victimSchema>;

const workloadSchema = z
  .object({
    workload: workloadRefSchema,
    status: z.enum(["restored", "not-restored", "untracked", "not-hit"]),
    desired: count.exactOptional(),
    available: count.exactOptional(),
    dipped: z.boolean(),
    restoredAt: epochMs.exactOptional(),
    restoredMs: ms.exactOptional().meta({ description: "Since the first shot at the workload was sent." }),
    restoredBy: z.enum(["workload-status", "replacements-ready"]).exactOptional(),
  })
  .readonly();
export type WorkloadReport = z.infer<typeof workloadSchema>;

/**
 * One container killed by container-kill (its pod stays): the daemon's answer, and, from the pod's watch
 * events, in ms since the kill (the daemon's stamp of the signal), the container running again and the pod
 * Ready again; the container's restartCount before and once it ran again, and how its last run ended.
 */
const killedContainerSchema = z
  .object({
    pod: podRefSchema,
    container: name,
    ledgerId: name,
    shot: shotSchema.meta({ description: "Accepted at the daemon's stamp of the signal, or refused." }),
    restartsBefore: count.meta({ description: "The container's restartCount before the kill." }),
    restartsAfter: count.exactOptional().meta({
      description: "Its restartCount in the event that showed it running again.",
    }),
    lastTerminated: z
      .object({ exitCode: z.number().int().exactOptional(), reason: z.string().exactOptional() })
      .readonly()
      .exactOptional()
      .meta({ description: "lastState.terminated in that event (137, Error, for a SIGKILL)." }),
    readyLost: z.boolean().meta({ description: "The pod's Ready condition was seen False in between." }),
    runningAgainMs: ms.exactOptional().meta({ description: "The container running again, restarted." }),
    readyAgainMs: ms.exactOptional().meta({ description: "The pod Ready again, after that." }),
    runningAgainVersion: z.string().exactOptional().meta({
      description: "The pod's resourceVersion in the event that showed it running again.",
    }),
    readyAgainVersion: z.string().exactOptional().meta({
      description: "The same in the Ready-again event: another value means two distinct events.",
    }),
  })
  .readonly();
export type KilledContainerReport = z.infer<typeof killedContainerSchema>;

/** A pod fault's facts; fault-outcome.ts adds the outcome to make the report's entry. */
export const podFaultFactsSchema = z.object({
  type: z.literal("pod"),
  kind: name.meta({ description: 'The fault module: "pod-kill", "pod-evict".' }),
  ledgerIds: z.array(z.string()).readonly(),
  victims: z.array(victimSchema).readonly(),
  workloads: z.array(workloadSchema).readonly(),
  complete: z
    .boolean()
    .meta({ description: "Every awaited milestone was seen before the engine's timeout." }),
  watchFailure: z.string().exactOptional(),
  containers: z.array(killedContainerSchema).readonly().exactOptional().meta({
    description: "container-kill: each container killed, its restart and the pod's readiness.",
  }),
});
export type PodFaultFacts = Readonly<z.infer<typeof podFaultFactsSchema>>;

/** One changed field of one object and how it came back. */
const objectChangeSchema = z
  .object({
    ledgerId: name,
    target: z
      .object({ apiVersion: name, kind: name, namespace: z.string(), name, uid: z.string() })
      .readonly(),
    path: z.string(),
    injectedAt: epochMs.meta({
      description: "Epoch ms of the change (the ledger record is written right before it).",
    }),
    result: z.enum([
      "reverted",
      "healed-externally",
      "target-gone",
      "never-applied",
      "failed",
      "closed-elsewhere",
      "left-open",
    ]),
    resolvedAt: epochMs.meta({
      description: "Epoch ms of the outcome: the revert, the external heal, or giving up.",
    }),
    by: z.string().exactOptional().meta({
      description: "Who else restored the target (a field manager), when known.",
    }),
    detail: z.string().exactOptional(),
  })
  .readonly();
export type ObjectChangeReport = z.infer<typeof objectChangeSchema>;

/**
 * What one pod paused by pod-failure went through, from its watch events: each milestone in ms since its
 * injection (its first change), as a pod kill's victims have theirs; and its restart count before and after.
 */
const pausedPodSchema = z
  .object({
    pod: podRefSchema,
    injectedAt: epochMs.meta({ description: "Epoch ms of the pod's first change." }),
    pausedMs: ms.exactOptional().meta({ description: "Its status showed the pause image running." }),
    readyLostMs: ms.exactOptional().meta({ description: "Ready turned False." }),
    imagesBackMs: ms.exactOptional().meta({ description: "Its status showed its own images again." }),
    readyRegainedMs: ms.exactOptional().meta({ description: "Ready turned True again." }),
    restartsBefore: count.meta({ description: "Container restarts summed, before the first change." }),
    restartsAfter: count.exactOptional().meta({
      description: "The same once the pod was back; absent when it was gone.",
    }),
    gone: z.boolean().meta({ description: "The pod was deleted while it was watched." }),
  })
  .readonly();
export type PausedPodReport = z.infer<typeof pausedPodSchema>;

/** An object fault's facts; fault-outcome.ts adds the outcome to make the report's entry. */
export const objectFaultFactsSchema = z.object({
  type: z.literal("object"),
  kind: name.meta({
    description:
      'The fault module: "config-drift", "resource-squeeze", "scale", "pod-failure"; a node daemon\'s timed fault: "bandwidth", "delay", "loss", "partition", "stress".',
  }),
  changes: z.array(objectChangeSchema).readonly(),
  pods: z.array(pausedPodSchema).readonly().exactOptional().meta({
    description: "pod-failure: each paused pod's milestones and restarts, from its watch events.",
  }),
});
export type ObjectFaultFacts = Readonly<z.infer<typeof objectFaultFactsSchema>>;

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
  /** pod-failure: what each paused pod went through. */
  readonly pods?: readonly PodFailureTimeline[];
}

/** container-kill: the kills as the engine reports them (engine/container-kill.ts). */
export interface ContainerKillInput {
  readonly type: "container";
  readonly kind: "container-kill";
  readonly kills: readonly ContainerKill[];
}

export type FaultInput = PodFaultInput | ObjectFaultInput | ContainerKillInput;

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
  pods?: readonly PodFailureTimeline[],
): ObjectFaultInput {
  const injected = new Map(records.map((record) => [record.id, record.createdAt]));
  return {
    type: "object",
    kind,
    ...optional("pods", pods),
    changes: recovery.map((summary) => ({
      injectedAt: injected.get(summary.id) ?? summary.at,
      recovery: summary,
    })),
  };
}

/**
 * A timed node fault through the node daemons (issue 12: a network fault, a stress): per pod, the daemon's
 * answers as a change of the pod's `/node-fault`, as its ledger record tells it. Applied at the daemon's stamp, resolved at its
 * Reverted answer: that span is the fault's own window on the node. Never applied when the daemon refused
 * or did not answer; left open when it applied and was not seen reverting (the record stays for recover).
 */
export function timedFaultInput(kind: string, runs: readonly NetworkFaultRun[]): ObjectFaultInput {
  return { type: "object", kind, changes: runs.map((run) => timedChange(kind, run)) };
}

function timedChange(kind: string, run: NetworkFaultRun): ObjectFaultInput["changes"][number] {
  const actedAt = run.applied?.actedAt;
  const at = run.final?.revertedAt ?? run.final?.at ?? actedAt ?? 0;
  return {
    injectedAt: actedAt ?? at,
    recovery: {
      id: run.ledgerId,
      faultKind: kind,
      target: { apiVersion: "v1", kind: "Pod", ...run.target.pod },
      path: "/node-fault",
      result: timedResult(run),
      at,
      by: `broadside daemon of node ${run.target.node}`,
      ...optional("detail", run.problem ?? run.final?.message),
    },
  };
}

function timedResult(run: NetworkFaultRun): RecoverySummary["result"] {
  if (run.applied === undefined) return "never-applied";
  return run.final?.phase === "Reverted" ? "reverted" : "left-open";
}

export function faultFacts(input: FaultInput): FaultFacts {
  if (input.type === "container") {
    // The pods stay: no victim is gone and no replacement is expected, so only the kills are facts.
    return {
      type: "pod",
      kind: input.kind,
      ledgerIds: input.kills.map((kill) => kill.ledgerId),
      victims: [],
      workloads: [],
      complete: input.kills.every(
        (kill) => !kill.outcome.accepted || kill.milestones?.readyAgainAt !== undefined,
      ),
      containers: input.kills.map(killedContainerReport),
    };
  }
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
    ...optional("pods", input.pods, (pods) => pods.map(pausedPodReport)),
  };
}

function killedContainerReport(kill: ContainerKill): KilledContainerReport {
  const { target, outcome } = kill;
  const m = kill.milestones;
  const since = (at: number | undefined) =>
    at === undefined || !outcome.accepted ? undefined : at - outcome.at;
  return {
    pod: { ...target.pod, node: target.node },
    container: target.container,
    ledgerId: kill.ledgerId,
    shot: shotReport(outcome),
    restartsBefore: target.restartCount,
    ...optional("restartsAfter", m?.restartCount),
    ...optional("lastTerminated", m?.lastTerminated, (last) => ({
      ...optional("exitCode", last.exitCode),
      ...optional("reason", last.reason),
    })),
    readyLost: m?.readyLost ?? false,
    ...optional("runningAgainMs", since(m?.runningAgainAt)),
    ...optional("readyAgainMs", since(m?.readyAgainAt)),
    ...eventVersions(kill),
  };
}

/** The pod's resourceVersion in the running-again and Ready-again events, for an accepted kill. */
function eventVersions(kill: ContainerKill): Partial<KilledContainerReport> {
  const m = kill.outcome.accepted ? kill.milestones : undefined;
  return {
    ...optional("runningAgainVersion", m?.runningAgainVersion),
    ...optional("readyAgainVersion", m?.readyAgainVersion),
  };
}

function pausedPodReport(timeline: PodFailureTimeline): PausedPodReport {
  const { pod } = timeline;
  return {
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid, ...optional("node", pod.node) },
    injectedAt: timeline.injectedAt,
    ...optional("pausedMs", timeline.pausedMs),
    ...optional("readyLostMs", timeline.readyLostMs),
    ...optional("imagesBackMs", timeline.imagesBackMs),
    ...optional("readyRegainedMs", timeline.readyRegainedMs),
    restartsBefore: timeline.restartsBefore,
    ...optional("restartsAfter", timeline.restartsAfter),
    gone: timeline.gone,
  };
}

export function victimReport(timeline: VictimTimeline): VictimReport {
  const { pod, shot, replacement } = timeline;
  return {
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid, ...optional("node", pod.node) },
    ...optional("workload", timeline.workload),
    ...optional("shot", shot, shotReport),
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
  return {
    expected: true,
    ...optional("pod", replacement.pod, (pod) => ({
      name: pod.name,
      uid: pod.uid,
      ...optional("node", pod.node),
    })),
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
export const replacementSeenSchema = z
  .object({
    fault: count.meta({ description: "Index of the fault in the report's `faults`." }),
    victim: z.string(),
    pod: z.string(),
    node: z.string().exactOptional(),
    createdMs: ms.exactOptional(),
    scheduledMs: ms.exactOptional(),
    readyMs: ms.exactOptional(),
  })
  .readonly();
export type ReplacementSeen = z.infer<typeof replacementSeenSchema>;

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

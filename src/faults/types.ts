import type { V1Pod } from "@kubernetes/client-node";
import type { Clock } from "../core/clock.js";
import type { RecordedValue, TargetRef } from "../core/ledger/record.js";
import type { PodShotOptions, ShotOutcome } from "../core/shot.js";
import type { ObjectReader } from "../kube/objects.js";
import type { PodShots } from "../kube/pods.js";

/**
 * The fault kinds and their contracts. A fault acts on one target; the engine (src/engine/) selects
 * targets, checks the rails, writes the ledger record before the mutation, observes, and recovers.
 */
export const objectFaultKinds = ["config-drift", "resource-squeeze", "scale", "pod-failure"] as const;
export type ObjectFaultKind = (typeof objectFaultKinds)[number];
export const podFaultKinds = ["pod-kill", "pod-evict"] as const;
export type PodFaultKind = (typeof podFaultKinds)[number];
export type FaultKind = ObjectFaultKind | PodFaultKind;
/**
 * A change that is no fault but is journaled and reverted like one: a duel's setting of a GitOps
 * controller's reconcile interval (ADR 0034).
 */
export const setupChangeKinds = ["gitops-interval"] as const;
export type SetupChangeKind = (typeof setupChangeKinds)[number];
/**
 * A change of a whole object rather than of one field: a duel's deletion of a managed ConfigMap, whose
 * record keeps the object to create it again (faults/object-delete.ts, kube/deleted-object-access.ts).
 */
export const wholeObjectChangeKinds = ["object-delete"] as const;
export type WholeObjectChangeKind = (typeof wholeObjectChangeKinds)[number];

/**
 * One change an object fault will make to one field of one object, planned from a read of the object
 * and not yet written anywhere. The engine turns it into a ledger record, then applies it.
 */
export interface PlannedChange {
  readonly faultKind: ObjectFaultKind | SetupChangeKind | WholeObjectChangeKind;
  readonly target: TargetRef;
  /** RFC 6901 JSON pointer into the object, e.g. "/data/LOG_LEVEL" or "/spec/replicas". */
  readonly path: string;
  readonly original: RecordedValue;
  readonly injected: RecordedValue;
  /** Secret data: values never reach a log, a terminal or JSON output. */
  readonly sensitive: boolean;
  /** For humans, values redacted when sensitive: 'configmap demo/app data.LOG_LEVEL: "info" -> "debug"'. */
  readonly description: string;
}

/**
 * How the caller spells a parameter in its messages: the CLI names its flag ("--replicas", "TARGET"), a
 * file names its field ("spec.method[1].params.replicas"). Undefined asks for the parameters as a whole.
 */
export type ParamNamer = (param: string | undefined) => string;

/** An object fault: reads its target and plans changes. Applying and reverting is generic (FieldAccess). */
export interface ObjectFault<Params> {
  readonly kind: ObjectFaultKind;
  /**
   * Reads the target and plans the changes. No writes. Throws a usage error naming the parameter, as
   * `names` spells it, when the object, container or key is missing or the parameters make no sense for it.
   */
  plan(objects: ObjectReader, params: Params, names: ParamNamer): Promise<PlannedChange[]>;
}

/** What a pod fault acts through: the shots it may send, and the clock that stamps their answers. */
export interface PodShotContext {
  readonly pods: PodShots;
  readonly clock: Clock;
}

/** A pod fault: one action on one pod, never forced past a PodDisruptionBudget. */
export interface PodFault {
  readonly kind: PodFaultKind;
  fire(ctx: PodShotContext, pod: V1Pod, options: PodShotOptions): Promise<ShotOutcome>;
}

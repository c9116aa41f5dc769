import type { V1Pod } from "@kubernetes/client-node";
import type { ShotOutcome } from "../../core/shot.js";
import type { Owner } from "../../core/targeting/types.js";

/**
 * The vocabulary of recovery timing: victims, workloads, the milestones folded from watch events
 * (fold.ts), and the session that feeds the fold from supervised informers (session.ts). Every *Ms figure
 * is milliseconds since the shot was sent; every *At figure is epoch ms, stamped when its event arrived.
 */

/** Workload kinds whose status says how many replicas are available, so restoration can be timed. */
export const trackedWorkloadKinds = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"] as const;
export type TrackedWorkloadKind = (typeof trackedWorkloadKinds)[number];

export function isTrackedKind(kind: string): kind is TrackedWorkloadKind {
  return trackedWorkloadKinds.some((tracked) => tracked === kind);
}

export interface WorkloadRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** A victim as the fold needs it; victimSpec (fold.ts) builds one from the pod. */
export interface VictimSpec {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node: string | undefined;
  /** The pod's own controller (a Deployment pod's ReplicaSet): the one that creates its replacement. */
  readonly controller: Owner | undefined;
  /** The workload whose availability is watched (the Deployment); undefined for a bare pod. */
  readonly workload: Owner | undefined;
}

/** A workload's replica counts, read from its status. */
export interface Availability {
  readonly desired: number;
  readonly available: number;
}

/** The fields of Deployments, StatefulSets, ReplicaSets and DaemonSets that availability is read from. */
export interface WorkloadShape {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  // selector, which every such spec has, keeps this from being a weak type DaemonSetSpec could not match.
  readonly spec?: { readonly replicas?: number; readonly selector?: unknown };
  readonly status?: {
    readonly availableReplicas?: number;
    readonly numberAvailable?: number;
    readonly desiredNumberScheduled?: number;
  };
}

/** What happened to the pod that should take a victim's place. Figures are ms since the shot's origin. */
export type ReplacementTimeline =
  | { readonly expected: false; readonly why: string }
  | {
      readonly expected: true;
      readonly pod:
        { readonly name: string; readonly uid: string; readonly node: string | undefined } | undefined;
      readonly createdMs: number | undefined;
      readonly scheduledMs: number | undefined;
      readonly readyMs: number | undefined;
    };

/** One victim's story. Every *Ms figure is milliseconds since `requestedAt`; undefined means not seen. */
export interface VictimTimeline {
  readonly pod: {
    readonly namespace: string;
    readonly name: string;
    readonly uid: string;
    readonly node: string | undefined;
  };
  readonly workload: WorkloadRef | undefined;
  readonly shot: ShotOutcome | undefined;
  /** Epoch ms the shot was sent, or when it was answered if the caller did not say when it was sent. */
  readonly requestedAt: number | undefined;
  readonly acceptedMs: number | undefined;
  readonly goneMs: number | undefined;
  readonly replacement: ReplacementTimeline;
}

/**
 * restored: back at desired available replicas after a dip; not-restored: not (yet) back; untracked: a kind
 * without a replica count (a Job, a custom controller); not-hit: no shot at it was accepted.
 */
export type RestorationStatus = "restored" | "not-restored" | "untracked" | "not-hit";

export interface WorkloadRestoration {
  readonly workload: WorkloadRef;
  readonly status: RestorationStatus;
  /** The last counts seen, undefined for an untracked kind. */
  readonly desired: number | undefined;
  readonly available: number | undefined;
  /** Availability fell below desired after the first shot at the workload was sent. */
  readonly dipped: boolean;
  /** Epoch ms. */
  readonly restoredAt: number | undefined;
  /** Since the first shot at the workload was sent. */
  readonly restoredMs: number | undefined;
  /**
   * workload-status: the status was seen back at desired after the dip. replacements-ready: status updates
   * never showed the dip (they can coalesce), so the last replacement turning Ready stands for it.
   */
  readonly restoredBy: "workload-status" | "replacements-ready" | undefined;
}

/** A victim and its resolved workload (PodFacts.owner). */
export interface RecoveryTarget {
  readonly pod: V1Pod;
  readonly owner: Owner | undefined;
}

export interface RecoveryOptions {
  /** How long finish() waits for every milestone, counted from the finish() call. */
  readonly timeoutMs: number;
  /** Also wait for each accepted victim to finish its graceful shutdown and disappear. */
  readonly waitForVictimsGone: boolean;
}

export interface RecoveryReport {
  readonly victims: VictimTimeline[];
  readonly workloads: WorkloadRestoration[];
  /** Every awaited milestone was seen before the timeout. */
  readonly complete: boolean;
  /**
   * Why milestones may be missing: the last failure of a watch that had not recovered when the wait ended
   * (the informers retry on their own; failures they rode out leave this undefined). Undefined when
   * complete.
   */
  readonly watchFailure: string | undefined;
}

/**
 * Watches running from lists taken before the shots. Call requested() right before sending a shot and
 * fired() with its outcome, then finish() once every shot is answered; close() stops the watches early.
 */
export interface RecoverySession {
  requested(uid: string): void;
  fired(uid: string, shot: ShotOutcome): void;
  finish(): Promise<RecoveryReport>;
  close(): Promise<void>;
}

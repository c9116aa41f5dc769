/**
 * What the agent tells people about: one fault at one target, at one step of its life. The engine's
 * outcomes become these events at the agent's edge; the sinks (agent/notify/) render them through
 * templates (template.ts) and the versioned JSON body (payload.ts).
 */

export const notificationEventTypes = ["injected", "recovered", "reverted", "refused"] as const;
/**
 * injected: the fault was applied (a pod deleted, a field drifted); recovered: the target is back (a
 * replacement Ready, the workload at its desired replicas), with the ms of each milestone; reverted:
 * Broadside undid an object fault (deadline, halt, deletion of the chaos resource); refused: a safety
 * rail or the cluster refused the shot, with the reason.
 */
export type NotificationEventType = (typeof notificationEventTypes)[number];

/**
 * The recovery milestones, each in ms since the shot was sent (the same origin as the recovery report's
 * figures): the DELETE accepted, the victim gone, its replacement created, scheduled, Ready, the workload
 * back at its desired available replicas, and for object faults the revert written.
 */
export const milestoneNames = [
  "acceptedMs",
  "goneMs",
  "createdMs",
  "scheduledMs",
  "readyMs",
  "restoredMs",
  "revertedMs",
] as const;
export type MilestoneName = (typeof milestoneNames)[number];
export type Milestones = Readonly<Partial<Record<MilestoneName, number>>>;

/** The object the fault hit. */
export interface NotificationTarget {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** The chaos resource the fault came from (a PodChaos, a Schedule's shot, an Experiment). */
export interface NotificationSource {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export interface NotificationEvent {
  readonly type: NotificationEventType;
  /** The fault kind as the engine names it: pod-kill, pod-evict, config-drift, resource-squeeze, scale. */
  readonly faultKind: string;
  readonly target: NotificationTarget;
  readonly source?: NotificationSource;
  readonly milestones?: Milestones;
  /** Why a shot was refused (refused), or what healed the target; free text from the engine. */
  readonly reason?: string;
  /** When it happened, epoch ms from the agent's Clock. */
  readonly at: number;
}

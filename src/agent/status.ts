import { optional } from "../core/objects.js";
import type { PodChaosResult } from "../engine/pod-chaos.js";
import type { conditionTypes, ResourceStatus } from "./crds/status.js";
import { milestonesOf } from "./notify/events.js";

/**
 * The status the agent writes on its resources (agent/crds/status.ts is its schema): conditions as
 * Kubernetes' meta.SetStatusCondition keeps them, and one record per target of the last run.
 */

export type ConditionType = (typeof conditionTypes)[number];
export type Condition = NonNullable<ResourceStatus["conditions"]>[number];
export type StatusTarget = NonNullable<ResourceStatus["targets"]>[number];

export interface ConditionChange {
  readonly type: ConditionType;
  readonly status: "True" | "False" | "Unknown";
  readonly reason: string;
  readonly message: string;
}

/**
 * `conditions` with `change` set: its lastTransitionTime moves only when its status changes, as
 * meta.SetStatusCondition does, so `kubectl describe` says since when a condition has held.
 */
export function setCondition(
  conditions: readonly Condition[],
  change: ConditionChange,
  observedGeneration: number,
  now: number,
): Condition[] {
  const previous = conditions.find((condition) => condition.type === change.type);
  const lastTransitionTime =
    previous !== undefined && previous.status === change.status
      ? previous.lastTransitionTime
      : new Date(now).toISOString();
  const next: Condition = { ...change, lastTransitionTime, observedGeneration };
  return [...conditions.filter((condition) => condition.type !== change.type), next];
}

export function conditionOf(status: ResourceStatus | undefined, type: ConditionType): Condition | undefined {
  return status?.conditions?.find((condition) => condition.type === type);
}

/**
 * The most pods a status lists. A target is about 330 bytes of JSON, and an object must fit in etcd's
 * 1.5 MiB request limit: 6,000 targets of a mode-all fan-out would make the status unwritable. The
 * ledger lists every pod shot (its volley records, ADR 0016); `Injected` says how many were.
 */
export const maxStatusTargets = 1_000;

/** One record per pod shot (the first `maxStatusTargets`), with its ledger record and milestones in ms. */
export function podTargets(result: PodChaosResult): StatusTarget[] {
  const victims = new Map(result.recovery?.victims.map((victim) => [victim.pod.uid, victim]));
  return result.shots.slice(0, maxStatusTargets).map((shot) => {
    const victim = victims.get(shot.pod.uid);
    const workload = result.recovery?.workloads.find(
      (candidate) =>
        victim?.workload !== undefined &&
        candidate.workload.kind === victim.workload.kind &&
        candidate.workload.namespace === victim.workload.namespace &&
        candidate.workload.name === victim.workload.name,
    );
    const milestones = victim === undefined ? undefined : milestonesOf(victim, workload);
    const recovered = victim?.replacement.expected === true && victim.replacement.readyMs !== undefined;
    const outcome = !shot.outcome.accepted ? "refused" : recovered ? "recovered" : "injected";
    return {
      kind: "Pod",
      namespace: shot.pod.namespace,
      name: shot.pod.name,
      uid: shot.pod.uid,
      outcome,
      ledgerRecord: shot.ledgerId,
      injectedAt: new Date(shot.outcome.at).toISOString(),
      ...optional("message", shot.outcome.accepted ? undefined : shot.outcome.reason),
      ...optional("milestones", milestones === undefined ? undefined : statusMilestones(milestones)),
    };
  });
}

/** The notification's milestone names are the report's; the status keeps the CRD's. */
function statusMilestones(milestones: ReturnType<typeof milestonesOf>): StatusTarget["milestones"] {
  const whole = (ms: number | undefined) => (ms === undefined ? undefined : Math.max(0, Math.round(ms)));
  return {
    ...optional("acceptedMs", whole(milestones.acceptedMs)),
    ...optional("goneMs", whole(milestones.goneMs)),
    ...optional("replacementCreatedMs", whole(milestones.createdMs)),
    ...optional("scheduledMs", whole(milestones.scheduledMs)),
    ...optional("readyMs", whole(milestones.readyMs)),
    ...optional("workloadRestoredMs", whole(milestones.restoredMs)),
  };
}

/** BRD_REFUSED_BY_RAIL becomes RefusedByRail: a condition's reason is one CamelCase word. */
export function reasonOf(code: string): string {
  return code
    .replace(/^BRD_/, "")
    .toLowerCase()
    .split("_")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("");
}

import type { OutcomeKind } from "../../core/ledger/record.js";
import { nodeWorkKinds, type NodeWorkKind } from "../../core/node-work-kinds.js";
import type { ShotOutcome } from "../../core/shot.js";
import { objectFaultKinds, podFaultKinds, type FaultKind, type ObjectFaultKind } from "../../faults/types.js";

/**
 * The values each label may take. Most are closed sets spelled out here, so a recording function that
 * takes one of these types cannot be handed a wrong label. Values that come from the cluster (a fault
 * kind read back from a ledger record, a field manager, a status code) pass through a function below
 * that folds anything outside a bounded set into one value, so no object in the cluster can make the
 * agent grow series without end.
 */

/** A fault kind as a label: the engine's pod and object faults, and the faults node daemons carry out. */
export type FaultLabel = FaultKind | NodeWorkKind;
export const faultKinds: readonly FaultLabel[] = [...podFaultKinds, ...objectFaultKinds, ...nodeWorkKinds];

/** What the API server answered to a shot: accepted, or refused (a PodDisruptionBudget, a pod already gone, an error). */
export const shotResults = ["accepted", "refused"] as const;
export type ShotResult = (typeof shotResults)[number];

export function shotResult(outcome: ShotOutcome): ShotResult {
  return outcome.accepted ? "accepted" : "refused";
}

/** The recovery milestones of a shot (kube/recovery/), as label values. */
export const recoveryMilestones = [
  "accepted",
  "victim_gone",
  "replacement_created",
  "replacement_scheduled",
  "replacement_ready",
  "workload_restored",
] as const;
export type RecoveryMilestone = (typeof recoveryMilestones)[number];

/** How a change stopped being in the cluster; a change never applied did not stay, so it is not timed. */
export type DriftEnd = Exclude<OutcomeKind, "never-applied">;
export const driftEnds: readonly DriftEnd[] = ["reverted", "healed-externally", "target-gone", "failed"];

export const notificationChannels = ["slack", "webex", "webhook"] as const;
export type NotificationChannel = (typeof notificationChannels)[number];
export const notificationResults = ["delivered", "failed", "dropped"] as const;
export type NotificationResult = (typeof notificationResults)[number];

/** The label of a fault kind that is not one this Broadside knows (a record a newer version wrote). */
export const otherValue = "other";

/** A fault kind read from the cluster (a ledger record's faultKind): a known kind, or "other". */
export function faultLabel(kind: string): FaultLabel | typeof otherValue {
  return faultKinds.find((known) => known === kind) ?? otherValue;
}

export function objectFaultKind(kind: string): ObjectFaultKind | undefined {
  return objectFaultKinds.find((known) => known === kind);
}

/**
 * The status codes the API server answers with (its API conventions' list, and a few proxies add), each
 * with a label of its own; any other code is "other", so a misbehaving proxy cannot multiply the series.
 */
export const apiStatusCodes: ReadonlySet<number> = new Set([
  200, 201, 202, 204, 307, 400, 401, 403, 404, 405, 406, 409, 410, 413, 415, 422, 429, 500, 502, 503, 504,
]);

/** An HTTP status code as a label: "200"... for the API server's codes, "error" when no answer came. */
export function statusCodeLabel(code: number | undefined): string {
  if (code === undefined) return "error";
  return apiStatusCodes.has(code) ? String(code) : otherValue;
}

/** The label of a heal whose writer is not known (the ledger recorded no field manager). */
export const unknownManager = "unknown";

/** The API server refuses field managers longer than this; a longer value did not come from it. */
const longestManager = 128;

/**
 * Field managers as label values: the first `limit` distinct names seen keep their own label, every later
 * one is "other". A cluster has a handful of writers (kubectl, a GitOps controller, an operator), so the
 * limit is only reached by something odd, and then the series stop growing.
 */
export class FieldManagerLabels {
  private readonly kept = new Set<string>();

  constructor(private readonly limit: number) {}

  label(manager: string | undefined): string {
    if (manager === undefined || manager === "") return unknownManager;
    const name = manager.slice(0, longestManager);
    if (this.kept.has(name)) return name;
    if (this.kept.size >= this.limit) return otherValue;
    this.kept.add(name);
    return name;
  }
}

import { optional } from "../../core/objects.js";
import type { Milestones } from "../../core/notify/event.js";
import type { VictimTimeline, WorkloadRestoration } from "../../kube/recovery/types.js";

/**
 * From the engine's recovery report to a notification's milestones, so every reconciler reports the same
 * figures under the same names as the report does.
 */

/**
 * The milestones of `victim`, in ms since its shot was sent, as the recovery report has them; `workload`
 * adds when the victim's workload was back at its desired available replicas (timed from the first shot
 * at that workload, which for one shot per workload is this one).
 */
export function milestonesOf(victim: VictimTimeline, workload?: WorkloadRestoration): Milestones {
  const replacement = victim.replacement.expected ? victim.replacement : undefined;
  return {
    ...optional("acceptedMs", victim.acceptedMs),
    ...optional("goneMs", victim.goneMs),
    ...optional("createdMs", replacement?.createdMs),
    ...optional("scheduledMs", replacement?.scheduledMs),
    ...optional("readyMs", replacement?.readyMs),
    ...optional("restoredMs", workload?.status === "restored" ? workload.restoredMs : undefined),
  };
}

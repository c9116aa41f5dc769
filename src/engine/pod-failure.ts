import type { Duration } from "../core/duration.js";
import { optional } from "../core/objects.js";
import type { RecordOwner } from "../core/ledger/record.js";
import type { TargetPlan } from "../core/targeting/types.js";
import { podFailureChanges } from "../faults/pod-failure.js";
import type { PlannedChange } from "../faults/types.js";
import { toKubeObject } from "../kube/objects.js";
import type { EngineContext } from "./context.js";
import { runObjectChaos, type ObjectChaosResult } from "./object-chaos.js";
import { admittedPlan, gatherAndPlan, targetsOf, type PodChoice } from "./pod-chaos.js";

export interface PodFailureRequest extends PodChoice {
  /** The image every container of a chosen pod runs until the deadline. */
  readonly pauseImage: string;
  readonly duration: Duration;
  readonly dryRun: boolean;
  /** Stay until the deadline (or `stop`), then revert; otherwise leave the revert to the ledger. */
  readonly wait: boolean;
  /** Resolves when the user asks to stop early (Ctrl-C): revert now. */
  readonly stop: Promise<void>;
  readonly owner?: RecordOwner;
}

export interface PodFailureResult extends ObjectChaosResult {
  /** Which pods, and why every other pod was left out. */
  readonly plan: TargetPlan;
}

/**
 * pod-failure: pods chosen as pod-kill chooses them (selectors, rails, mode, blast-radius cap), then each
 * chosen pod's images swapped for the pause image as an object fault: a ledger record per container
 * written before its conditional patch, and the exact images put back at the deadline, on Ctrl-C, or by
 * the ledger's recovery after a crash. Everything is planned before the first write.
 */
export async function runPodFailure(
  ctx: EngineContext,
  request: PodFailureRequest,
): Promise<PodFailureResult> {
  const { gathered, planned } = await gatherAndPlan(ctx, request);
  // A paused pod is down as surely as a killed one: concurrent runs share the workload's cap.
  const admission = ctx.downCap.admit(planned.selected, gathered.facts, ctx.rails, gathered.index);
  try {
    const plan = admittedPlan(planned, admission);
    const changes: PlannedChange[] = targetsOf(plan.selected, gathered)
      .filter((target) => target.pod.metadata !== undefined)
      .flatMap((target) => podFailureChanges(toKubeObject(target.pod), request.pauseImage));
    if (changes.length === 0) return { plan, changes, records: [], recovery: [] };
    const result = await runObjectChaos(ctx, changes, {
      duration: request.duration,
      dryRun: request.dryRun,
      wait: request.wait,
      stop: request.stop,
      ...optional("owner", request.owner),
    });
    return { plan, ...result };
  } finally {
    admission.release();
  }
}

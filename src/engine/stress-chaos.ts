import type { JsonObject } from "../core/ledger/record.js";
import type { StressWork } from "../core/node-work.js";
import { planStressTargets, stressWork } from "../faults/stress.js";
import type { EngineContext } from "./context.js";
import { runTimedNodeFaults } from "./network-chaos.js";
import type { NetworkChaosResult, TimedFaultOptions } from "./network-chaos.js";
import { currentPods } from "./node-work-targets.js";
import { gatherAndPlan } from "./pod-chaos.js";

/*
 * StressChaos on the writer's side (ADR 0040): the pods chosen as every pod fault chooses them, the
 * container and its memory limit checked before the first write, then the same life as a network fault
 * (runTimedNodeFaults): record, work object, Applied, held, Reverted.
 */

export interface StressChaosRequest extends TimedFaultOptions {
  readonly stress: StressWork;
  /** The container stressed; default each pod's first. */
  readonly container?: string | undefined;
  /** Lets a memory stress run on a container without a memory limit. */
  readonly unsafe: boolean;
}

export async function runStressChaos(
  ctx: EngineContext,
  request: StressChaosRequest,
): Promise<NetworkChaosResult> {
  const { planned } = await gatherAndPlan(ctx, request);
  const pods = await currentPods(ctx, planned.selected);
  const { stress, unsafe } = request;
  const targets = planStressTargets(pods, stress, { container: request.container, unsafe });
  return runTimedNodeFaults(ctx, planned, targets, {
    ...request,
    kind: "stress",
    injected: () => ({ stress: stress as unknown as JsonObject }),
    workOf: (target, record) => stressWork(target, stress, unsafe, record),
  });
}

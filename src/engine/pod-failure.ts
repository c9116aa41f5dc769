import type { Duration } from "../core/duration.js";
import { optional } from "../core/objects.js";
import type { RecordOwner } from "../core/ledger/record.js";
import type { V1Pod } from "@kubernetes/client-node";
import type { PodFacts, TargetPlan } from "../core/targeting/types.js";
import { podFailureChanges } from "../faults/pod-failure.js";
import type { PlannedChange } from "../faults/types.js";
import { toKubeObject } from "../kube/objects.js";
import type { EngineContext } from "./context.js";
import { runObjectChaos, type ObjectChaosResult } from "./object-chaos.js";
import { admittedPlan, gatherAndPlan, type PodChoice } from "./pod-chaos.js";

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

/** The pods chosen and their changes, planned with the blast-radius cap's admission held until `release`. */
export interface PlannedPodFailure {
  readonly plan: TargetPlan;
  readonly changes: PlannedChange[];
  /** Lets the cap's admission go: call it once the changes are made (or not). */
  readonly release: () => void;
}

/**
 * pod-failure's plan: pods chosen as pod-kill chooses them (selectors, rails, mode, blast-radius cap),
 * then for each chosen pod one change per container and init container, to the pause image.
 */
export async function planPodFailure(
  ctx: EngineContext,
  request: PodChoice & { readonly pauseImage: string },
): Promise<PlannedPodFailure> {
  const { gathered, planned } = await gatherAndPlan(ctx, request);
  // A paused pod is down as surely as a killed one: concurrent runs share the workload's cap.
  const admission = ctx.downCap.admit(planned.selected, gathered.facts, ctx.rails, gathered.index);
  try {
    const plan = admittedPlan(planned, admission);
    const changes = (await currentPods(ctx, plan.selected)).flatMap((pod) =>
      podFailureChanges(toKubeObject(pod), request.pauseImage),
    );
    return {
      plan,
      changes,
      release: () => {
        admission.release();
      },
    };
  } catch (error: unknown) {
    admission.release();
    throw error;
  }
}

/**
 * The chosen pods as the API server has them now, one read each: the agent's cache keeps pods trimmed to
 * what planning needs (ADR 0018), without their containers, and the patches test the current images. A
 * pod gone, or replaced under the same name, since it was chosen is left out.
 */
async function currentPods(ctx: EngineContext, chosen: readonly PodFacts[]): Promise<V1Pod[]> {
  const read = await Promise.all(chosen.map((facts) => ctx.pods.read(facts.namespace, facts.name)));
  return read.filter((pod, at): pod is V1Pod => pod !== undefined && pod.metadata?.uid === chosen[at]?.uid);
}

/**
 * pod-failure: the planned changes made as an object fault: a ledger record per container written before
 * its conditional patch, and the exact images put back at the deadline, on Ctrl-C, or by the ledger's
 * recovery after a crash. Everything is planned before the first write.
 */
export async function runPodFailure(
  ctx: EngineContext,
  request: PodFailureRequest,
): Promise<PodFailureResult> {
  const { plan, changes, release } = await planPodFailure(ctx, request);
  try {
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
    release();
  }
}

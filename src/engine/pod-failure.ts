import type { Duration } from "../core/duration.js";
import { optional } from "../core/objects.js";
import type { RecordOwner } from "../core/ledger/record.js";
import { planTargets } from "../core/targeting/plan.js";
import type { Mode, Selector, TargetPlan } from "../core/targeting/types.js";
import { podFailureChanges } from "../faults/pod-failure.js";
import type { PlannedChange } from "../faults/types.js";
import { toKubeObject } from "../kube/objects.js";
import type { NamespaceScope } from "../kube/pod-facts.js";
import type { EngineContext } from "./context.js";
import { runObjectChaos, type ObjectChaosResult } from "./object-chaos.js";
import { admittedPlan, refuseProtectedScope } from "./pod-chaos.js";

export interface PodFailureRequest {
  readonly scope: NamespaceScope;
  readonly selector: Selector;
  readonly mode: Mode;
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
  refuseProtectedScope(ctx, request.scope);
  const scope = request.scope === "all" ? ctx.rails.watchedNamespaces : request.scope;
  const gathered = await ctx.podFacts.gather(scope);
  const planned = planTargets(
    gathered.facts,
    request.selector,
    request.mode,
    ctx.rails,
    ctx.random,
    gathered.index,
  );
  // A paused pod is down as surely as a killed one: concurrent runs share the workload's cap.
  const admission = ctx.downCap.admit(planned.selected, gathered.facts, ctx.rails, gathered.index);
  try {
    const plan = admittedPlan(planned, admission);
    const chosen = new Set(plan.selected.map((facts) => facts.uid));
    const changes: PlannedChange[] = gathered.pods
      .filter((pod) => chosen.has(pod.metadata?.uid ?? ""))
      .flatMap((pod) => podFailureChanges(toKubeObject(pod), request.pauseImage));
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

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
import { PodReadinessWatch, type PodFailureTimeline } from "./pod-readiness.js";

/** How long a run waits, after the images are back, for its pods to serve again before it goes on. */
export const defaultBackTimeoutMs = 5 * 60_000;

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
  /** With `wait`: how long to wait, once the images are back, for the pods to be Ready again. */
  readonly backTimeoutMs?: number;
}

export interface PodFailureResult extends ObjectChaosResult {
  /** Which pods, and why every other pod was left out. */
  readonly plan: TargetPlan;
  /** With `wait`: what each paused pod went through, from its watch events. */
  readonly timelines: readonly PodFailureTimeline[];
}

/** The pods chosen and their changes, planned with the blast-radius cap's admission held until `release`. */
export interface PlannedPodFailure {
  readonly plan: TargetPlan;
  readonly changes: PlannedChange[];
  /** The chosen pods as read just before planning their changes (the ones with a change to make). */
  readonly pods: readonly V1Pod[];
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
    const admitted = admittedPlan(planned, admission);
    const { pods, plan } = leaveOutPaused(
      admitted,
      await currentPods(ctx, admitted.selected),
      request.pauseImage,
    );
    const changes = pods.flatMap((pod) => podFailureChanges(toKubeObject(pod), request.pauseImage));
    return {
      plan,
      changes,
      pods,
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
 * A pod whose containers already run the pause image is still failed by an earlier pod-failure (a
 * Schedule's previous round, another run): it is left out, so one pod is never paused twice and its
 * "original" image is never the pause image. Its own fault puts it back.
 */
function leaveOutPaused(
  plan: TargetPlan,
  pods: readonly V1Pod[],
  pauseImage: string,
): { readonly plan: TargetPlan; readonly pods: readonly V1Pod[] } {
  const paused = new Set(
    pods.filter((pod) => runsPauseImage(pod, pauseImage)).map((pod) => pod.metadata?.uid),
  );
  if (paused.size === 0) return { plan, pods };
  return {
    pods: pods.filter((pod) => !paused.has(pod.metadata?.uid)),
    plan: {
      selected: plan.selected.filter((facts) => !paused.has(facts.uid)),
      excluded: [
        ...plan.excluded,
        ...plan.selected
          .filter((facts) => paused.has(facts.uid))
          .map((facts) => ({
            pod: facts,
            reason: `still failed by an earlier pod-failure: it runs ${pauseImage}`,
            by: "rail" as const,
          })),
      ],
      warnings: plan.warnings,
    },
  };
}

/** Whether a container of the pod's spec is the pause image already. */
function runsPauseImage(pod: V1Pod, pauseImage: string): boolean {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return containers.some((container) => container.image === pauseImage);
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
  const { plan, changes, pods, release } = await planPodFailure(ctx, request);
  try {
    if (changes.length === 0) return { plan, changes, records: [], recovery: [], timelines: [] };
    const options = {
      duration: request.duration,
      dryRun: request.dryRun,
      wait: request.wait,
      stop: request.stop,
      ...optional("owner", request.owner),
    };
    if (request.dryRun || !request.wait) {
      return { plan, ...(await runObjectChaos(ctx, changes, options)), timelines: [] };
    }
    return { plan, ...(await pauseAndWatch(ctx, pods, changes, options, request)) };
  } finally {
    release();
  }
}

/**
 * The fault with its pods watched from before the first patch until they are back (Ready with their own
 * images), `backTimeoutMs` at most after the revert, or Ctrl-C.
 */
async function pauseAndWatch(
  ctx: EngineContext,
  pods: readonly V1Pod[],
  changes: readonly PlannedChange[],
  options: Parameters<typeof runObjectChaos>[2],
  request: PodFailureRequest,
): Promise<ObjectChaosResult & { readonly timelines: readonly PodFailureTimeline[] }> {
  const watch = await PodReadinessWatch.start(ctx, pods, request.pauseImage);
  try {
    const result = await runObjectChaos(ctx, changes, options);
    watch.markReverted();
    const timeout = new AbortController();
    const waited = ctx.clock.sleep(request.backTimeoutMs ?? defaultBackTimeoutMs, timeout.signal);
    await watch.waitBack(Promise.race([waited, request.stop]));
    timeout.abort();
    const injectedAt = new Map<string, number>();
    for (const record of result.records) {
      const first = injectedAt.get(record.target.uid);
      if (first === undefined || record.createdAt < first)
        injectedAt.set(record.target.uid, record.createdAt);
    }
    return { ...result, timelines: watch.timelines(injectedAt) };
  } finally {
    await watch.stop();
  }
}

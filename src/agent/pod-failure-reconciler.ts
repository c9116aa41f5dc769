import { BroadsideError, describeError } from "../core/errors.js";
import { groupExclusions } from "../core/targeting/exclusions.js";
import type { TargetPlan } from "../core/targeting/types.js";
import { planPodFailure } from "../engine/pod-failure.js";
import type { ChaosMeshPodChaos } from "../experiments/files/model.js";
import { scopeOf } from "../experiments/run/runner.js";
import { defaultPauseImage } from "../faults/pod-failure.js";
import { loadAsFile, type ChaosObject } from "./chaos-object.js";
import {
  NothingToInject,
  objectFaultReconciler,
  type ObjectFaultPlanner,
  type ObjectFaultPorts,
} from "./object-fault-reconciler.js";
import type { ReconcileResult } from "./reconcile/workers.js";

/**
 * A PodChaos with action pod-failure (issue 15). pod-kill is one-shot, but pod-failure holds for
 * `spec.duration` and must be put back, so the agent serves it as an object fault (object-fault-reconciler):
 * the generation claimed, the finalizer held, one ledger record per container written before its patch to
 * the pause image, the exact images put back by the ledger reconciler at the deadline, at once when the
 * PodChaos is deleted, and before a new generation's own injection. Pods are chosen as pod-kill chooses
 * them: the spec read as `broadside run` reads the file, the same rails and blast-radius cap.
 */

type Reconcile = (key: string) => Promise<ReconcileResult>;

export function podFailureReconciler(ports: ObjectFaultPorts): Reconcile {
  return objectFaultReconciler({ ...ports, planner: podFailurePlanner });
}

/**
 * One PodChaos kind, two reconcilers: pod-failure's, and `kill`'s for every other action (pod-kill, and
 * the refusals of what the agent does not serve). Read from the cache at each reconcile, so a deleted
 * pod-failure PodChaos, which its finalizer keeps, still reaches the reconciler that reverts it.
 */
export function byAction(
  get: (namespace: string, name: string) => ChaosObject | undefined,
  reconcilers: { readonly failure: Reconcile; readonly kill: Reconcile },
): Reconcile {
  return (key) => {
    const [namespace = "", name = ""] = key.split("/");
    const action = (get(namespace, name)?.spec as { action?: unknown } | undefined)?.action;
    return action === "pod-failure" ? reconcilers.failure(key) : reconcilers.kill(key);
  };
}

export const podFailurePlanner: ObjectFaultPlanner = {
  parse: (object) => {
    const spec = podFailureSpec(object);
    return spec instanceof BroadsideError ? spec : { duration: spec.duration };
  },
  plan: async (object, ctx) => {
    const spec = podFailureSpec(object);
    if (spec instanceof BroadsideError) throw spec;
    const planned = await planPodFailure(ctx, {
      scope: scopeOf({ selector: spec.selector }),
      selector: spec.selector,
      mode: spec.mode,
      pauseImage: defaultPauseImage,
    });
    if (planned.changes.length > 0) return planned;
    planned.release();
    throw new NothingToInject(noTargetMessage(planned.plan));
  },
};

/** The spec as `broadside run` reads a PodChaos file, with the object's namespace as the selectors' default. */
function podFailureSpec(
  object: ChaosObject,
): (ChaosMeshPodChaos & { readonly duration: NonNullable<ChaosMeshPodChaos["duration"]> }) | BroadsideError {
  const ref = { namespace: object.metadata?.namespace ?? "", name: object.metadata?.name ?? "" };
  try {
    const { loaded, source } = loadAsFile("broadside.dev/v1alpha1", "PodChaos", ref, object.spec);
    if (loaded.kind !== "PodChaos")
      return new BroadsideError("BRD_USAGE", `${source}: read as ${loaded.kind}`);
    if (!loaded.runnable) return new BroadsideError("BRD_NOT_RUNNABLE", `${source}: ${loaded.reason}`);
    const { duration } = loaded;
    // The loader requires it for pod-failure; the CRD's CEL rule too. This holds under an older CRD.
    if (duration === undefined)
      return new BroadsideError("BRD_USAGE", "spec.duration: is required by pod-failure");
    return { ...loaded, duration };
  } catch (error: unknown) {
    return error instanceof BroadsideError ? error : new BroadsideError("BRD_USAGE", describeError(error));
  }
}

/** As `kill --dry-run` says it: why no pod was chosen, the pods left out counted by reason. */
function noTargetMessage(plan: TargetPlan): string {
  const groups = groupExclusions(plan.excluded, 0).slice(0, 4);
  const reasons = groups.map((group) => `${String(group.count)} by ${group.by}: ${group.reason}`);
  return `no pod selected; ${String(plan.excluded.length)} left out (${reasons.join("; ")})`;
}

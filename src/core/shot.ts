import { describeError } from "./errors.js";

/**
 * A pod fault's shot at one pod, in domain terms: the pod it aims at, how, and what came of it. The pod
 * faults (faults/), the adapter that sends the shot (kube/pods.ts) and the recovery measurement
 * (kube/recovery/) all speak of shots in these types.
 */

/** The pod a shot aims at: its uid makes sure a newer pod under the same name is never hit. */
export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface PodShotOptions {
  /** Seconds; undefined means the pod's own terminationGracePeriodSeconds. */
  readonly gracePeriodSeconds?: number;
}

/**
 * What happened when a pod fault fired at one pod; `at` is when the answer came (epoch ms). An eviction
 * the API refused for a PodDisruptionBudget names the budgets that cover the pod in `budgets`.
 */
export type ShotOutcome =
  | { readonly accepted: true; readonly at: number }
  | {
      readonly accepted: false;
      readonly at: number;
      readonly reason: string;
      readonly budgets?: readonly string[];
    };

/** A shot that threw instead of answering: recorded as refused, with the error as its reason. */
export function failedShot(error: unknown, at: number): ShotOutcome {
  return { accepted: false, at, reason: `the shot failed: ${describeError(error)}` };
}

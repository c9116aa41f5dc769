import { describeError } from "./errors.js";

/**
 * What came of a pod fault's shot at one pod. The pod faults (faults/) report it and the recovery
 * measurement (kube/recovery/) folds it in: one type in core, which both may import.
 */

/** What happened when a pod fault fired at one pod; `at` is when the answer came (epoch ms). */
export type ShotOutcome =
  | { readonly accepted: true; readonly at: number }
  | { readonly accepted: false; readonly at: number; readonly reason: string };

/** A shot that threw instead of answering: recorded as refused, with the error as its reason. */
export function failedShot(error: unknown, at: number): ShotOutcome {
  return { accepted: false, at, reason: `the shot failed: ${describeError(error)}` };
}

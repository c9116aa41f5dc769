import type { V1Pod } from "@kubernetes/client-node";
import { describeError } from "../core/errors.js";
import type { PodIdentity, PodShotOptions, ShotOutcome } from "../core/shot.js";
import { selectorMatches } from "../core/targeting/label-selector.js";
import { apiStatus } from "../kube/api-errors.js";
import type { PodShots } from "../kube/pods.js";
import { goneRefusal, kubeApiError, podIdentity, statusMessage } from "./pod-shot.js";
import type { PodFault, PodShotContext } from "./types.js";

/** The names of the namespace's PodDisruptionBudgets that cover the pod, sorted. */
async function coveringBudgets(pods: PodShots, pod: V1Pod, target: PodIdentity): Promise<string[]> {
  const budgets = await pods.disruptionBudgets(target.namespace);
  const labels = pod.metadata?.labels ?? {};
  return budgets
    .filter((budget) => selectorMatches(budget.spec?.selector, labels))
    .map((budget) => budget.metadata?.name ?? "")
    .sort();
}

interface Refusal {
  readonly reason: string;
  /** The PodDisruptionBudgets that cover the pod, when one of them refused the eviction. */
  readonly budgets?: readonly string[];
}

/**
 * Why the Eviction API refused with 429 or 500: the budgets that cover the pod, looked up only now because
 * refusals are rare and the API's answer does not name them in a stable form.
 */
async function budgetRefusal(
  pods: PodShots,
  pod: V1Pod,
  target: PodIdentity,
  error: unknown,
): Promise<Refusal> {
  let names: string[];
  try {
    names = await coveringBudgets(pods, pod, target);
  } catch (listError: unknown) {
    return { reason: `blocked by a PodDisruptionBudget (could not list them: ${describeError(listError)})` };
  }
  const message = statusMessage(error) ?? "no message";
  if (names.length === 0)
    return { reason: `eviction refused with HTTP ${apiStatus(error) ?? 0}: ${message}` };
  // The Eviction API answers 500 when several budgets cover one pod: it cannot decide between them.
  const several = names.length > 1 ? ` (the Eviction API refuses pods covered by several: ${message})` : "";
  return { reason: `blocked by PDB ${names.join(", ")}${several}`, budgets: names };
}

async function refusalOf(
  pods: PodShots,
  pod: V1Pod,
  target: PodIdentity,
  error: unknown,
): Promise<Refusal | undefined> {
  const status = apiStatus(error);
  const gone = goneRefusal(status);
  if (gone !== undefined) return { reason: gone };
  if (
    status === 429 ||
    (status === 500 && /more than one PodDisruptionBudget/i.test(statusMessage(error) ?? ""))
  ) {
    return budgetRefusal(pods, pod, target, error);
  }
  return undefined;
}

async function fire(ctx: PodShotContext, pod: V1Pod, options: PodShotOptions): Promise<ShotOutcome> {
  const target = podIdentity(pod);
  try {
    await ctx.pods.evict(target, options);
    return { accepted: true, at: ctx.clock.now() };
  } catch (error: unknown) {
    // A refusal is the answer, never a reason to retry or to fall back to a plain delete.
    const refusal = await refusalOf(ctx.pods, pod, target, error);
    if (refusal === undefined) throw kubeApiError("evicting", target, error);
    return { accepted: false, at: ctx.clock.now(), ...refusal };
  }
}

/** Asks the Eviction API to remove the pod, which honours PodDisruptionBudgets. */
export const podEvict: PodFault = { kind: "pod-evict", fire };

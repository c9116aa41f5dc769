import type { V1LabelSelector, V1Pod } from "@kubernetes/client-node";
import { describeError } from "../core/errors.js";
import { matchesLabels } from "../core/targeting/label-selector.js";
import type { LabelOperator, LabelRequirement } from "../core/targeting/types.js";
import { apiStatus, type KubeClients } from "../kube/client.js";
import { goneRefusal, kubeApiError, podIdentity, shotDeleteOptions, type PodIdentity } from "./pod-kill.js";
import type { ShotOutcome } from "../core/shot.js";
import type { PodFault, PodShotOptions } from "./types.js";

const labelOperators: readonly LabelOperator[] = ["In", "NotIn", "Exists", "DoesNotExist"];

/**
 * Whether a PodDisruptionBudget's selector selects pods with these labels, with policy/v1's meaning: an
 * absent selector selects nothing, an empty one selects every pod of the namespace.
 */
export function selectorMatches(
  selector: V1LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (selector === undefined) return false;
  const requirements = requirementsOf(selector);
  return requirements !== undefined && matchesLabels(labels, requirements);
}

/** The selector as requirements, or undefined when an operator is unknown (the API would reject it). */
function requirementsOf(selector: V1LabelSelector): LabelRequirement[] | undefined {
  const requirements: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    operator: "In",
    values: [value],
  }));
  for (const expression of selector.matchExpressions ?? []) {
    const operator = labelOperators.find((known) => known === expression.operator);
    if (operator === undefined) return undefined;
    requirements.push({ key: expression.key, operator, values: expression.values ?? [] });
  }
  return requirements;
}

/** The `message` of the Status object the API sent with an error, when there is one. */
export function statusMessage(error: unknown): string | undefined {
  const body: unknown =
    typeof error === "object" && error !== null && "body" in error ? error.body : undefined;
  const parsed = typeof body === "string" ? parseJson(body) : body;
  if (typeof parsed !== "object" || parsed === null || !("message" in parsed)) return undefined;
  return typeof parsed.message === "string" ? parsed.message : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The names of the namespace's PodDisruptionBudgets that cover the pod, sorted. */
async function coveringBudgets(kube: KubeClients, pod: V1Pod, target: PodIdentity): Promise<string[]> {
  const budgets = await kube.policy.listNamespacedPodDisruptionBudget({ namespace: target.namespace });
  const labels = pod.metadata?.labels ?? {};
  return budgets.items
    .filter((budget) => selectorMatches(budget.spec?.selector, labels))
    .map((budget) => budget.metadata?.name ?? "")
    .sort();
}

/**
 * Why the Eviction API refused with 429 or 500: the budgets that cover the pod, looked up only now because
 * refusals are rare and the API's answer does not name them in a stable form.
 */
async function budgetRefusal(
  kube: KubeClients,
  pod: V1Pod,
  target: PodIdentity,
  error: unknown,
): Promise<string> {
  let names: string[];
  try {
    names = await coveringBudgets(kube, pod, target);
  } catch (listError: unknown) {
    return `blocked by a PodDisruptionBudget (could not list them: ${describeError(listError)})`;
  }
  const message = statusMessage(error) ?? "no message";
  if (names.length === 0) return `eviction refused with HTTP ${apiStatus(error) ?? 0}: ${message}`;
  // The Eviction API answers 500 when several budgets cover one pod: it cannot decide between them.
  const several = names.length > 1 ? ` (the Eviction API refuses pods covered by several: ${message})` : "";
  return `blocked by PDB ${names.join(", ")}${several}`;
}

async function refusalOf(kube: KubeClients, pod: V1Pod, target: PodIdentity, error: unknown) {
  const status = apiStatus(error);
  const gone = goneRefusal(status);
  if (gone !== undefined) return gone;
  if (
    status === 429 ||
    (status === 500 && /more than one PodDisruptionBudget/i.test(statusMessage(error) ?? ""))
  ) {
    return budgetRefusal(kube, pod, target, error);
  }
  return undefined;
}

async function fire(kube: KubeClients, pod: V1Pod, options: PodShotOptions): Promise<ShotOutcome> {
  const target = podIdentity(pod);
  try {
    await kube.core.createNamespacedPodEviction({
      name: target.name,
      namespace: target.namespace,
      body: {
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name: target.name, namespace: target.namespace },
        deleteOptions: shotDeleteOptions(target.uid, options),
      },
    });
    return { accepted: true, at: Date.now() };
  } catch (error: unknown) {
    // A refusal is the answer, never a reason to retry or to fall back to a plain delete.
    const reason = await refusalOf(kube, pod, target, error);
    if (reason === undefined) throw kubeApiError("evicting", target, error);
    return { accepted: false, at: Date.now(), reason };
  }
}

/** Asks the Eviction API to remove the pod, which honours PodDisruptionBudgets. */
export const podEvict: PodFault = { kind: "pod-evict", fire };

import { assertValidMode, chooseIndexes, countToPick, describeMode, notChosenReason } from "./mode.js";
import { firstFailure, selectorPredicates } from "./predicates.js";
import type { PodPredicate } from "./predicates.js";
import { applyBlastRadiusCap, assertValidRails, railPredicates } from "./rails.js";
import type {
  Exclusion,
  ExclusionStage,
  Mode,
  PodFacts,
  PodIndex,
  Rails,
  RandomSource,
  Selector,
  TargetPlan,
} from "./types.js";

/**
 * Decides which pods an experiment would hit, and for every other pod why not. The stages run in a fixed
 * order, and each pod is excluded by the first stage that rejects it:
 *
 *   1. selectors  the pod is out of the user's scope
 *   2. rails      protected or not opted-in namespace, Broadside's own pod, pod already being deleted
 *   3. mode       one / all / fixed / fixed-percent / random-max-percent picks among the eligible
 *   4. cap        at most floor(fraction × ready) pods per workload, unless rails.unsafe
 *
 * The mode counts only eligible pods, so a percentage means "of the pods we may touch", and the cap comes
 * last because it is about the pods actually hit. `pods` should be every pod of the namespaces involved,
 * unfiltered: the cap counts a workload's ready pods among them. `random` is consumed only by the mode
 * (see countToPick and chooseIndexes), so a fixed sequence gives a fixed plan.
 *
 * `index`, from a cache that keeps one for exactly `pods`, spares the cap a walk over every pod; the plan
 * is the same with it or without.
 *
 * Throws a usage error naming --selector when the label selector does not parse.
 */
export function planTargets(
  pods: readonly PodFacts[],
  selector: Selector,
  mode: Mode,
  rails: Rails,
  random: RandomSource,
  index?: PodIndex,
): TargetPlan {
  assertValidMode(mode);
  assertValidRails(rails);
  const predicates = selectorPredicates(selector);
  const excluded: Exclusion[] = [];
  const matched = keepPassing(pods, predicates, "selector", excluded);
  const eligible = keepPassing(matched, railPredicates(rails), "rail", excluded);
  const picked = pickByMode(eligible, mode, random, excluded);
  const capped = applyBlastRadiusCap(picked.chosen, pods, rails, index);
  excluded.push(...capped.dropped);
  const warnings = [
    ...scopeWarnings(predicates.length, pods.length, matched.length, eligible.length),
    ...picked.warnings,
    ...capped.warnings,
  ];
  return { selected: capped.kept, excluded, warnings };
}

function keepPassing(
  pods: readonly PodFacts[],
  predicates: readonly PodPredicate[],
  by: ExclusionStage,
  excluded: Exclusion[],
): PodFacts[] {
  return pods.filter((pod) => {
    const reason = firstFailure(pod, predicates);
    if (reason !== undefined) excluded.push({ pod, reason, by });
    return reason === undefined;
  });
}

function pickByMode(
  eligible: readonly PodFacts[],
  mode: Mode,
  random: RandomSource,
  excluded: Exclusion[],
): { chosen: PodFacts[]; warnings: string[] } {
  const draw = countToPick(mode, eligible.length, random);
  const chosenIndexes = new Set(chooseIndexes(eligible.length, draw.count, random));
  const reason = notChosenReason(mode, draw, eligible.length);
  const chosen = eligible.filter((pod, index) => {
    if (!chosenIndexes.has(index)) excluded.push({ pod, reason, by: "mode" });
    return chosenIndexes.has(index);
  });
  const warnings =
    eligible.length > 0 && draw.count === 0
      ? [`mode ${describeMode(mode)} drew ${draw.drawnPercent ?? 0}%: no pod is chosen this time`]
      : [];
  return { chosen, warnings };
}

/** Says when a plan is empty for a reason the per-pod exclusions do not make obvious. */
function scopeWarnings(selectorCount: number, total: number, matched: number, eligible: number): string[] {
  const warnings: string[] = [];
  if (selectorCount === 0) warnings.push("the selector is empty, so it matches every pod listed");
  if (total === 0) warnings.push("there are no pods to choose from");
  else if (matched === 0) warnings.push(`no pod matches the selector (${total} considered)`);
  else if (eligible === 0) warnings.push(`every pod the selector matches (${matched}) is excluded by a rail`);
  return warnings;
}

import {
  assertValidMode,
  chooseIndexes,
  countToPick,
  describeMode,
  notChosenReason,
  randomIndex,
} from "./mode.js";
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
  const stages: PlanStages = { selector: selectorPredicates(selector), rails: railPredicates(rails) };
  const sampled = sampleFew(pods, stages, mode, random);
  return sampled === undefined
    ? walkedPlan(pods, stages, mode, rails, random, index)
    : sampledPlan(pods, stages, mode, rails, sampled, index);
}

/** The predicates of the two filtering stages, built once per plan. */
interface PlanStages {
  readonly selector: readonly PodPredicate[];
  readonly rails: readonly PodPredicate[];
}

/** The plan by walking every pod: each stage filters the pods the one before kept. */
function walkedPlan(
  pods: readonly PodFacts[],
  stages: PlanStages,
  mode: Mode,
  rails: Rails,
  random: RandomSource,
  index: PodIndex | undefined,
): TargetPlan {
  const excluded: Exclusion[] = [];
  const matched = keepPassing(pods, stages.selector, "selector", excluded);
  const eligible = keepPassing(matched, stages.rails, "rail", excluded);
  const picked = pickByMode(eligible, mode, random, excluded);
  const capped = applyBlastRadiusCap(picked.chosen, pods, rails, index);
  excluded.push(...capped.dropped);
  const warnings = [
    ...scopeWarnings(stages.selector.length, pods.length, matched.length, eligible.length),
    ...picked.warnings,
    ...capped.warnings,
  ];
  return { selected: capped.kept, excluded, warnings };
}

/**
 * Below this many pods a plan always walks them: the walk is cheap, and small fleets (every test's,
 * most users') keep the plan they have always had for a given sequence of draws.
 */
export const samplingThreshold = 1_000;

/** Draws a sampled plan may spend before it falls back to the walk: a few misses are normal. */
function drawBudget(count: number): number {
  return 64 + 8 * count;
}

/**
 * Mode one and mode fixed N among many pods, without looking at most of them (issue 10's warm shot: 1 of
 * 10,000). Pods are drawn in a uniformly random order (a virtual Fisher-Yates shuffle, as chooseIndexes)
 * and each is put through the selector and the rails; the first `count` that pass are the pick. The first
 * N eligible pods of a uniform random order are a uniform N-subset of the eligible pods, the same
 * distribution the walk's draw among them gives. Returns undefined, for the walk to decide, when the pods
 * are few, when the mode's count depends on how many are eligible, or when eligible pods are too rare to
 * find within the draw budget (the walk then also reports why nothing, or too little, was found).
 */
function sampleFew(
  pods: readonly PodFacts[],
  stages: PlanStages,
  mode: Mode,
  random: RandomSource,
): PodFacts[] | undefined {
  const count = countIndependentOfEligible(mode);
  if (pods.length < samplingThreshold || count === undefined || count * 8 > pods.length) return undefined;
  const chosen: number[] = [];
  const moved = new Map<number, number>();
  const budget = Math.min(drawBudget(count), pods.length);
  for (let position = 0; position < budget && chosen.length < count; position += 1) {
    const swapWith = position + randomIndex(random, pods.length - position);
    const drawn = moved.get(swapWith) ?? swapWith;
    moved.set(swapWith, moved.get(position) ?? position);
    if (passesAll(pods[drawn], stages)) chosen.push(drawn);
  }
  if (chosen.length < count) return undefined;
  return chosen.sort((a, b) => a - b).flatMap((at) => pods[at] ?? []);
}

/** How many pods mode one and mode fixed take when enough are eligible; the others depend on how many. */
function countIndependentOfEligible(mode: Mode): number | undefined {
  if (mode.kind === "one") return 1;
  return mode.kind === "fixed" ? mode.count : undefined;
}

function passesAll(pod: PodFacts | undefined, stages: PlanStages): boolean {
  return (
    pod !== undefined &&
    firstFailure(pod, stages.selector) === undefined &&
    firstFailure(pod, stages.rails) === undefined
  );
}

/**
 * The plan of a sampled pick. Its exclusions (9,999 of them for a warm shot) are worked out only when
 * read: a dry run and the status ask for them, the shot itself does not. They are the walk's, for the
 * same pick.
 */
function sampledPlan(
  pods: readonly PodFacts[],
  stages: PlanStages,
  mode: Mode,
  rails: Rails,
  picked: readonly PodFacts[],
  index: PodIndex | undefined,
): TargetPlan {
  const capped = applyBlastRadiusCap(picked, pods, rails, index);
  const warnings = [...scopeWarnings(stages.selector.length, pods.length, 1, 1), ...capped.warnings];
  let excluded: readonly Exclusion[] | undefined;
  const exclusions = (): readonly Exclusion[] => {
    const found: Exclusion[] = [];
    const matched = keepPassing(pods, stages.selector, "selector", found);
    const eligible = keepPassing(matched, stages.rails, "rail", found);
    const chosen = new Set(picked);
    const reason = notChosenReason(mode, { count: picked.length }, eligible.length);
    for (const pod of eligible) if (!chosen.has(pod)) found.push({ pod, reason, by: "mode" });
    return [...found, ...capped.dropped];
  };
  return {
    selected: capped.kept,
    warnings,
    get excluded() {
      excluded ??= exclusions();
      return excluded;
    },
  };
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

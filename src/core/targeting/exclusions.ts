import type { Exclusion, ExclusionStage } from "./types.js";

/**
 * The pods a plan left out, counted by reason: what a terminal shows by default (issue 14), since at
 * 10,000 pods the full list is 9,999 lines saying the same few things. The full list stays available
 * (`--explain`).
 */
export interface ExclusionGroup {
  readonly by: ExclusionStage;
  readonly reason: string;
  readonly count: number;
  /** The first few pods left out for this reason, as namespace/name. */
  readonly examples: readonly string[];
}

/** Groups in order of size, largest first; ties keep the order the plan gave (selectors, rails, mode). */
export function groupExclusions(excluded: readonly Exclusion[], examplesPerGroup = 3): ExclusionGroup[] {
  const groups = new Map<string, { by: ExclusionStage; reason: string; count: number; examples: string[] }>();
  for (const { pod, by, reason } of excluded) {
    const key = `${by}\u0000${reason}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { by, reason, count: 0, examples: [] };
      groups.set(key, group);
    }
    group.count += 1;
    if (group.examples.length < examplesPerGroup) group.examples.push(`${pod.namespace}/${pod.name}`);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

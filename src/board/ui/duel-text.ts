import { millis } from "./cells.js";
import type { DuelAttackView, DuelRestorer, DuelView } from "./protocol.js";

/**
 * The words of the board's duel panel (app/duel.tsx), DOM-free so the unit tier checks them: who
 * restored each attack and how fast, and the tally, as an audience reads them. Everything from the
 * cluster (targets, field managers) stays plain text; the page renders it as text nodes, never as HTML.
 */

const restorerNames: Readonly<Record<DuelRestorer, string>> = {
  gitops: "GitOps",
  kubernetes: "Kubernetes",
  broadside: "Broadside's revert (a miss)",
  kubectl: "a person with kubectl",
  other: "someone else",
  open: "holding",
  unknown: "unknown",
};

/** "GitOps (kustomize-controller)", "Broadside's revert (a miss)", "holding" while the drift is on. */
export function restorerText(attack: DuelAttackView): string {
  const name = restorerNames[attack.restorer];
  const by = attack.restoredBy;
  return by === null || attack.restorer === "broadside" ? name : `${name} (${by})`;
}

/** "2269 ms", "-" while the drift holds or when the record does not tell. */
export function restoreText(attack: DuelAttackView): string {
  return millis(attack.healMs ?? undefined);
}

/** "3 heals by GitOps, 1 by Kubernetes, 2 misses, 1 holding" (the panel's summary line and live region). */
export function tallyText(duel: DuelView): string {
  const holding = duel.attacks.filter((attack) => attack.restorer === "open").length;
  const { healsByGitOps, healsByKubernetes, misses } = duel.tally;
  return [
    `${healsByGitOps} ${healsByGitOps === 1 ? "heal" : "heals"} by GitOps`,
    `${healsByKubernetes} by Kubernetes`,
    `${misses} ${misses === 1 ? "miss" : "misses"}`,
    `${holding} holding`,
  ].join(", ");
}

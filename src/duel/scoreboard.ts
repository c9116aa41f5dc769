import { nearestRank } from "../core/percentile.js";
import type { AttackKind } from "./file.js";
import type { HealerKind } from "./gitops.js";

/**
 * What one attack came to, and the duel's scoreboard over many: pure functions of the outcomes, so every
 * figure of a report can be recomputed from the attacks it keeps.
 */

/** Who won an attack: the defender that restored it before the deadline, else Broadside. */
export type Side = "gitops" | "kubernetes" | "broadside";

export interface AttackOutcome {
  readonly leg: string;
  readonly round: number;
  readonly attack: string;
  readonly kind: AttackKind;
  /** For people: what was changed ("configmap demo-payments/checkout-config data.payment.timeout"). */
  readonly description: string;
  /** Whether Git defines every field the attack changed (null: no field, a killed pod). */
  readonly gitDefines: boolean | null;
  /** Epoch ms: the ledger record was written, just before the change. */
  readonly injectedAt: number;
  /** Epoch ms the object held its original again, by whoever restored it; null when nobody did. */
  readonly restoredAt: number | null;
  /** The field manager of the restoring write ("kustomize-controller", "broadside"), when known. */
  readonly restoredBy: string | null;
  readonly healer: HealerKind | "nobody";
  /** The ledger records of the attack's changes. */
  readonly ledgerIds: readonly string[];
  /** Pods that started or restarted while the drift held (null: not applicable, a pod kill). */
  readonly podsStarted: number | null;
  /** Why it ended as it did, when something went wrong. */
  readonly detail?: string;
}

export function sideOf(outcome: AttackOutcome): Side {
  if (outcome.healer === "gitops") return "gitops";
  if (outcome.healer === "kubernetes") return "kubernetes";
  return "broadside";
}

/** How long the drift held: until someone restored the object (Broadside's revert included). */
export function persistedMs(outcome: AttackOutcome): number | null {
  return outcome.restoredAt === null ? null : Math.max(0, outcome.restoredAt - outcome.injectedAt);
}

/** A heal by someone other than Broadside: its time from injection. */
export function healMs(outcome: AttackOutcome): number | null {
  return sideOf(outcome) === "broadside" ? null : persistedMs(outcome);
}

export interface Spread {
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly maxMs: number | null;
}

export interface Score {
  readonly attacks: number;
  /** Restored by the GitOps controller, with the heal times. */
  readonly healsByGitOps: Spread;
  /** Restored by Kubernetes' own controllers (a ReplicaSet replacing a killed pod). */
  readonly healsByKubernetes: number;
  /** The drift still there at the deadline: Broadside's own revert restored it (or nobody did). */
  readonly misses: number;
  /** Attacks on a field Git does not define: "GitOps cannot heal this". */
  readonly cannotHeal: number;
  /** How long drifts held, whoever ended them. */
  readonly persistence: Spread;
  /** Heals by GitOps or Kubernetes over attacks; null without attacks. */
  readonly selfHealRate: number | null;
  /** Pods that started or restarted while a drift held (read the wrong configuration). */
  readonly podsStarted: number;
  readonly winner: Side | "draw";
}

function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50Ms: nearestRank(sorted, 50) ?? null,
    p95Ms: nearestRank(sorted, 95) ?? null,
    maxMs: sorted.at(-1) ?? null,
  };
}

function notNull<T>(value: T | null): value is T {
  return value !== null;
}

/** The side that won the most attacks; "draw" when two tie for the most (or there were none). */
export function winnerOf(outcomes: readonly AttackOutcome[]): Side | "draw" {
  const wins = new Map<Side, number>();
  for (const outcome of outcomes) wins.set(sideOf(outcome), (wins.get(sideOf(outcome)) ?? 0) + 1);
  const ranked = [...wins.entries()].sort((a, b) => b[1] - a[1]);
  const [first, second] = ranked;
  if (first === undefined || (second !== undefined && second[1] === first[1])) return "draw";
  return first[0];
}

export function scoreOf(outcomes: readonly AttackOutcome[]): Score {
  const gitops = outcomes.filter((outcome) => outcome.healer === "gitops");
  const kubernetes = outcomes.filter((outcome) => outcome.healer === "kubernetes");
  const healed = gitops.length + kubernetes.length;
  return {
    attacks: outcomes.length,
    healsByGitOps: spread(gitops.map(healMs).filter(notNull)),
    healsByKubernetes: kubernetes.length,
    misses: outcomes.filter((outcome) => sideOf(outcome) === "broadside").length,
    cannotHeal: outcomes.filter((outcome) => outcome.gitDefines === false).length,
    persistence: spread(outcomes.map(persistedMs).filter(notNull)),
    selfHealRate: outcomes.length === 0 ? null : healed / outcomes.length,
    podsStarted: outcomes.reduce((sum, outcome) => sum + (outcome.podsStarted ?? 0), 0),
    winner: winnerOf(outcomes),
  };
}

export interface LegScore {
  readonly leg: string;
  readonly overall: Score;
  /** Per attack kind, in the order the kinds first appear. */
  readonly byKind: readonly { readonly kind: AttackKind; readonly score: Score }[];
}

export function legScore(leg: string, outcomes: readonly AttackOutcome[]): LegScore {
  const mine = outcomes.filter((outcome) => outcome.leg === leg);
  const kinds = [...new Set(mine.map((outcome) => outcome.kind))];
  return {
    leg,
    overall: scoreOf(mine),
    byKind: kinds.map((kind) => ({ kind, score: scoreOf(mine.filter((outcome) => outcome.kind === kind)) })),
  };
}

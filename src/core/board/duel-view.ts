import type { LedgerRecord } from "../ledger/record.js";
import { classifyManager } from "./field-managers.js";

/**
 * The board's view of a running duel (issue 13), derived from the ledger records the duel writes alone: no
 * new endpoint between the duel and the board. A duel marks itself with an open "gitops-interval" record
 * (the GitOps reconcile interval it set for a leg); while one is open, every other record written since it
 * is one of the duel's attacks. The ledger knows neither round nor attack name, so the view lists attacks,
 * newest first, with who restored each and how fast, and the running tally of the duel's scoreboard.
 */

/** Who restored an attack, as far as its ledger record tells. */
export type DuelRestorer = "gitops" | "kubernetes" | "broadside" | "kubectl" | "other" | "open" | "unknown";

export interface DuelAttackView {
  readonly id: string;
  /** The fault module: "config-drift", "scale", "object-delete", "pod-kill"... */
  readonly kind: string;
  /** "kind namespace/name path"; plain text, the UI escapes it like everything from the cluster. */
  readonly target: string;
  readonly restorer: DuelRestorer;
  /** The field manager of the restoring write, when the record names one. */
  readonly restoredBy: string | null;
  /** From the record's write to the restoration; null while open or when unknown. */
  readonly healMs: number | null;
}

export interface DuelView {
  readonly running: boolean;
  /** Epoch ms the open interval record was written. */
  readonly since: number | null;
  readonly attacks: readonly DuelAttackView[];
  readonly tally: {
    readonly healsByGitOps: number;
    readonly healsByKubernetes: number;
    readonly misses: number;
  };
}

export const noDuel: DuelView = {
  running: false,
  since: null,
  attacks: [],
  tally: { healsByGitOps: 0, healsByKubernetes: 0, misses: 0 },
};

const kubernetesManagers = /^(kube-controller-manager|kube-scheduler)$/;
/** Pod faults close their records when the pod is gone; the replacement is not in the record. */
const podFaults = new Set(["pod-kill", "container-kill", "pod-failure"]);

export function duelView(records: readonly LedgerRecord[], limit = 50): DuelView {
  const intervals = records.filter(
    (record) => record.faultKind === "gitops-interval" && record.state !== "closed",
  );
  if (intervals.length === 0) return noDuel;
  const since = Math.min(...intervals.map((record) => record.createdAt));
  const attacks = records
    .filter((record) => record.faultKind !== "gitops-interval" && record.createdAt >= since)
    .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
    .map(attackView);
  let healsByGitOps = 0;
  let healsByKubernetes = 0;
  let misses = 0;
  for (const attack of attacks) {
    if (attack.restorer === "gitops") healsByGitOps += 1;
    else if (attack.restorer === "kubernetes") healsByKubernetes += 1;
    else if (attack.restorer !== "open" && attack.restorer !== "unknown") misses += 1;
  }
  return {
    running: true,
    since,
    attacks: attacks.slice(0, limit),
    tally: { healsByGitOps, healsByKubernetes, misses },
  };
}

function attackView(record: LedgerRecord): DuelAttackView {
  const { target } = record;
  const base = {
    id: record.id,
    kind: record.faultKind,
    target: `${target.kind.toLowerCase()} ${target.namespace}/${target.name} ${record.path}`.trimEnd(),
  };
  if (record.state !== "closed") return { ...base, restorer: "open", restoredBy: null, healMs: null };
  const { outcome } = record;
  const healMs = Math.max(0, outcome.at - record.createdAt);
  if (podFaults.has(record.faultKind))
    return { ...base, restorer: "unknown", restoredBy: null, healMs: null };
  if (outcome.kind === "reverted") return { ...base, restorer: "broadside", restoredBy: "broadside", healMs };
  if (outcome.kind === "healed-externally") {
    const by = outcome.by;
    const restorer: DuelRestorer =
      by !== undefined && kubernetesManagers.test(by)
        ? "kubernetes"
        : by === undefined
          ? "other"
          : classifyManager(by);
    return { ...base, restorer, restoredBy: by ?? null, healMs };
  }
  return { ...base, restorer: "unknown", restoredBy: null, healMs: null };
}

import type { Clock } from "../core/clock.js";
import { describeError } from "../core/errors.js";
import { recoverExpired, type RecoverySummary, type TargetAccess } from "../core/ledger/recovery.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import type { LedgerStore } from "../core/ledger/store.js";
import type { ReconcileResult } from "./reconcile/workers.js";

/**
 * The agent's first reconciler: the ledger itself. Whatever wrote a record (a command line that was
 * killed, a run that detached with --no-wait, a replica of the agent that lost its lease), the leader
 * reverts it at its deadline from the record alone (ADR 0005, ADR 0007), then looks again at the next
 * deadline. Every write is conditional, so a process that reverts its own record at the same moment
 * loses nothing: one of the two writes wins, the other finds the record closed.
 */

/** The one key of the ledger's queue: the reconcile looks at every open record at once. */
export const ledgerKey = "ledger";

export interface LedgerReconcilerDeps {
  readonly ledger: LedgerStore;
  readonly targets: TargetAccess;
  readonly clock: Clock;
  /** Called with every record reverted, healed or given up, for the log and the metrics. */
  readonly onRecovered: (summary: RecoverySummary) => void;
  /** Called with the open records after each pass, a volley once per pod, for the active-faults gauge. */
  readonly onOpen: (open: readonly { readonly faultKind: string }[]) => void;
  /**
   * The namespaces this agent may act in (--watch-namespaces), or "all". Records of targets elsewhere
   * are left open for `broadside recover` or an agent that may act there: trying would only meet 403.
   */
  readonly watchedNamespaces: readonly string[] | "all";
  /** The longest wait between passes, even with no deadline in sight (a missed watch event heals). */
  readonly resyncMs: number;
}

export function ledgerReconciler(deps: LedgerReconcilerDeps): () => Promise<ReconcileResult> {
  return async () => {
    const inScope = (record: LedgerRecord): boolean =>
      deps.watchedNamespaces === "all" || deps.watchedNamespaces.includes(record.target.namespace);
    const summaries = await recoverExpired(deps.ledger, deps.targets, deps.clock, {
      includeUnexpired: false,
      inScope,
    });
    for (const summary of summaries) deps.onRecovered(summary);
    const open = await deps.ledger.list({ state: "open" });
    // A volley record stands for each of its pods (ADR 0016): the gauge counts faults, not records.
    deps.onOpen(open.flatMap((record) => (record.volley ?? [record]).map(() => record)));
    const now = deps.clock.now();
    const nextDeadline = Math.min(...open.filter(inScope).map((record) => record.deadline));
    // A record left open by an error (its summary says why) is due again at once: back off instead.
    const wait = nextDeadline <= now ? deps.resyncMs : Math.min(nextDeadline - now, deps.resyncMs);
    const failed = summaries.filter((summary) => summary.error !== undefined);
    if (failed.length > 0) {
      // The queue retries with backoff (5 ms doubling), not at the resync.
      throw new Error(
        `a revert failed: ${failed.map((s) => `${s.id}: ${describeError(s.error)}`).join("; ")}`,
      );
    }
    return { requeueAfterMs: wait };
  };
}

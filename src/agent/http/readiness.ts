import type { ReadinessCheck } from "./server.js";

/** What a readiness check needs of an informer (kube/watch/informer.ts `Informer.stats`). */
export interface SyncReporter {
  readonly stats: { readonly synced: boolean };
}

/**
 * Ready once every informer has applied its first LIST: before that the agent's cache would answer
 * "no such pod" for pods that exist, and a reconcile would decide on a partial view. `informers` is read
 * on every probe, so the caller may add informers as it starts them.
 */
export function informersSynced(
  informers: readonly SyncReporter[],
  name = "informers-synced",
): ReadinessCheck {
  return { name, isReady: () => informers.every((informer) => informer.stats.synced) };
}

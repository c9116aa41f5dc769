import { inFlow } from "../../kube/request-flow.js";
import type { WorkQueue } from "./work-queue.js";

/**
 * What a reconcile asks for when it succeeds: nothing (the informer will queue the key again when the
 * object changes) or another look after a delay (a fault's deadline, the next schedule instant).
 */
export interface ReconcileResult {
  readonly requeueAfterMs?: number;
}

/** Brings one object (namespace/name) one step closer to what its spec and the ledger say. */
export type Reconcile = (key: string) => Promise<ReconcileResult | undefined>;

/** The subset of a pino logger the workers write through: context as an object, constant messages. */
export interface ReconcileLog {
  error(context: object, message: string): void;
}

export interface Workers {
  /** Resolves once the queue is shut down and every worker has finished its key. */
  readonly finished: Promise<void>;
}

/**
 * Runs `concurrency` workers over the queue. A reconcile that throws is retried after the key's backoff
 * (ADR 0007); one that succeeds resets the backoff. An error never stops a worker: a controller that
 * dies on one bad object stops reconciling all the others.
 *
 * Each reconcile runs in a flow of its own, `<flow>/<key>` (kube/request-flow.ts): its API requests share
 * the client's rate limit fairly with other objects' reconciles, so a PodChaos killing 6,000 pods does not
 * hold back the next PodChaos's first request behind its queue (ADR 0016).
 */
export function startWorkers(
  queue: WorkQueue,
  reconcile: Reconcile,
  log: ReconcileLog,
  concurrency = 1,
  flow = "reconcile",
): Workers {
  const inKeysFlow: Reconcile = (key) => inFlow(`${flow}/${key}`, () => reconcile(key));
  const workers = Array.from({ length: concurrency }, () => work(queue, inKeysFlow, log));
  return { finished: Promise.all(workers).then(() => undefined) };
}

async function work(queue: WorkQueue, reconcile: Reconcile, log: ReconcileLog): Promise<void> {
  for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
    await reconcileOnce(queue, reconcile, log, key);
  }
}

async function reconcileOnce(queue: WorkQueue, reconcile: Reconcile, log: ReconcileLog, key: string) {
  try {
    const result = await reconcile(key);
    queue.forget(key);
    if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
  } catch (error) {
    log.error(
      { key, failures: queue.failures(key) + 1, err: error },
      "reconcile failed; retrying after backoff",
    );
    queue.addRateLimited(key);
  } finally {
    queue.done(key);
  }
}

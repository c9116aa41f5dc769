import { setTimer, type Clock } from "../../core/clock.js";
import { deferred, type Deferred } from "../../core/deferred.js";

/**
 * The controller's work queue, with client-go's workqueue semantics (ADR 0007): a key waits at most once
 * however often it is added; a key being reconciled is not handed to a second worker, and an add meanwhile
 * queues it again when the first is done (so the newest state is always reconciled once more); a failing
 * key comes back after a per-key exponential backoff; a key can be added after a delay (a deadline).
 */
export interface WorkQueue {
  /** Queues the key unless it already waits. */
  add(key: string): void;
  /** Queues the key `ms` from now (the earliest of several delays wins). */
  addAfter(key: string, ms: number): void;
  /** Queues the key after its backoff, which doubles with each failure since the last `forget`. */
  addRateLimited(key: string): void;
  /** The key succeeded: its backoff starts over. */
  forget(key: string): void;
  /** Failures counted for the key since the last `forget`. */
  failures(key: string): number;
  /** The next key to reconcile, once there is one; undefined once the queue is shut down. */
  get(): Promise<string | undefined>;
  /** The worker is done with the key; if it was added meanwhile, it waits again. */
  done(key: string): void;
  /** Keys waiting (not counting delayed ones or those being reconciled). */
  readonly length: number;
  /** Stops handing out keys and cancels every delayed add; waiting `get`s resolve undefined. */
  shutDown(): void;
}

/** client-go's default per-item limiter: 5 ms doubling up to 1000 s. */
export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

export const defaultBackoff: Backoff = { baseMs: 5, maxMs: 1_000_000 };

/** The delay before the `failures`-th retry (counted from 0), capped at `maxMs`. */
export function backoffDelay(backoff: Backoff, failures: number): number {
  // 2^exponent overflows to Infinity long after the cap; min() keeps the cap exact.
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** failures);
}

export function createWorkQueue(clock: Clock, backoff: Backoff = defaultBackoff): WorkQueue {
  const waiting: string[] = [];
  const dirty = new Set<string>();
  const processing = new Set<string>();
  const delayed = new Map<string, { readonly at: number; readonly cancel: () => void }>();
  const failureCounts = new Map<string, number>();
  const getters: Deferred<string | undefined>[] = [];
  let shuttingDown = false;

  const handOut = (): void => {
    while (getters.length > 0 && waiting.length > 0) {
      const key = waiting.shift() as string;
      dirty.delete(key);
      processing.add(key);
      getters.shift()?.resolve(key);
    }
  };

  const add = (key: string): void => {
    if (shuttingDown || dirty.has(key)) return;
    dirty.add(key);
    // A key being reconciled waits in `dirty` only: done() queues it, so no two workers hold it.
    if (processing.has(key)) return;
    waiting.push(key);
    handOut();
  };

  const addAfter = (key: string, ms: number): void => {
    if (shuttingDown) return;
    if (ms <= 0) {
      add(key);
      return;
    }
    const at = clock.now() + ms;
    const earlier = delayed.get(key);
    if (earlier !== undefined && earlier.at <= at) return;
    earlier?.cancel();
    const cancel = setTimer(clock, ms, () => {
      delayed.delete(key);
      add(key);
    });
    delayed.set(key, { at, cancel });
  };

  return {
    add,
    addAfter,
    addRateLimited: (key) => {
      const failures = failureCounts.get(key) ?? 0;
      failureCounts.set(key, failures + 1);
      addAfter(key, backoffDelay(backoff, failures));
    },
    forget: (key) => {
      failureCounts.delete(key);
    },
    failures: (key) => failureCounts.get(key) ?? 0,
    get: () => {
      if (shuttingDown) return Promise.resolve(undefined);
      const getter = deferred<string | undefined>();
      getters.push(getter);
      handOut();
      return getter.promise;
    },
    done: (key) => {
      processing.delete(key);
      if (!dirty.has(key) || shuttingDown) return;
      waiting.push(key);
      handOut();
    },
    get length() {
      return waiting.length;
    },
    shutDown: () => {
      shuttingDown = true;
      for (const { cancel } of delayed.values()) cancel();
      delayed.clear();
      for (const getter of getters.splice(0)) getter.resolve(undefined);
    },
  };
}

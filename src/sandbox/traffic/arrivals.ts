import type { Clock } from "../../core/clock.js";

/**
 * Waiting for a pod's endpoint (a loopback listener, PodListeners; a body, PodBodies) that the front doors
 * want to dial while the informer event that makes it may still be on its way: a dial waits for it a
 * moment (`catchUpMs`), and fails at once for a pod that has ended. Both keep the endpoints themselves;
 * this keeps who waits and which pods ended.
 */
export class Arrivals<T> {
  /** Pods that ended, with when: waiting for them ends at once. Only the last minute is kept. */
  private readonly ended = new Map<string, number>();
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(
    private readonly clock: Clock,
    /** The endpoint of a pod now, if it has one. */
    private readonly current: (uid: string) => T | undefined,
    private readonly catchUpMs = 1000,
  ) {}

  /** The pod's endpoint once it appears; undefined when it has ended, or does not appear in time. */
  wait(uid: string, stopped: boolean): Promise<T | undefined> {
    if (stopped || this.ended.has(uid)) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiters = this.waiting.get(uid) ?? new Set<() => void>();
      this.waiting.set(uid, waiters);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiting.get(uid) === waiters) this.waiting.delete(uid);
        resolve(this.current(uid));
      };
      const timer = setTimeout(done, this.catchUpMs);
      waiters.add(done);
    });
  }

  /** The pod has an endpoint (again): it is no longer ended, and its waiters get it. */
  arrived(uid: string): void {
    this.ended.delete(uid);
    this.wake(uid);
  }

  /** The pod has ended: waiting for it ends at once from now on. */
  markEnded(uid: string): void {
    const now = this.clock.now();
    this.ended.set(uid, now);
    // Only the recent past matters (slices catch up within milliseconds): keep the map small.
    for (const [old, at] of this.ended) if (now - at > 60_000) this.ended.delete(old);
  }

  /** Ends the waits for one pod: they get whatever endpoint it has now. */
  wake(uid: string): void {
    for (const done of [...(this.waiting.get(uid) ?? [])]) done();
  }

  wakeAll(): void {
    for (const uid of [...this.waiting.keys()]) this.wake(uid);
  }
}

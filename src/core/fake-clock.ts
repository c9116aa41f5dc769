import { setImmediate as nextTurn } from "node:timers/promises";
import type { Clock } from "./clock.js";

/*
 * For tests: the Clock that unit tests of time-driven code (token bucket, schedules) step by hand, so
 * they never sleep for real and never assert on wall-clock time.
 */

/** A clock that moves only when the test says so; sleepers wake when time reaches them, or on abort. */
export class FakeClock implements Clock {
  private sleepers: { readonly wakeAt: number; readonly wake: () => void }[] = [];
  /** Every sleep asked for, in ms. */
  readonly sleeps: number[] = [];

  constructor(private time = 0) {}

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((resolve) => {
      if (signal?.aborted === true) {
        resolve();
        return;
      }
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((sleeper) => sleeper.wake !== wake);
        resolve();
      };
      const wake = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.sleepers.push({ wakeAt: this.time + ms, wake });
    });
  }

  /** Time passes: each sleeper wakes at its own time, in order, and runs before the next. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      this.sleepers.sort((a, b) => a.wakeAt - b.wakeAt);
      const next = this.sleepers[0];
      if (next === undefined || next.wakeAt > until) break;
      this.sleepers.shift();
      this.time = next.wakeAt;
      next.wake();
      await nextTurn();
    }
    this.time = until;
    await nextTurn();
  }

  /**
   * The clock jumps to `to` at once (the event loop was blocked, the machine slept, the wall clock was
   * set): every pending sleeper wakes, late, at the new time.
   */
  async jumpTo(to: number): Promise<void> {
    this.time = to;
    for (const sleeper of this.sleepers.splice(0)) sleeper.wake();
    await nextTurn();
  }
}

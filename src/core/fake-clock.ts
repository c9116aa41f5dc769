import { setImmediate as nextTurn } from "node:timers/promises";
import type { Clock } from "./clock.js";

/*
 * For tests: the one Clock that unit tests of time-driven code (token bucket, schedules, the informer,
 * the engine) step by hand, so they never sleep for real and never assert on wall-clock time.
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

  /** Sleeps (and timers, see setTimer) neither woken nor aborted yet. */
  get pending(): number {
    return this.sleepers.length;
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

  /**
   * Time passes: each sleeper wakes at its own time, in order (those due together in the order they
   * slept), and what it sets off runs before the next wakes.
   */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      await settle();
      this.sleepers.sort((a, b) => a.wakeAt - b.wakeAt);
      const next = this.sleepers[0];
      if (next === undefined || next.wakeAt > until) break;
      this.sleepers.shift();
      this.time = next.wakeAt;
      next.wake();
    }
    this.time = until;
    await settle();
  }

  /**
   * The clock jumps to `to` at once (the event loop was blocked, the machine slept, the wall clock was
   * set): every pending sleeper wakes, late, at the new time.
   */
  async jumpTo(to: number): Promise<void> {
    this.time = to;
    for (const sleeper of this.sleepers.splice(0)) sleeper.wake();
    await settle();
  }
}

/**
 * Lets every pending promise callback run, and what they start on the next turns too: code woken by the
 * clock may pass through a few awaits (an in-memory watch source, a store) before it sleeps again.
 */
async function settle(): Promise<void> {
  for (let round = 0; round < 10; round += 1) await nextTurn();
}

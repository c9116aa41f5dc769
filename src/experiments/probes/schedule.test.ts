import { describe, expect, it } from "vitest";
import type { Clock } from "../../core/clock.js";
import { FixedRateTicker, instantOf, nextStep, periodMsOf } from "./schedule.js";

/** A clock that moves only when told to; sleepers wake when their time is reached. */
function manualClock(start: number) {
  let now = start;
  const sleepers: { at: number; wake: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        sleepers.push({ at: now + ms, wake: resolve });
        signal?.addEventListener("abort", () => {
          resolve();
        });
      }),
  };
  const advanceTo = async (to: number): Promise<void> => {
    now = to;
    for (const sleeper of sleepers.splice(0)) {
      if (sleeper.at <= now) sleeper.wake();
      else sleepers.push(sleeper);
    }
    // Let the ticker's loop run up to its next sleep.
    for (let i = 0; i < 10; i += 1) await Promise.resolve();
  };
  return { clock, advanceTo };
}

describe("fixed-rate instants", () => {
  it("computes every instant from the start, not from the previous one", () => {
    const period = periodMsOf(3);
    expect(instantOf(1000, period, 3)).toBe(2000);
    expect(instantOf(1000, period, 30_000)).toBeCloseTo(1000 + 10_000_000, 6);
  });

  it("waits for an instant not yet due, even when a timer woke a little early", () => {
    expect(nextStep(0, 100, 1, 40)).toEqual({ wait: 60 });
    expect(nextStep(0, 100, 1, 99.5)).toEqual({ wait: 0.5 });
  });

  it("fires a due instant, late or not, without drifting the next one", () => {
    expect(nextStep(0, 100, 1, 100)).toEqual({ fire: 1, missed: 0 });
    expect(nextStep(0, 100, 1, 180)).toEqual({ fire: 1, missed: 0 });
    // Late by 80 ms, the next instant is still 200, not 280.
    expect(nextStep(0, 100, 2, 180)).toEqual({ wait: 20 });
  });

  it("reads an exact multiple of a fractional period as that instant", () => {
    const period = periodMsOf(3);
    expect(nextStep(0, period, 3, 3 * period)).toEqual({ fire: 3, missed: 0 });
  });

  it("counts instants wholly overtaken by a blocked loop as missed, and fires the latest", () => {
    expect(nextStep(0, 100, 1, 430)).toEqual({ fire: 4, missed: 3 });
  });
});

describe("FixedRateTicker", () => {
  it("starts a task at every instant, overlapping slow tasks, and skips instants at the cap", async () => {
    const { clock, advanceTo } = manualClock(10_000);
    const fired: number[] = [];
    const release: (() => void)[] = [];
    const ticker = new FixedRateTicker({
      clock,
      frequencyHz: 10,
      maxInFlight: 3,
      task: () => {
        fired.push(clock.now());
        return new Promise<void>((resolve) => release.push(resolve));
      },
    });
    ticker.start();
    for (const at of [10_100, 10_200, 10_300, 10_400]) await advanceTo(at);
    // Three hung tasks overlap; the fourth and fifth instants hit the cap.
    expect(fired).toEqual([10_000, 10_100, 10_200]);
    expect(ticker.stats).toMatchObject({ fired: 3, skippedAtCap: 2, inFlight: 3 });
    for (const done of release.splice(0)) done();
    await advanceTo(10_499);
    await advanceTo(10_500);
    expect(fired).toEqual([10_000, 10_100, 10_200, 10_500]);
    const stopped = ticker.stop();
    for (const done of release.splice(0)) done();
    await stopped;
    expect(ticker.stats.inFlight).toBe(0);
  });

  it("records overtaken instants as missed rather than sending them in a burst", async () => {
    const { clock, advanceTo } = manualClock(0);
    const fired: number[] = [];
    const ticker = new FixedRateTicker({
      clock,
      frequencyHz: 10,
      maxInFlight: 10,
      task: () => {
        fired.push(clock.now());
        return Promise.resolve();
      },
    });
    ticker.start();
    await advanceTo(450);
    expect(fired).toEqual([0, 450]);
    expect(ticker.stats.missed).toBe(3);
    await advanceTo(500);
    expect(fired).toEqual([0, 450, 500]);
    await ticker.stop();
  });
});

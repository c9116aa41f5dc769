import { describe, expect, it } from "vitest";
import { maxTimerMs, systemClock, timerSlices } from "./clock.js";

describe("the system clock's sleep", () => {
  it("ends early when its signal aborts", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    controller.abort();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("leaves no listener on a long-lived signal once it has slept", async () => {
    const controller = new AbortController();
    let listeners = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    const counting = Object.assign(Object.create(signal) as AbortSignal, {
      addEventListener: (...args: Parameters<AbortSignal["addEventListener"]>) => {
        listeners += 1;
        add(...args);
      },
      removeEventListener: (...args: Parameters<AbortSignal["removeEventListener"]>) => {
        listeners -= 1;
        remove(...args);
      },
    });
    for (let i = 0; i < 5; i += 1) await systemClock.sleep(1, counting);
    expect(listeners).toBe(0);
  });
});

describe("a long sleep is chained, because Node fires a timer past 2^31-1 ms after 1 ms", () => {
  it("cuts 600 hours into slices Node can hold, adding up to 600 hours", () => {
    const slices = [...timerSlices(600 * 3_600_000)];
    expect(slices.every((slice) => slice <= maxTimerMs)).toBe(true);
    expect(slices.reduce((sum, slice) => sum + slice, 0)).toBe(600 * 3_600_000);
    expect(slices).toHaveLength(2);
  });

  it("keeps a short sleep whole, and a negative one at zero", () => {
    expect([...timerSlices(1500)]).toEqual([1500]);
    expect([...timerSlices(-5)]).toEqual([0]);
  });

  it("draws an endless sleep one slice at a time, so it waits for its signal instead of filling memory", () => {
    const slices = timerSlices(Number.POSITIVE_INFINITY, 10);
    expect([slices.next().value, slices.next().value, slices.next().value]).toEqual([10, 10, 10]);
  });
});

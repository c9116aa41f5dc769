import { describe, expect, it } from "vitest";
import { systemClock } from "./clock.js";

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

import { describe, expect, it } from "vitest";
import { Duration } from "../duration.js";
import { ShotLimiter } from "./shot-limiter.js";

function setup(limits: { maxShots: number; interval: string; maxDownPerWorkload: number }) {
  const clock = { time: 0, now: (): number => clock.time };
  const limiter = new ShotLimiter(
    { ...limits, interval: Duration.parse(limits.interval, "interval") },
    clock,
  );
  return { clock, limiter };
}

describe("ShotLimiter", () => {
  it("allows K shots per sliding interval across workloads, and says when the next one is possible", () => {
    const { clock, limiter } = setup({ maxShots: 3, interval: "10s", maxDownPerWorkload: 10 });
    for (const [at, workload] of [
      [0, "web"],
      [2000, "api"],
      [4000, "db"],
    ] as const) {
      clock.time = at;
      expect(limiter.check(workload)).toEqual({ allowed: true });
      limiter.recordShot(workload, `${workload}-pod-${at}`);
    }

    clock.time = 6000;
    expect(limiter.check("cache")).toEqual({
      allowed: false,
      limit: "rate",
      reason: "rate limit: 3 shots already fired in the last 10s",
      retryAfterMs: 4000,
    });
    // The window slides: the shot at 0 drops out at 10 s, not at the start of a new fixed window.
    clock.time = 9999;
    expect(limiter.check("cache")).toMatchObject({ allowed: false, limit: "rate", retryAfterMs: 1 });
    clock.time = 10_000;
    expect(limiter.check("cache")).toEqual({ allowed: true });
  });

  it("keeps at most M pods of one workload down, until the caller reports them recovered", () => {
    const { limiter } = setup({ maxShots: 100, interval: "1m", maxDownPerWorkload: 2 });
    limiter.recordShot("default/web", "web-a");
    limiter.recordShot("default/web", "web-b");

    expect(limiter.check("default/web")).toEqual({
      allowed: false,
      limit: "down",
      reason: "down limit: 2 pods of default/web are already down (at most 2)",
    });
    expect(limiter.check("default/api")).toEqual({ allowed: true });

    limiter.recordRecovered("default/web", "web-a");
    expect(limiter.downCount("default/web")).toBe(1);
    expect(limiter.check("default/web")).toEqual({ allowed: true });
  });

  it("counts a pod reported twice once, and ignores recoveries it never saw a shot for", () => {
    const { limiter } = setup({ maxShots: 100, interval: "1m", maxDownPerWorkload: 2 });
    limiter.recordShot("web", "web-a");
    limiter.recordShot("web", "web-a");
    limiter.recordRecovered("web", "web-z");
    limiter.recordRecovered("api", "api-a");
    expect(limiter.downCount("web")).toBe(1);
    expect(limiter.check("web")).toEqual({ allowed: true });
    limiter.recordRecovered("web", "web-a");
    expect(limiter.downCount("web")).toBe(0);
  });

  it("names the rate limit first when both limits are reached", () => {
    const { limiter } = setup({ maxShots: 1, interval: "1m", maxDownPerWorkload: 1 });
    limiter.recordShot("web", "web-a");
    expect(limiter.check("web")).toMatchObject({ allowed: false, limit: "rate" });
  });

  it.each([
    [{ maxShots: 0, interval: "1m", maxDownPerWorkload: 1 }, /maxShots/],
    [{ maxShots: 1, interval: "1m", maxDownPerWorkload: 0.5 }, /maxDownPerWorkload/],
    [{ maxShots: 1, interval: "0", maxDownPerWorkload: 1 }, /interval/],
  ])("refuses %j", (limits, message) => {
    expect(() => setup(limits)).toThrow(message);
  });
});

import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../fake-clock.js";
import { TokenBucket, backoffFromResponse, defaultThrottleDelayMs, parseRetryAfter } from "./token-bucket.js";

/**
 * Starts `count` acquires and records the clock time at which each one resolves; returns once those that
 * need no wait have resolved.
 */
async function acquireMany(
  bucket: TokenBucket,
  clock: FakeClock,
  count: number,
  flow?: string,
): Promise<(number | undefined)[]> {
  const grantedAt: (number | undefined)[] = Array.from({ length: count }, () => undefined);
  for (let index = 0; index < count; index += 1) {
    void bucket.acquire(flow).then(() => {
      grantedAt[index] = clock.now();
    });
  }
  await nextTurn();
  return grantedAt;
}

describe("TokenBucket", () => {
  it("lets a burst through at once, then one request per 1/qps seconds, in call order", async () => {
    const clock = new FakeClock(1000);
    const bucket = new TokenBucket({ qps: 5, burst: 3 }, clock);
    const grantedAt = await acquireMany(bucket, clock, 6);

    expect(grantedAt).toEqual([1000, 1000, 1000, undefined, undefined, undefined]);
    await clock.advance(1000);
    expect(grantedAt).toEqual([1000, 1000, 1000, 1200, 1400, 1600]);
  });

  it("refills while idle, but never beyond the burst", async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 2 }, clock);
    await clock.advance(60_000);
    expect(bucket.available()).toBe(2);
    const grantedAt = await acquireMany(bucket, clock, 3);
    await clock.advance(100);
    expect(grantedAt).toEqual([60_000, 60_000, 60_100]);
  });

  it("tryAcquire takes a free token, and does not jump ahead of waiting callers", async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1 }, clock);
    expect(bucket.tryAcquire()).toBe(true);
    expect(bucket.tryAcquire()).toBe(false);
    const grantedAt = await acquireMany(bucket, clock, 1);
    await clock.advance(1000);
    expect(grantedAt).toEqual([1000]);
    // The token that came at 1000 ms went to the waiter.
    expect(bucket.tryAcquire()).toBe(false);
    await clock.advance(1000);
    expect(bucket.tryAcquire()).toBe(true);
  });

  it("waits whole milliseconds for fractional rates", async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 3, burst: 1 }, clock);
    const grantedAt = await acquireMany(bucket, clock, 2);
    await clock.advance(400);
    expect(grantedAt).toEqual([0, 334]);
  });

  it("mints no tokens when the clock steps back", () => {
    const clock = {
      time: 10_000,
      now: (): number => clock.time,
      sleep: (): Promise<void> => Promise.resolve(),
    };
    const bucket = new TokenBucket({ qps: 1, burst: 1 }, clock);
    expect(bucket.tryAcquire()).toBe(true);
    clock.time = 0;
    expect(bucket.tryAcquire()).toBe(false);
    // Time lost to the step back is not counted twice either: one second after returning, one token.
    clock.time = 11_000;
    expect(bucket.tryAcquire()).toBe(true);
  });

  it.each([
    [{ qps: 0, burst: 1 }, /qps/],
    [{ qps: Number.NaN, burst: 1 }, /qps/],
    [{ qps: 1, burst: 0 }, /burst/],
    [{ qps: 1, burst: 1.5 }, /burst/],
  ])("refuses %j", (options, message) => {
    expect(() => new TokenBucket(options, new FakeClock())).toThrow(message);
  });
});

describe("TokenBucket shares its tokens fairly between flows", () => {
  it("serves a flow that arrives behind another flow's long queue at the next turn, not after the queue", async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 1 }, clock);
    // A mode-all PodChaos: 100 requests at once, one through the burst, 99 waiting.
    const fanOut = await acquireMany(bucket, clock, 100, "PodChaos/shop/all");
    await clock.advance(1_000);
    const second = await acquireMany(bucket, clock, 1, "PodChaos/other/one");

    await clock.advance(200);
    // One token goes to the fan-out (its turn came first), the next to the newcomer.
    expect(second).toEqual([1_200]);
    expect(fanOut.filter((at) => at !== undefined)).toHaveLength(12);
  });

  it("hands the tokens round robin to the flows waiting, each flow's requests in call order", async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 1 }, clock);
    expect(bucket.tryAcquire()).toBe(true);
    const order: string[] = [];
    for (const [flow, count] of [
      ["a", 3],
      ["b", 2],
      ["c", 1],
    ] as const) {
      for (let index = 1; index <= count; index += 1)
        void bucket.acquire(flow).then(() => order.push(`${flow}${index}`));
    }
    await clock.advance(1_000);
    expect(order).toEqual(["a1", "b1", "c1", "a2", "b2", "a3"]);
  });

  it("keeps the total rate and burst of one shared bucket, however many flows wait", async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 5, burst: 2 }, clock);
    const granted = await Promise.all(
      ["a", "b", "c", "d"].map((flow) => acquireMany(bucket, clock, 3, flow)),
    );
    await clock.advance(10_000);
    const times = granted
      .flat()
      .map((at) => at ?? Number.NaN)
      .sort((x, y) => x - y);
    // Twelve requests: two through the burst at once, then one every 200 ms.
    expect(times).toEqual([0, 0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000]);
  });

  it("puts requests without a flow in the default flow, which takes its turn like any other", async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 1 }, clock);
    const busy = await acquireMany(bucket, clock, 50, "busy");
    const lease = await acquireMany(bucket, clock, 1);
    await clock.advance(200);
    expect(lease).toEqual([200]);
    expect(busy.filter((at) => at !== undefined)).toEqual([0, 100]);
    expect(bucket.available()).toBeLessThan(0);
  });
});

describe("backoffFromResponse", () => {
  const now = Date.UTC(2025, 4, 1, 12, 0, 0);

  it.each<[string, number, string | null | undefined, number | undefined]>([
    ["429 with seconds", 429, "3", 3000],
    ["429 with zero seconds", 429, "0", 0],
    ["429 with an HTTP date", 429, "Thu, 01 May 2025 12:00:07 GMT", 7000],
    ["429 with a date in the past", 429, "Thu, 01 May 2025 11:59:00 GMT", 0],
    ["429 without the header", 429, undefined, defaultThrottleDelayMs],
    ["429 with a null header (fetch Headers.get)", 429, null, defaultThrottleDelayMs],
    ["429 with garbage", 429, "soon", defaultThrottleDelayMs],
    ["503 with seconds", 503, "2", 2000],
    ["500 without the header", 500, undefined, undefined],
    ["200 with seconds", 200, "5", undefined],
    ["409 conflict", 409, undefined, undefined],
  ])("%s: %d %j -> %j", (_name, status, header, expected) => {
    expect(backoffFromResponse(status, header, now)).toBe(expected);
  });
});

describe("parseRetryAfter", () => {
  it.each(["1.5", "-3", "", "3 seconds", "Blursday"])("refuses %j", (value) => {
    expect(parseRetryAfter(value, 0)).toBeUndefined();
  });

  it("accepts surrounding spaces", () => {
    expect(parseRetryAfter(" 4 ", 0)).toBe(4000);
  });
});

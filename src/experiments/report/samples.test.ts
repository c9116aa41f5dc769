import { describe, expect, it } from "vitest";
import {
  availability,
  errorCounts,
  latencyFigures,
  longestUnreachable,
  nearestRank,
  phasesOf,
  probeFigures,
  type Sample,
} from "./samples.js";
import { seededRandom, syntheticSamples } from "./synthetic.js";

const t0 = 1_750_000_000_000;
const interval = 200; // 5 Hz

function sample(sentAt: number, ok: boolean, latencyMs = 20, extra: Partial<Sample> = {}): Sample {
  return { probe: "front-door", sentAt, latencyMs, ok, ...extra };
}

describe("a 5 Hz probe through a 1.5 s outage of refused connections", () => {
  const window = { start: t0, end: t0 + 30_000 };

  it("finds the outage within one probe interval plus 50 ms, wherever it starts and despite jitter", () => {
    // Outage starts swept across a whole probe interval (and beyond), with +-20 ms of timer jitter.
    for (let offset = 0; offset < 400; offset += 7) {
      const samples = syntheticSamples({
        probe: "front-door",
        start: window.start,
        end: window.end,
        intervalMs: interval,
        jitterMs: 20,
        seed: offset + 1,
        outages: [{ from: t0 + 10_000 + offset, ms: 1500 }],
      });
      const stretch = longestUnreachable(samples, window);
      expect(stretch?.stillFailing).toBe(false);
      expect(Math.abs((stretch?.ms ?? 0) - 1500)).toBeLessThanOrEqual(interval + 50);
    }
  });

  it("reports availability as exactly successes / sent, matching the count of failed samples", () => {
    const samples = syntheticSamples({
      probe: "front-door",
      start: window.start,
      end: window.end,
      intervalMs: interval,
      jitterMs: 20,
      outages: [{ from: t0 + 10_050, ms: 1500 }],
    });
    const failed = samples.filter((s) => !s.ok).length;
    const figures = probeFigures("front-door", samples, window);
    expect(figures.sent).toBe(150);
    expect(figures.failures).toBe(failed);
    expect(failed).toBeGreaterThanOrEqual(7);
    expect(failed).toBeLessThanOrEqual(8);
    expect(figures.availability).toBe(Math.round(((150 - failed) / 150) * 10_000) / 10_000);
    expect(figures.errors).toEqual([{ kind: "ECONNREFUSED", count: failed }]);
  });

  it("measures a stretch from the first failure to the next success, not to the last failure", () => {
    const samples = [sample(t0, true), sample(t0 + 200, false), sample(t0 + 400, true)];
    // One failed sample is one interval of not knowing the target was up, never 0 ms.
    expect(longestUnreachable(samples, window)).toEqual({
      ms: 200,
      from: t0 + 200,
      to: t0 + 400,
      stillFailing: false,
    });
  });

  it("keeps the longest of several stretches, and the earliest of equal ones", () => {
    const samples = [
      sample(t0, false),
      sample(t0 + 200, true),
      sample(t0 + 400, false),
      sample(t0 + 600, false),
      sample(t0 + 800, true),
      sample(t0 + 1000, false),
      sample(t0 + 1200, false),
      sample(t0 + 1400, true),
    ];
    expect(longestUnreachable(samples, window)).toMatchObject({ ms: 400, from: t0 + 400 });
  });

  it("sorts samples by sentAt first, so arrival order does not matter", () => {
    const samples = [sample(t0 + 400, true), sample(t0 + 200, false), sample(t0, true)];
    expect(longestUnreachable(samples, window)?.ms).toBe(200);
  });
});

describe("a run that ends while failing", () => {
  it("extends the last stretch to the window's end and says it was still failing", () => {
    const window = { start: t0, end: t0 + 2000 };
    const samples = [
      sample(t0, true),
      sample(t0 + 200, true),
      sample(t0 + 400, false),
      sample(t0 + 1800, false),
    ];
    expect(longestUnreachable(samples, window)).toEqual({
      ms: 1600,
      from: t0 + 400,
      to: t0 + 2000,
      stillFailing: true,
    });
  });

  it("counts a window that failed throughout as unreachable from its first sample to its end", () => {
    const window = { start: t0, end: t0 + 1000 };
    const figures = probeFigures("front-door", [sample(t0 + 100, false), sample(t0 + 300, false)], window);
    expect(figures.availability).toBe(0);
    expect(figures.latency).toBeNull();
    expect(figures.longestUnreachable).toMatchObject({ ms: 900, stillFailing: true });
  });
});

describe("empty phases", () => {
  it("have no availability, no latency, no stretch and no outage rather than invented ones", () => {
    const figures = probeFigures("front-door", [], { start: t0, end: t0 });
    expect(figures).toEqual({
      probe: "front-door",
      sent: 0,
      successes: 0,
      failures: 0,
      availability: null,
      longestUnreachable: null,
      outage: null,
      latency: null,
      errors: [],
    });
    expect(availability(0, 0)).toBeNull();
  });

  it("a run without chaos windows is all baseline, with empty chaos and recovery at its end", () => {
    expect(phasesOf(t0, t0 + 5000, [])).toEqual({
      baseline: { start: t0, end: t0 + 5000 },
      chaos: { start: t0 + 5000, end: t0 + 5000 },
      recovery: { start: t0 + 5000, end: t0 + 5000 },
    });
  });
});

describe("phases", () => {
  it("run from the first chaos window's start to the last one's end, gaps included", () => {
    const windows = [
      { start: t0 + 1000, end: t0 + 2000 },
      { start: t0 + 3000, end: t0 + 4000 },
    ];
    expect(phasesOf(t0, t0 + 6000, windows)).toEqual({
      baseline: { start: t0, end: t0 + 1000 },
      chaos: { start: t0 + 1000, end: t0 + 4000 },
      recovery: { start: t0 + 4000, end: t0 + 6000 },
    });
  });

  it("are [start, end): a sample sent exactly at the boundary belongs to the next phase", () => {
    const phases = phasesOf(t0, t0 + 3000, [{ start: t0 + 1000, end: t0 + 2000 }]);
    const samples = [sample(t0 + 1000, false)];
    expect(probeFigures("front-door", samples, phases.baseline).sent).toBe(0);
    expect(probeFigures("front-door", samples, phases.chaos).sent).toBe(1);
  });

  it("cut stretches at their edges; the whole-run window does not", () => {
    const phases = phasesOf(t0, t0 + 3000, [{ start: t0 + 1000, end: t0 + 2000 }]);
    const samples = [
      sample(t0 + 600, true),
      sample(t0 + 800, false),
      sample(t0 + 1000, false),
      sample(t0 + 1200, false),
      sample(t0 + 1400, true),
    ];
    expect(longestUnreachable(samples, phases.baseline)).toMatchObject({ ms: 200, stillFailing: true });
    expect(longestUnreachable(samples, phases.chaos)).toMatchObject({ ms: 400, from: t0 + 1000 });
    expect(longestUnreachable(samples, { start: t0, end: t0 + 3000 })).toMatchObject({
      ms: 600,
      from: t0 + 800,
    });
  });
});

describe("latency percentiles (nearest rank, over successful samples)", () => {
  it("give measured values on a known distribution, whatever the order", () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    const random = seededRandom(3);
    const shuffled = values.map((value) => ({ value, key: random() })).sort((a, b) => a.key - b.key);
    const samples = shuffled.map(({ value }, index) => sample(t0 + index, true, value));
    expect(latencyFigures(samples)).toEqual({ samples: 100, p50Ms: 50, p95Ms: 95, p99Ms: 99, maxMs: 100 });
  });

  it("take the value at rank ceil(p * n / 100)", () => {
    const sorted = [10, 20, 30, 40];
    expect(nearestRank(sorted, 50)).toBe(20);
    expect(nearestRank(sorted, 95)).toBe(40);
    expect(nearestRank([7], 1)).toBe(7);
    expect(nearestRank([], 50)).toBeNull();
  });

  it("leave failed samples out: a refused connection answering in 0.4 ms is not a fast request", () => {
    const samples = [sample(t0, true, 100), sample(t0 + 1, false, 0.4), sample(t0 + 2, true, 300)];
    expect(latencyFigures(samples)).toEqual({ samples: 2, p50Ms: 100, p95Ms: 300, p99Ms: 300, maxMs: 300 });
  });
});

describe("failures by kind", () => {
  it("group by error, else HTTP status, most frequent first", () => {
    const samples = [
      sample(t0, false, 1, { error: "timeout" }),
      sample(t0 + 1, false, 1, { status: 503 }),
      sample(t0 + 2, false, 1, { status: 503 }),
      sample(t0 + 3, false, 1),
      sample(t0 + 4, true, 1, { status: 200 }),
    ];
    expect(errorCounts(samples)).toEqual([
      { kind: "HTTP 503", count: 2 },
      { kind: "failed", count: 1 },
      { kind: "timeout", count: 1 },
    ]);
  });
});

describe("availability", () => {
  it("rounds to 4 decimals", () => {
    expect(availability(2, 3)).toBe(0.6667);
    expect(availability(143, 150)).toBe(0.9533);
    expect(availability(5, 5)).toBe(1);
  });
});

describe("the outage: the window every failed sample of a probe lies in", () => {
  const window = { start: t0, end: t0 + 10_000 };

  it("runs from the first failed sample to the last, scattered failures included, and ends at the next success", () => {
    // A Service whose pods go down one by one fails some requests, then all, then some again.
    const oks = [true, true, false, true, false, false, false, true, false, true, true];
    const samples = oks.map((ok, index) => sample(t0 + index * interval, ok));
    const outage = probeFigures("front-door", samples, window).outage;
    expect(outage).toEqual({
      from: t0 + 2 * interval,
      lastFailedAt: t0 + 8 * interval,
      to: t0 + 9 * interval,
      failures: 5,
      stillFailing: false,
    });
    for (const failed of samples.filter((s) => !s.ok)) {
      expect(failed.sentAt).toBeGreaterThanOrEqual(outage?.from ?? Infinity);
      expect(failed.sentAt).toBeLessThanOrEqual(outage?.lastFailedAt ?? -Infinity);
    }
  });

  it("is still failing at the window's end when no success came after the last failure", () => {
    const samples = [sample(t0, true), sample(t0 + interval, false), sample(t0 + 2 * interval, false)];
    expect(probeFigures("front-door", samples, window).outage).toEqual({
      from: t0 + interval,
      lastFailedAt: t0 + 2 * interval,
      to: window.end,
      failures: 2,
      stillFailing: true,
    });
  });

  it("is null when nothing failed", () => {
    expect(probeFigures("front-door", [sample(t0, true)], window).outage).toBeNull();
  });
});

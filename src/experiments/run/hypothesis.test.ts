import { describe, expect, it } from "vitest";
import { Duration } from "../../core/duration.js";
import type { HttpProbe } from "../files/model.js";
import { parseTolerance, type Tolerance } from "../files/tolerance.js";
import type { Sample } from "../report/samples.js";
import { breachesIn, hypothesisChecks } from "./hypothesis.js";

function tolerance(text: string): Tolerance {
  const result = parseTolerance(text);
  if (!result.ok) throw new Error(result.problem);
  return result.tolerance;
}

function probe(name: string, ...tolerances: string[]): HttpProbe {
  return {
    type: "http",
    name,
    tolerances: tolerances.map(tolerance),
    url: "http://127.0.0.1:1/",
    method: "GET",
    headers: {},
    expectStatus: [{ from: 200, to: 299 }],
    frequencyHz: 10,
    timeout: Duration.ofMilliseconds(1000),
  };
}

/** One sample every 100 ms from `start`; `failed` lists the indexes that fail. */
function samples(name: string, start: number, count: number, failed: readonly number[] = []): Sample[] {
  return Array.from({ length: count }, (_, index) => ({
    probe: name,
    sentAt: start + index * 100,
    latencyMs: 20 + (index % 5),
    ok: !failed.includes(index),
  }));
}

describe("a hypothesis's tolerances as report checks", () => {
  it("checks every tolerance once per phase the file asks for: before is the baseline, after the recovery", () => {
    const checks = hypothesisChecks(
      [probe("web", "availability >= 99%", "p95 <= 200ms")],
      ["before", "after"],
    );
    expect(checks).toEqual([
      {
        name: "web: availability >= 99% (before)",
        subject: { type: "probe", probe: "web", scope: "baseline", figure: "availability" },
        tolerance: { op: ">=", limit: 0.99 },
      },
      {
        name: "web: p95 <= 200ms (before)",
        subject: { type: "probe", probe: "web", scope: "baseline", figure: "p95Ms" },
        tolerance: { op: "<=", limit: 200 },
      },
      expect.objectContaining({ name: "web: availability >= 99% (after)" }),
      expect.objectContaining({ name: "web: p95 <= 200ms (after)" }),
    ]);
  });

  it("maps longest-failure to the longest unreachable stretch, keeping a strict comparator strict", () => {
    const [check] = hypothesisChecks([probe("web", "longest-failure < 2s")], ["during"]);
    expect(check?.subject).toMatchObject({ scope: "chaos", figure: "longestUnreachableMs" });
    expect(check?.tolerance).toEqual({ op: "<", limit: 2000 });
  });
});

describe("judging a window of samples", () => {
  const web = probe("web", "availability >= 95%", "longest-failure <= 250ms");

  it("finds nothing to say about a window where the steady state held", () => {
    expect(breachesIn([web], samples("web", 0, 20, [3]), { start: 0, end: 2000 }, "before")).toEqual([]);
  });

  it("names each breached tolerance with what was observed", () => {
    const breaches = breachesIn(
      [web],
      samples("web", 0, 20, [3, 4, 5, 6]),
      { start: 0, end: 2000 },
      "during",
    );
    expect(breaches.map((b) => [b.name, b.observed])).toEqual([
      ["web: availability >= 95% (during)", 0.8],
      ["web: longest-failure <= 250ms (during)", 400],
    ]);
  });

  it("counts a failure still going on at the window's end up to that end", () => {
    const breaches = breachesIn(
      [web],
      samples("web", 0, 20, [17, 18, 19]),
      { start: 0, end: 2300 },
      "during",
    );
    expect(breaches.find((b) => b.name.includes("longest-failure"))?.observed).toBe(2300 - 1700);
  });

  it("only looks inside the window: failures before it do not count", () => {
    const all = samples("web", 0, 40, [1, 2, 3, 4, 5]);
    expect(breachesIn([web], all, { start: 2000, end: 4000 }, "after")).toEqual([]);
  });

  it("treats a probe without samples as unproven, not as holding", () => {
    const [breach] = breachesIn([web], [], { start: 0, end: 1000 }, "before");
    expect(breach?.observed).toBeNull();
  });
});

describe("strict and inclusive comparators", () => {
  it("holds at the limit for >= and <=, breaches at it for > and <", () => {
    const atLimit = samples("web", 0, 100, [0]); // availability 0.99 exactly
    const strict = probe("web", "availability > 99%");
    const inclusive = probe("web", "availability >= 99%");
    expect(breachesIn([inclusive], atLimit, { start: 0, end: 10_000 }, "after")).toEqual([]);
    expect(breachesIn([strict], atLimit, { start: 0, end: 10_000 }, "after")).toHaveLength(1);
  });
});

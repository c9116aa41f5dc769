import { describe, expect, it } from "vitest";
import type { Tolerance } from "./tolerance.js";
import { parseTolerance } from "./tolerance.js";

function tolerance(text: string): Tolerance {
  const result = parseTolerance(text);
  if (!result.ok) throw new Error(result.problem);
  return result.tolerance;
}

describe("the tolerance language", () => {
  it.each<[string, object]>([
    ["availability >= 99.5%", { metric: "availability", comparator: ">=", ratio: 0.995 }],
    ["availability > 0.9", { metric: "availability", comparator: ">", ratio: 0.9 }],
    ["availability>=100%", { metric: "availability", ratio: 1 }],
    [
      "p95 <= 200ms",
      { metric: "latency", percentile: 95, comparator: "<=", threshold: { milliseconds: 200 } },
    ],
    ["p99 < 1s", { metric: "latency", percentile: 99, comparator: "<", threshold: { milliseconds: 1000 } }],
    ["longest-failure <= 2s", { metric: "longest-failure", threshold: { milliseconds: 2000 } }],
  ])("reads %j", (text, expected) => {
    expect(tolerance(text)).toMatchObject({ ...expected, text: text.trim() });
  });

  it.each([
    ["p99.9 < 1s", "p99.9: the latency percentiles are p50, p95 and p99"],
    ["availability <= 99%", 'availability is a floor: write "availability >= 99%"'],
    ["p95 >= 200ms", 'p95 is a ceiling: write "p95 <= 200ms"'],
    ["availability >= 150%", "availability needs a percentage (99.5%) or a fraction from 0 to 1 (0.995)"],
    ["availability >= 99", "availability needs a percentage"],
    ["p0 <= 1s", "p0: the latency percentiles are p50, p95 and p99"],
    ["p101 <= 1s", "the latency percentiles are p50, p95 and p99"],
    ["p95 <= 200", '"200" is not a duration'],
    ["p95 <= -1s", 'must not be negative, got "-1s"'],
    ["errors <= 3", 'unknown metric "errors"'],
    ["availability is high", "is not a tolerance"],
  ])("refuses %j: %s", (text, problem) => {
    const result = parseTolerance(text);
    expect(!result.ok && result.problem).toContain(problem);
  });
});

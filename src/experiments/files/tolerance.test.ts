import { describe, expect, it } from "vitest";
import type { Tolerance } from "./tolerance.js";
import { parseTolerance, toleranceHolds } from "./tolerance.js";

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
    [
      "p99.9 < 1s",
      { metric: "latency", percentile: 99.9, comparator: "<", threshold: { milliseconds: 1000 } },
    ],
    ["longest-failure <= 2s", { metric: "longest-failure", threshold: { milliseconds: 2000 } }],
  ])("reads %j", (text, expected) => {
    expect(tolerance(text)).toMatchObject({ ...expected, text: text.trim() });
  });

  it.each([
    ["availability <= 99%", 'availability is a floor: write "availability >= 99%"'],
    ["p95 >= 200ms", 'p95 is a ceiling: write "p95 <= 200ms"'],
    ["availability >= 150%", "availability needs a percentage (99.5%) or a fraction from 0 to 1 (0.995)"],
    ["availability >= 99", "availability needs a percentage"],
    ["p0 <= 1s", "p0: a percentile is above 0 and at most 100"],
    ["p101 <= 1s", "a percentile is above 0 and at most 100"],
    ["p95 <= 200", '"200" is not a duration'],
    ["p95 <= -1s", 'must not be negative, got "-1s"'],
    ["errors <= 3", 'unknown metric "errors"'],
    ["availability is high", "is not a tolerance"],
  ])("refuses %j: %s", (text, problem) => {
    const result = parseTolerance(text);
    expect(!result.ok && result.problem).toContain(problem);
  });

  it("judges a measurement: a ratio for availability, milliseconds otherwise", () => {
    expect(toleranceHolds(tolerance("availability >= 99%"), 0.99)).toBe(true);
    expect(toleranceHolds(tolerance("availability > 99%"), 0.99)).toBe(false);
    expect(toleranceHolds(tolerance("p95 <= 200ms"), 200)).toBe(true);
    expect(toleranceHolds(tolerance("p95 < 200ms"), 200)).toBe(false);
    expect(toleranceHolds(tolerance("longest-failure <= 2s"), 2500)).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { Duration } from "../duration.js";
import { JitteredBackoff } from "./jittered-backoff.js";

const ms = (milliseconds: number): Duration => Duration.ofMilliseconds(milliseconds);

/** A random source that returns `values` in turn, then repeats the last. */
function sequence(...values: number[]): () => number {
  let index = 0;
  return () => {
    const value = values[Math.min(index, values.length - 1)] ?? 0;
    index += 1;
    return value;
  };
}

describe("JitteredBackoff", () => {
  it("doubles the ceiling per attempt, up to max, at the top of the range", () => {
    const backoff = new JitteredBackoff({ min: ms(100), max: ms(1000) }, () => 1);
    expect([1, 2, 3, 4, 5].map(() => backoff.next())).toEqual([200, 400, 800, 1000, 1000]);
    expect(backoff.attempts).toBe(5);
  });

  it("never goes below min, at the bottom of the range", () => {
    const backoff = new JitteredBackoff({ min: ms(100), max: ms(1000) }, () => 0);
    expect([1, 2, 3].map(() => backoff.next())).toEqual([100, 100, 100]);
  });

  it("draws over the whole range between min and the ceiling", () => {
    const backoff = new JitteredBackoff({ min: ms(100), max: ms(10_000) }, sequence(0.5, 0.25, 0.999));
    // Ceilings 200, 400, 800.
    expect([1, 2, 3].map(() => backoff.next())).toEqual([150, 175, 799]);
  });

  it("starts over after reset", () => {
    const backoff = new JitteredBackoff({ min: ms(100), max: ms(1000) }, () => 1);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBe(200);
  });

  it("honours another factor", () => {
    const backoff = new JitteredBackoff({ min: ms(10), max: ms(10_000), factor: 3 }, () => 1);
    expect([1, 2, 3].map(() => backoff.next())).toEqual([30, 90, 270]);
  });

  it("stays at max after very many attempts, without overflowing to Infinity or NaN", () => {
    const backoff = new JitteredBackoff({ min: ms(1), max: ms(30_000) }, () => 1);
    let last = 0;
    for (let attempt = 0; attempt < 2000; attempt += 1) last = backoff.next();
    expect(last).toBe(30_000);
  });

  it("keeps a random source that strays outside [0, 1] inside the range", () => {
    expect(new JitteredBackoff({ min: ms(100), max: ms(1000) }, () => 7).next()).toBe(200);
    expect(new JitteredBackoff({ min: ms(100), max: ms(1000) }, () => -1).next()).toBe(100);
  });

  it.each([
    [{ min: ms(0), max: ms(10) }, /min/],
    [{ min: ms(100), max: ms(10) }, /max/],
    [{ min: ms(1), max: ms(10), factor: 0.5 }, /factor/],
    [{ min: ms(1), max: ms(10), factor: Number.POSITIVE_INFINITY }, /factor/],
  ])("refuses %j", (options, message) => {
    expect(() => new JitteredBackoff(options, () => 0)).toThrow(message);
  });
});

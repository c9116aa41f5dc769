import { describe, expect, it } from "vitest";
import { parseGoDuration } from "./durations.js";

describe("Go durations in Chaos Mesh manifests", () => {
  it.each([
    ["0", 0],
    ["300ms", 300],
    ["1.5h", 5_400_000],
    ["2h45m", 9_900_000],
    [".5s", 500],
    ["500us", 0.5],
    ["500µs", 0.5],
    ["1000000ns", 1],
    ["+10s", 10_000],
  ])("reads %j as time.ParseDuration does", (text, milliseconds) => {
    expect(parseGoDuration(text)).toEqual({ ok: true, milliseconds });
  });

  it.each([
    ["-5s", 'must not be negative, got "-5s"'],
    ["", '"" is not a duration'],
    ["5", '"5" is not a duration'],
    ["10min", '"10min" is not a duration'],
    ["1d", '"1d" is not a duration'],
  ])("refuses %j", (text, problem) => {
    expect(parseGoDuration(text)).toEqual({ ok: false, problem: expect.stringContaining(problem) as string });
  });
});

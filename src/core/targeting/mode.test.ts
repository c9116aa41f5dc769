import { describe, expect, it } from "vitest";
import { BroadsideError } from "../errors.js";
import {
  assertValidMode,
  chooseIndexes,
  countToPick,
  describeMode,
  notChosenReason,
  parseMode,
  percentOf,
  randomIndex,
  readMode,
} from "./mode.js";
import type { Mode, RandomSource } from "./types.js";

/** Returns `values` in order and fails the test if asked for more: tests state every draw they expect. */
function sequence(...values: number[]): RandomSource {
  let index = 0;
  return () => {
    const value = values[index];
    index += 1;
    if (value === undefined)
      throw new Error(`random source asked for draw ${index}, test provided ${values.length}`);
    return value;
  };
}

describe("parseMode", () => {
  it.each<[string, string | undefined, Mode]>([
    ["one", undefined, { kind: "one" }],
    ["all", undefined, { kind: "all" }],
    [" all ", undefined, { kind: "all" }],
    ["fixed", "2", { kind: "fixed", count: 2 }],
    ["fixed", "007", { kind: "fixed", count: 7 }],
    ["fixed-percent", "50", { kind: "fixed-percent", percent: 50 }],
    ["fixed-percent", "100", { kind: "fixed-percent", percent: 100 }],
    ["random-max-percent", "1", { kind: "random-max-percent", maxPercent: 1 }],
  ])("reads --mode %s --value %s", (mode, value, expected) => {
    expect(parseMode(mode, value)).toEqual(expected);
  });

  it.each<[string, string | undefined, string]>([
    [
      "some",
      undefined,
      '--mode: "some" is not a mode; use one, all, fixed, fixed-percent, random-max-percent',
    ],
    ["One", undefined, '--mode: "One" is not a mode'],
    ["one", "1", '--value: mode one takes no value, got "1"'],
    ["all", "", '--value: mode all takes no value, got ""'],
    ["fixed", undefined, "--value: fixed needs a whole number of pods from 1 to 100000, got none"],
    ["fixed", "0", '--value: fixed needs a whole number of pods from 1 to 100000, got "0"'],
    ["fixed", "-2", '--value: fixed needs a whole number of pods from 1 to 100000, got "-2"'],
    ["fixed", "2.5", '--value: fixed needs a whole number of pods from 1 to 100000, got "2.5"'],
    ["fixed", "1e3", '--value: fixed needs a whole number of pods from 1 to 100000, got "1e3"'],
    [
      "fixed",
      "99999999999",
      '--value: fixed needs a whole number of pods from 1 to 100000, got "99999999999"',
    ],
    ["fixed-percent", "150", '--value: fixed-percent needs a percentage from 1 to 100, got "150"'],
    ["fixed-percent", "0", '--value: fixed-percent needs a percentage from 1 to 100, got "0"'],
    ["fixed-percent", "50%", '--value: fixed-percent needs a percentage from 1 to 100, got "50%"'],
    [
      "random-max-percent",
      undefined,
      "--value: random-max-percent needs a percentage from 1 to 100, got none",
    ],
  ])("refuses --mode %s --value %s", (mode, value, message) => {
    expect(() => parseMode(mode, value)).toThrow(BroadsideError);
    expect(() => parseMode(mode, value)).toThrow(message);
  });

  it("names the fields it is given, for manifests", () => {
    expect(readMode("fixed", "x", { mode: "spec.mode", value: "spec.value" })).toEqual({
      ok: false,
      field: "spec.value",
      problem: 'fixed needs a whole number of pods from 1 to 100000, got "x"',
    });
  });
});

describe("countToPick: Chaos Mesh's counts and rounding (pkg/selector/generic/mode.go)", () => {
  it.each<[string, Mode, number, number[], number]>([
    ["one of none", { kind: "one" }, 0, [], 0],
    ["one of one", { kind: "one" }, 1, [], 1],
    ["one of five", { kind: "one" }, 5, [], 1],
    ["all of none", { kind: "all" }, 0, [], 0],
    ["all of three", { kind: "all" }, 3, [], 3],
    ["fixed 2 of 5", { kind: "fixed", count: 2 }, 5, [], 2],
    ["fixed 5 of 3 takes what there is", { kind: "fixed", count: 5 }, 3, [], 3],
    ["fixed 2 of none", { kind: "fixed", count: 2 }, 0, [], 0],
    ["fixed-percent 50 of 4 is exact", { kind: "fixed-percent", percent: 50 }, 4, [], 2],
    ["fixed-percent 50 of 5 rounds 2.5 up", { kind: "fixed-percent", percent: 50 }, 5, [], 3],
    ["fixed-percent 1 of 3 rounds 0.03 up to 1, never to 0", { kind: "fixed-percent", percent: 1 }, 3, [], 1],
    ["fixed-percent 33 of 3 rounds 0.99 up", { kind: "fixed-percent", percent: 33 }, 3, [], 1],
    ["fixed-percent 34 of 3 rounds 1.02 up", { kind: "fixed-percent", percent: 34 }, 3, [], 2],
    ["fixed-percent 100 of 7", { kind: "fixed-percent", percent: 100 }, 7, [], 7],
    ["fixed-percent 10 of none", { kind: "fixed-percent", percent: 10 }, 0, [], 0],
    // random-max-percent draws p in 0..P inclusive: floor(draw × (P + 1)), then ceil(eligible × p / 100).
    ["random-max-percent 50 of 10 drawing 0%", { kind: "random-max-percent", maxPercent: 50 }, 10, [0], 0],
    ["random-max-percent 50 of 10 drawing 25%", { kind: "random-max-percent", maxPercent: 50 }, 10, [0.5], 3],
    [
      "random-max-percent 50 of 10 drawing 50%",
      { kind: "random-max-percent", maxPercent: 50 },
      10,
      [0.99],
      5,
    ],
    ["random-max-percent 100 can draw 100%", { kind: "random-max-percent", maxPercent: 100 }, 7, [0.999], 7],
    ["random-max-percent 1 of 3 drawing 1%", { kind: "random-max-percent", maxPercent: 1 }, 3, [0.5], 1],
    ["random-max-percent of none draws nothing", { kind: "random-max-percent", maxPercent: 50 }, 0, [], 0],
  ])("%s", (_story, mode, eligible, draws, count) => {
    expect(countToPick(mode, eligible, sequence(...draws)).count).toBe(count);
  });

  it("reports the percentage random-max-percent drew", () => {
    expect(countToPick({ kind: "random-max-percent", maxPercent: 50 }, 10, sequence(0.5))).toEqual({
      count: 3,
      drawnPercent: 25,
    });
  });

  it("rounds in the same float arithmetic as Go's math.Ceil(float64(n) * float64(p) / 100)", () => {
    expect(percentOf(3, 100)).toBe(3);
    expect(percentOf(7, 10)).toBe(1);
    expect(percentOf(200, 7)).toBe(14);
  });
});

describe("chooseIndexes", () => {
  it.each<[string, number, number, number[], number[]]>([
    ["lowest draws pick the first pods", 5, 2, [0, 0], [0, 1]],
    ["highest draws pick from the end", 5, 2, [0.99, 0.99], [0, 4]],
    ["one of three, first", 3, 1, [0], [0]],
    ["one of three, middle", 3, 1, [0.34], [1]],
    ["one of three, last", 3, 1, [0.67], [2]],
    ["none", 4, 0, [], []],
    ["everything needs no draws", 3, 3, [], [0, 1, 2]],
    ["more than there is needs no draws", 2, 5, [], [0, 1]],
    ["nothing to choose from", 0, 1, [], []],
  ])("%s", (_story, total, count, draws, indexes) => {
    expect(chooseIndexes(total, count, sequence(...draws))).toEqual(indexes);
  });

  it("terminates with a constant source, where Chaos Mesh's redraw-on-collision loop would spin", () => {
    expect(chooseIndexes(10, 9, () => 0)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("reaches every pair of 3 pods", () => {
    const draws = [0, 0.34, 0.67];
    const pairs = new Set(
      draws.flatMap((first) =>
        [0, 0.5].map((second) => chooseIndexes(3, 2, sequence(first, second)).join(",")),
      ),
    );
    expect([...pairs].sort()).toEqual(["0,1", "0,2", "1,2"]);
  });
});

describe("randomIndex", () => {
  it.each([Number.NaN, 1, -0.1, 2])("refuses a random source returning %d", (draw) => {
    expect(() => randomIndex(() => draw, 3)).toThrow(RangeError);
  });

  it("maps the largest double below 1 to the last index", () => {
    expect(randomIndex(() => 1 - Number.EPSILON / 2, 101)).toBe(100);
  });
});

describe("describing modes", () => {
  it.each<[Mode, string]>([
    [{ kind: "one" }, "one"],
    [{ kind: "all" }, "all"],
    [{ kind: "fixed", count: 2 }, "fixed 2"],
    [{ kind: "fixed-percent", percent: 50 }, "fixed-percent 50"],
    [{ kind: "random-max-percent", maxPercent: 30 }, "random-max-percent 30"],
  ])("%j is %s", (mode, text) => {
    expect(describeMode(mode)).toBe(text);
  });

  it.each<[Mode, number, number[], string]>([
    [{ kind: "one" }, 3, [], "mode one: not the one chosen"],
    [{ kind: "fixed", count: 2 }, 5, [], "mode fixed 2: not among the 2 chosen"],
    [
      { kind: "fixed-percent", percent: 50 },
      5,
      [],
      "mode fixed-percent 50: not among the 3 chosen (50% of 5 eligible, rounded up)",
    ],
    [
      { kind: "random-max-percent", maxPercent: 50 },
      10,
      [0.5],
      "mode random-max-percent 50: not among the 3 chosen (drew 25% of 10 eligible, rounded up)",
    ],
    [
      { kind: "random-max-percent", maxPercent: 50 },
      10,
      [0],
      "mode random-max-percent 50: drew 0%, so none of 10 eligible pods is chosen",
    ],
  ])("explains why a pod was not picked under %j", (mode, eligible, draws, reason) => {
    const draw = countToPick(mode, eligible, sequence(...draws));
    expect(notChosenReason(mode, draw, eligible)).toBe(reason);
  });
});

describe("assertValidMode", () => {
  it.each<Mode>([
    { kind: "fixed", count: 0 },
    { kind: "fixed", count: 1.5 },
    { kind: "fixed-percent", percent: 0 },
    { kind: "fixed-percent", percent: 101 },
    { kind: "random-max-percent", maxPercent: 50.5 },
  ])("refuses %j built in code", (mode) => {
    expect(() => {
      assertValidMode(mode);
    }).toThrow(RangeError);
  });

  it("accepts parsed modes", () => {
    expect(() => {
      assertValidMode(parseMode("fixed", "3"));
    }).not.toThrow();
  });
});

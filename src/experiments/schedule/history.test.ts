import { describe, expect, it } from "vitest";
import { retirable } from "./history.js";

interface Run {
  readonly name: string;
  readonly finished: boolean;
}

const run = (name: string, finished = true): Run => ({ name, finished });

describe("retirable: Chaos Mesh's schedule gc", () => {
  it.each([
    { runs: [run("a"), run("b")], limit: 2, retired: [] },
    { runs: [run("a"), run("b"), run("c")], limit: 1, retired: ["a", "b"] },
    // Running runs count towards the limit but are never removed (ScheduleSkipRemoveHistory).
    { runs: [run("a", false), run("b"), run("c", false)], limit: 1, retired: ["b"] },
    // Only the oldest beyond the limit are looked at: a newer finished run stays.
    { runs: [run("a", false), run("b"), run("c")], limit: 2, retired: [] },
  ])("$limit kept of $runs.length", ({ runs, limit, retired }) => {
    expect(retirable(runs, limit, (r) => r.finished).map((r) => r.name)).toEqual(retired);
  });
});

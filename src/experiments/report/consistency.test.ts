import { describe, expect, it } from "vitest";
import { buildRunReport } from "./build.js";
import type { RunInput } from "./run-report.js";
import { exampleOrigin, exampleRunInput } from "./synthetic.js";

describe("building a report refuses evidence that contradicts itself", () => {
  it("overlapping chaos windows are a bug in the runner", () => {
    const input: RunInput = {
      ...exampleRunInput(),
      chaosWindows: [
        { start: exampleOrigin + 1000, end: exampleOrigin + 3000 },
        { start: exampleOrigin + 2000, end: exampleOrigin + 4000 },
      ],
    };
    expect(() => buildRunReport(input)).toThrow(/chaosWindows\[1\]: overlaps/);
  });

  it("a check on a fault that does not exist", () => {
    const input: RunInput = {
      ...exampleRunInput(),
      checks: [
        { name: "x", subject: { type: "fault-recovery", fault: 9 }, tolerance: { op: "<=", limit: 1 } },
      ],
    };
    expect(() => buildRunReport(input)).toThrow(/checks\[0\]\.subject\.fault: there is no fault 9/);
  });
});

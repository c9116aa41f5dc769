import { describe, expect, it } from "vitest";
import { mergeWindows } from "./windows.js";

describe("chaos windows for the report", () => {
  it("sorts windows and joins the ones that overlap or touch", () => {
    expect(
      mergeWindows([
        { start: 50, end: 60 },
        { start: 0, end: 10 },
        { start: 5, end: 20 },
        { start: 20, end: 30 },
      ]),
    ).toEqual([
      { start: 0, end: 30 },
      { start: 50, end: 60 },
    ]);
  });

  it("drops empty windows, which disturbed nothing", () => {
    expect(mergeWindows([{ start: 5, end: 5 }])).toEqual([]);
  });
});

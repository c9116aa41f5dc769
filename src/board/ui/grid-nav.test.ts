import { describe, expect, it } from "vitest";
import { clampPosition, isFireKey, moveFocus } from "./grid-nav.js";

/* The firing grid by keyboard alone: arrows move one cell and stop at the edges, Home/End and Page keys jump. */

describe("moving the focus over a 6 × 6 grid", () => {
  const middle = { row: 2, col: 3 };

  it("moves one cell per arrow key", () => {
    expect(moveFocus(middle, { key: "ArrowUp" }, 6)).toEqual({ row: 1, col: 3 });
    expect(moveFocus(middle, { key: "ArrowDown" }, 6)).toEqual({ row: 3, col: 3 });
    expect(moveFocus(middle, { key: "ArrowLeft" }, 6)).toEqual({ row: 2, col: 2 });
    expect(moveFocus(middle, { key: "ArrowRight" }, 6)).toEqual({ row: 2, col: 4 });
  });

  it("stops at the edges instead of wrapping", () => {
    expect(moveFocus({ row: 0, col: 0 }, { key: "ArrowUp" }, 6)).toEqual({ row: 0, col: 0 });
    expect(moveFocus({ row: 0, col: 0 }, { key: "ArrowLeft" }, 6)).toEqual({ row: 0, col: 0 });
    expect(moveFocus({ row: 5, col: 5 }, { key: "ArrowDown" }, 6)).toEqual({ row: 5, col: 5 });
    expect(moveFocus({ row: 5, col: 5 }, { key: "ArrowRight" }, 6)).toEqual({ row: 5, col: 5 });
  });

  it("jumps to the row's ends with Home and End, to the corners with Ctrl, to the column's ends with the Page keys", () => {
    expect(moveFocus(middle, { key: "Home" }, 6)).toEqual({ row: 2, col: 0 });
    expect(moveFocus(middle, { key: "End" }, 6)).toEqual({ row: 2, col: 5 });
    expect(moveFocus(middle, { key: "Home", ctrl: true }, 6)).toEqual({ row: 0, col: 0 });
    expect(moveFocus(middle, { key: "End", ctrl: true }, 6)).toEqual({ row: 5, col: 5 });
    expect(moveFocus(middle, { key: "PageUp" }, 6)).toEqual({ row: 0, col: 3 });
    expect(moveFocus(middle, { key: "PageDown" }, 6)).toEqual({ row: 5, col: 3 });
  });

  it("ignores keys that are not moves, and brings a focus left outside a shrunken grid back in", () => {
    expect(moveFocus(middle, { key: "a" }, 6)).toBeUndefined();
    expect(moveFocus(middle, { key: "Enter" }, 6)).toBeUndefined();
    expect(moveFocus({ row: 9, col: 9 }, { key: "ArrowUp" }, 6)).toEqual({ row: 4, col: 5 });
    expect(clampPosition({ row: -1, col: 7 }, 6)).toEqual({ row: 0, col: 5 });
  });

  it("fires on Enter and Space only", () => {
    expect(["Enter", " ", "Spacebar"].every(isFireKey)).toBe(true);
    expect(["Tab", "Escape", "f", "ArrowUp"].some(isFireKey)).toBe(false);
  });
});

/**
 * Keyboard movement over a grid, for the roving tabindex: one cell of a grid is in the tab order at a
 * time, the arrow keys move it, Home and End go to the row's ends (with Ctrl, to the grid's corners),
 * Page Up and Page Down to the column's ends. Moves stop at the edges rather than wrap, as a spreadsheet
 * does, so holding a key never throws the focus across the grid. Enter and Space fire; the caller does
 * that.
 */

export interface GridPosition {
  readonly row: number;
  readonly col: number;
}

/** The key of a KeyboardEvent and whether Ctrl (or Cmd) was held. */
export interface KeyPress {
  readonly key: string;
  readonly ctrl?: boolean;
}

/** Where the focus goes for `press` in a grid of `side` × `side`; undefined for a key that is not a move. */
export function moveFocus(from: GridPosition, press: KeyPress, side: number): GridPosition | undefined {
  const move = moves[press.key];
  if (move === undefined) return undefined;
  return move(clampPosition(from, side), Math.max(0, side - 1), press.ctrl === true);
}

type Move = (at: GridPosition, last: number, ctrl: boolean) => GridPosition;

const moves: Readonly<Record<string, Move>> = {
  ArrowUp: (at) => ({ row: Math.max(0, at.row - 1), col: at.col }),
  ArrowDown: (at, last) => ({ row: Math.min(last, at.row + 1), col: at.col }),
  ArrowLeft: (at) => ({ row: at.row, col: Math.max(0, at.col - 1) }),
  ArrowRight: (at, last) => ({ row: at.row, col: Math.min(last, at.col + 1) }),
  Home: (at, _last, ctrl) => (ctrl ? { row: 0, col: 0 } : { row: at.row, col: 0 }),
  End: (at, last, ctrl) => (ctrl ? { row: last, col: last } : { row: at.row, col: last }),
  PageUp: (at) => ({ row: 0, col: at.col }),
  PageDown: (at, last) => ({ row: last, col: at.col }),
};

/** Enter and Space fire at the focused cell. */
export function isFireKey(key: string): boolean {
  return key === "Enter" || key === " " || key === "Spacebar";
}

/** A position kept inside a grid that may have grown or been replaced. */
export function clampPosition(position: GridPosition, side: number): GridPosition {
  const last = Math.max(0, side - 1);
  return { row: Math.min(Math.max(0, position.row), last), col: Math.min(Math.max(0, position.col), last) };
}

import type { CellState, CellView, GridView, ShipView } from "./protocol.js";

/**
 * How a cell is drawn and read out. Colour is never the only sign: each state has its own symbol (and
 * its own pattern in board.css), and its name is in the cell's accessible label.
 */

export type SquareState = CellState | "water";

export const cellSymbols: Readonly<Record<SquareState, string>> = {
  water: "",
  intact: "■",
  burning: "✕",
  rebuilding: "◐",
  repaired: "✓",
};

export const stateNames: Readonly<Record<SquareState, string>> = {
  water: "water",
  intact: "intact",
  burning: "burning",
  rebuilding: "rebuilding",
  repaired: "repaired",
};

/** One square of a grid: water, or a ship's cell. */
export interface Square {
  readonly row: number;
  readonly col: number;
  readonly state: SquareState;
  readonly ship?: ShipView;
  readonly cell?: CellView;
}

/** The grid's squares in reading order (row by row), water where no ship holds the cell. */
export function squaresOf(grid: GridView): Square[][] {
  const held = new Map<number, { ship: ShipView; cell: CellView }>();
  for (const ship of grid.ships)
    for (const cell of ship.cells) held.set(cell.row * grid.side + cell.col, { ship, cell });
  const rows: Square[][] = [];
  for (let row = 0; row < grid.side; row += 1) {
    const squares: Square[] = [];
    for (let col = 0; col < grid.side; col += 1) {
      const found = held.get(row * grid.side + col);
      squares.push(
        found === undefined ? { row, col, state: "water" } : { row, col, state: found.cell.state, ...found },
      );
    }
    rows.push(squares);
  }
  return rows;
}

/** What a screen reader says for a square, e.g. "B3, Deployment web, web-7c9f, repaired in 842 ms". */
export function squareLabel(square: Square): string {
  const place = `${columnName(square.col)}${square.row + 1}`;
  if (square.ship === undefined || square.cell === undefined) return `${place}, water`;
  const pod = square.cell.pod?.name ?? "no pod yet";
  const state =
    square.state === "repaired" && square.cell.repairedMs !== undefined
      ? `repaired in ${square.cell.repairedMs} ms`
      : stateNames[square.state];
  return `${place}, ${square.ship.kind} ${square.ship.name}, ${pod}, ${state}`;
}

/** Columns are letters, as in Battleship: A to Z, then AA, AB... */
export function columnName(col: number): string {
  let name = "";
  for (let rest = col + 1; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    name = String.fromCharCode(65 + ((rest - 1) % 26)) + name;
  }
  return name;
}

/** "12:04:05.123" (UTC), as the ticker's first column. */
export function clockTime(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}

/** "842 ms", or "-" before there is a figure. */
export function millis(ms: number | undefined): string {
  return ms === undefined ? "-" : `${Math.round(ms)} ms`;
}

/** "97 %", or "-" while nothing is decided. */
export function percent(rate: number | undefined): string {
  return rate === undefined ? "-" : `${Math.round(rate * 100)} %`;
}

/** "1.5 per min", or "-" before the game has run a moment. */
export function perMinute(rate: number | undefined): string {
  return rate === undefined ? "-" : `${rate < 10 ? rate.toFixed(1) : Math.round(rate)} per min`;
}

/** Restored drifts by who restored them: "GitOps 2, kubectl 1, Broadside 1, other 0". */
export function healsText(
  heals: Readonly<Record<"gitops" | "kubectl" | "broadside" | "other", number>>,
): string {
  return `GitOps ${heals.gitops}, kubectl ${heals.kubectl}, Broadside ${heals.broadside}, other ${heals.other}`;
}

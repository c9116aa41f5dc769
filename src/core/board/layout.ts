/**
 * Where ships go on a grid: pure geometry, no pods. A ship's place is drawn from a hash of its name, so
 * the same fleet lands the same way in every process (the standalone board and the agent's), and a ship,
 * once placed, is never moved by anything this module does: the sea (sea.ts) only ever asks it for a
 * place for a new or grown ship. Grids are square and grow at the right and bottom edge only, so a cell's
 * coordinates never change.
 */

export type Orientation = "across" | "down";

export interface Coordinate {
  readonly row: number;
  readonly col: number;
}

export interface Placement extends Coordinate {
  readonly orientation: Orientation;
}

/** The smallest grid side: a namespace with one small ship still gets some water to miss in. */
export const minSide = 6;
/** A grid holds at least three cells per ship cell, so roughly two shots in three are misses. */
export const cellsPerShipCell = 3;
/**
 * A ship of length L with water around it takes about 2(L + 1) cells (the ring is shared with its
 * neighbours); first-fit from hashed starts packs loosely, so the grid gets twice that.
 */
const footprintSlack = 2;
/** Grids are capped well below this side; the cell keys below rely on it. */
const keySpace = 65_536;

/** 32-bit FNV-1a: a small, stable hash, the same in every Node version and process. */
export function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The side of a square grid for ships of the given lengths: room for their water, and the longest. */
export function sideFor(lengths: readonly number[]): number {
  const cells = lengths.reduce((sum, length) => sum + length, 0);
  const footprint = lengths.reduce((sum, length) => sum + 2 * (length + 1), 0);
  const area = Math.max(cells * cellsPerShipCell, footprint * footprintSlack);
  return Math.max(minSide, ...lengths, Math.ceil(Math.sqrt(area)));
}

/** How a full grid grows: by a quarter, at least two cells, so placing many ships grows it a few times only. */
export function grownSide(side: number): number {
  return side + Math.max(2, Math.ceil(side / 4));
}

/** A number for a cell, independent of the grid's side (which grows). */
export function cellKey(row: number, col: number): number {
  return row * keySpace + col;
}

/** The cells a ship of `length` covers from `placement`, bow first. */
export function cellsOf(placement: Placement, length: number): Coordinate[] {
  const cells: Coordinate[] = [];
  for (let index = 0; index < length; index += 1) cells.push(cellAt(placement, index));
  return cells;
}

/** The `index`th cell of a ship placed at `placement`. */
export function cellAt(placement: Placement, index: number): Coordinate {
  return placement.orientation === "across"
    ? { row: placement.row, col: placement.col + index }
    : { row: placement.row + index, col: placement.col };
}

/** Which ship holds each cell: the one thing placement needs to know about the grid. */
export interface Occupancy {
  /** The key of the ship at the cell, if any. */
  at(row: number, col: number): string | undefined;
}

/**
 * A place for `shipKey`'s `length` cells on a `side` grid, with a cell of water between it and every
 * other ship (as in the paper game), or undefined when none is left. The search starts at a cell and an
 * orientation drawn from `seed` and walks the grid from there in reading order, wrapping around.
 */
export function findPlacement(
  seed: string,
  shipKey: string,
  length: number,
  side: number,
  occupancy: Occupancy,
): Placement | undefined {
  if (length < 1 || length > side) return undefined;
  const hash = hashOf(seed);
  const cells = side * side;
  const start = hash % cells;
  const orientations: readonly Orientation[] = (hash & 1) === 0 ? ["across", "down"] : ["down", "across"];
  for (let step = 0; step < cells; step += 1) {
    const position = (start + step) % cells;
    for (const orientation of orientations) {
      const placement = { row: Math.floor(position / side), col: position % side, orientation };
      if (fits(placement, shipKey, length, side, occupancy)) return placement;
    }
  }
  return undefined;
}

/** Whether every cell of the ship is on the grid and it and its eight neighbours hold no other ship. */
export function fits(
  placement: Placement,
  shipKey: string,
  length: number,
  side: number,
  occupancy: Occupancy,
): boolean {
  // The stern first: most places a long ship is tried at run off the grid.
  const stern = cellAt(placement, length - 1);
  if (stern.row >= side || stern.col >= side) return false;
  for (let index = 0; index < length; index += 1) {
    if (!clearAround(cellAt(placement, index), shipKey, side, occupancy)) return false;
  }
  return true;
}

function clearAround(cell: Coordinate, shipKey: string, side: number, occupancy: Occupancy): boolean {
  for (let row = cell.row - 1; row <= cell.row + 1; row += 1) {
    for (let col = cell.col - 1; col <= cell.col + 1; col += 1) {
      if (row < 0 || col < 0 || row >= side || col >= side) continue;
      const holder = occupancy.at(row, col);
      if (holder !== undefined && holder !== shipKey) return false;
    }
  }
  return true;
}

import type { Coordinate } from "./layout.js";

/**
 * One cell of a ship, as the sea keeps it and as the client sees it. A cell holds at most two pods at
 * once: the pod it shows and, while that pod terminates, the replacement the controller built for it.
 */

/** What the client draws for a cell. */
export type CellState =
  /** The cell's pod is Ready and no kill is open. */
  | "intact"
  /** Hit: its pod is terminating, and no replacement is Ready yet. */
  | "burning"
  /** Empty, or its pod (a replacement, or a new pod) is not Ready yet. */
  | "rebuilding"
  /** Ready again after a kill; repairedMs says how long it took. */
  | "repaired";

/** A pod as the client sees it. */
export interface PodView {
  readonly name: string;
  readonly uid: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly deleting: boolean;
}

export interface CellView extends Coordinate {
  /** Position in the ship, bow = 0. */
  readonly index: number;
  readonly state: CellState;
  /** The pod the cell shows; undefined for an empty slot waiting for a replacement. */
  readonly pod?: PodView;
  /** The pod built to replace a terminating one, before it takes the cell. */
  readonly replacement?: PodView;
  /** When the open or last kill of this cell began (epoch ms, from the watch event). */
  readonly killedAt?: number;
  /** Kill to Ready, in ms, once the cell is repaired. */
  readonly repairedMs?: number;
}

export interface PodRecord extends PodView {
  readonly createdAt: number;
  /** When the sea saw it become Ready (epoch ms); undefined while it is not Ready. */
  readonly readyAt: number | undefined;
}

export interface Slot {
  pod: PodRecord | undefined;
  replacement: PodRecord | undefined;
  killedAt: number | undefined;
  repairedMs: number | undefined;
  /** The pods killed in the open kill, each with its time: each is reported repaired with the cell. */
  openKills: { readonly uid: string; readonly at: number }[];
}

export function placeholderSlot(): Slot {
  return {
    pod: undefined,
    replacement: undefined,
    killedAt: undefined,
    repairedMs: undefined,
    openKills: [],
  };
}

export function stateOf(slot: Slot): CellState {
  const dying = slot.pod?.deleting === true;
  const healer = dying ? slot.replacement : slot.pod;
  if (dying && healer?.ready !== true) return "burning";
  if (healer?.ready !== true) return "rebuilding";
  return slot.repairedMs === undefined ? "intact" : "repaired";
}

export function slotCell(slot: Slot, index: number, at: Coordinate): CellView {
  return {
    row: at.row,
    col: at.col,
    index,
    state: stateOf(slot),
    ...(slot.pod === undefined ? {} : { pod: podView(slot.pod) }),
    ...(slot.replacement === undefined ? {} : { replacement: podView(slot.replacement) }),
    ...(slot.killedAt === undefined ? {} : { killedAt: slot.killedAt }),
    ...(slot.repairedMs === undefined ? {} : { repairedMs: slot.repairedMs }),
  };
}

export function podView(record: PodRecord): PodView {
  return {
    name: record.name,
    uid: record.uid,
    phase: record.phase,
    ready: record.ready,
    deleting: record.deleting,
  };
}

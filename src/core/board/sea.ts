import type { Clock } from "../clock.js";
import {
  cellAt,
  cellKey,
  cellsOf,
  findPlacement,
  fits,
  grownSide,
  sideFor,
  type Coordinate,
  type Occupancy,
  type Placement,
} from "./layout.js";
import {
  placeholderSlot,
  podView,
  slotCell,
  stateOf,
  type PodRecord,
  type PodView,
  type Slot,
} from "./slots.js";
export type { CellState, CellView, PodView } from "./slots.js";
import type { CellView, CellState } from "./slots.js";

/**
 * The sea: one grid per opted-in namespace, each workload a ship as long as its desired replicas, each
 * cell of a ship a pod. The state is kept and updated from watch events (workloads and pods added,
 * modified, deleted) rather than recomputed, because the board must never jump: a ship keeps its cells
 * while its pods are replaced and other ships come and go, and a replacement pod takes the cell of the
 * pod it replaces. Only a ship that grows and finds no room at its tail moves (ADR 0019).
 */

export type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet";

export interface WorkloadRef {
  readonly kind: WorkloadKind;
  readonly name: string;
}

export interface WorkloadFacts extends WorkloadRef {
  /** Desired replicas (a DaemonSet's desiredNumberScheduled): the ship's length. */
  readonly replicas: number;
}

/** What the sea needs of a pod, trimmed from the watch object by the adapter. */
export interface PodFacts {
  readonly name: string;
  readonly uid: string;
  /** The workload that owns it (through its ReplicaSet for a Deployment). */
  readonly workload: WorkloadRef;
  readonly phase: string;
  /** The pod's Ready condition is True. */
  readonly ready: boolean;
  /** It has a deletionTimestamp: it is terminating. */
  readonly deleting: boolean;
  /** creationTimestamp, epoch ms. */
  readonly createdAt: number;
}

/** One namespace as listed: the starting point of its grid, or a relist to reconcile with. */
export interface NamespaceFacts {
  readonly namespace: string;
  readonly workloads: readonly WorkloadFacts[];
  readonly pods: readonly PodFacts[];
}

export interface ShipView extends WorkloadRef {
  /** `Kind/name`, unique within the namespace. */
  readonly key: string;
  readonly length: number;
  readonly placement: Placement;
  readonly cells: readonly CellView[];
  /** Pods of the workload that hold no cell: surge pods of a rollout, pods of a scale-down on their way out. */
  readonly overflow: readonly PodView[];
}

export interface GridView {
  readonly namespace: string;
  /** The grid is square: rows = cols = side. */
  readonly side: number;
  readonly ships: readonly ShipView[];
}

/** Where a shot at (namespace, row, col) lands. */
export type ShotTarget =
  | { readonly kind: "unknown-namespace"; readonly namespace: string }
  | { readonly kind: "off-grid"; readonly namespace: string; readonly side: number }
  | { readonly kind: "water"; readonly namespace: string; readonly row: number; readonly col: number }
  | {
      readonly kind: "ship";
      readonly namespace: string;
      readonly ship: WorkloadRef & { readonly key: string };
      readonly cell: CellView;
      /** The pod a shot would hit: the cell's pod when it is alive and not terminating already. */
      readonly target: PodView | undefined;
    };

/** What happened on the sea that others act on: the ticker, the scoreboard, the ship caps (limits.ts). */
export type SeaEvent =
  | {
      readonly type: "kill";
      readonly namespace: string;
      readonly ship: string;
      readonly podUid: string;
      readonly podName: string;
      /** Epoch ms of the event that showed it. */
      readonly at: number;
    }
  | {
      readonly type: "repaired";
      readonly namespace: string;
      readonly ship: string;
      /** The pod that was killed (not its replacement): the uid a shot was admitted for. */
      readonly podUid: string;
      readonly killedAt: number;
      readonly repairedMs: number;
      readonly at: number;
    };

/** A sea event as a ship raises it; the sea adds where. Distributes over the union, keeping each type. */
type ShipEvent = WithoutPlace<SeaEvent>;
type WithoutPlace<Event> = Event extends SeaEvent ? Omit<Event, "namespace" | "ship"> : never;

interface Ship {
  readonly ref: WorkloadRef;
  readonly emit: (event: ShipEvent) => void;
  readonly key: string;
  /** Undefined while the ship has no cells (0 replicas). */
  placement: Placement | undefined;
  slots: Slot[];
  overflow: PodRecord[];
}

interface Grid {
  readonly namespace: string;
  side: number;
  readonly ships: Map<string, Ship>;
  /** Which ship holds a cell (cellKey). */
  readonly cells: Map<number, string>;
  /** Which ship each known pod belongs to. */
  readonly podShip: Map<string, string>;
  /** Pods whose workload is not known yet (the pod's event came first), by ship key. */
  readonly strays: Map<string, Map<string, PodRecord>>;
}

export function shipKeyOf(ref: WorkloadRef): string {
  return `${ref.kind}/${ref.name}`;
}

/** A ship's key across the game's namespaces, as the ship caps (limits.ts) count it. */
export function gameShipKey(namespace: string, ship: string): string {
  return `${namespace}/${ship}`;
}

export class SeaState {
  private readonly grids = new Map<string, Grid>();

  /**
   * `onGridChange` hears of every change to a namespace's grid that no SeaEvent tells: the grid grew, a
   * ship came, went, grew, shrank or moved, or a cell with no kill on it got a pod or changed state (the
   * new cells of a grown ship). Kills and repairs are SeaEvents; laying out a new namespace is neither.
   */
  constructor(
    private readonly clock: Pick<Clock, "now">,
    private readonly onEvent: (event: SeaEvent) => void = () => undefined,
    private readonly onGridChange: (namespace: string) => void = () => undefined,
  ) {}

  /** The namespaces on the board, sorted. */
  namespaces(): string[] {
    return [...this.grids.keys()].sort();
  }

  /**
   * A namespace as listed. A new one is laid out from scratch, ships longest first (then by key), so the
   * same fleet gives the same grid whatever order the lists came in. One already on the board is
   * reconciled with the list as a series of events, so a relist after a broken watch moves nothing.
   */
  syncNamespace(facts: NamespaceFacts, at = this.clock.now()): void {
    const known = this.grids.get(facts.namespace);
    if (known === undefined) {
      this.layOut(facts, at);
      return;
    }
    const listed = new Set(facts.workloads.map(shipKeyOf));
    for (const key of [...known.ships.keys()]) {
      if (!listed.has(key) && this.dropShip(known, key)) this.onGridChange(facts.namespace);
    }
    for (const workload of facts.workloads) this.upsertWorkload(facts.namespace, workload, at);
    this.forgetUnlisted(known, new Set(facts.pods.map((pod) => pod.uid)), at);
    for (const pod of facts.pods) this.upsertPod(facts.namespace, pod, at);
  }

  /** Pods a relist no longer has are gone: their deletions were missed while the watch was down. */
  private forgetUnlisted(grid: Grid, listed: ReadonlySet<string>, at: number): void {
    for (const uid of [...grid.podShip.keys()]) if (!listed.has(uid)) this.deletePod(grid.namespace, uid, at);
    for (const strays of grid.strays.values()) {
      for (const uid of [...strays.keys()]) if (!listed.has(uid)) strays.delete(uid);
    }
  }

  /** The namespace leaves the board (it was opted out, or the game no longer includes it). */
  removeNamespace(namespace: string): void {
    this.grids.delete(namespace);
  }

  /*
   * Events of a namespace not on the board (never synced, or removed) are ignored: only syncNamespace
   * puts a namespace on the board, so a late event cannot bring back one the game left.
   */

  /** A workload was added or changed; a new length grows or shrinks its ship at the stern. */
  upsertWorkload(namespace: string, workload: WorkloadFacts, at = this.clock.now()): void {
    const grid = this.grids.get(namespace);
    if (grid === undefined) return;
    if (this.applyWorkload(grid, workload, at)) this.onGridChange(namespace);
  }

  /** The workload's ship made as long as its replicas; true when the grid's layout changed. */
  private applyWorkload(grid: Grid, workload: WorkloadFacts, at: number): boolean {
    const key = shipKeyOf(workload);
    const ship = grid.ships.get(key) ?? this.newShip(grid, workload);
    const resized = this.resize(grid, ship, Math.max(0, workload.replicas));
    this.adoptStrays(grid, ship, at);
    return resized;
  }

  /** A workload was deleted: its ship and its pods leave the grid, and its cells become water. */
  removeWorkload(namespace: string, workload: WorkloadRef): void {
    const grid = this.grids.get(namespace);
    if (grid !== undefined && this.dropShip(grid, shipKeyOf(workload))) this.onGridChange(namespace);
  }

  /** A pod was added or modified. */
  upsertPod(namespace: string, pod: PodFacts, at = this.clock.now()): void {
    const grid = this.grids.get(namespace);
    if (grid === undefined) return;
    const key = shipKeyOf(pod.workload);
    const ship = grid.ships.get(key);
    if (ship === undefined) {
      const strays = grid.strays.get(key) ?? new Map<string, PodRecord>();
      strays.set(pod.uid, recordOf(pod, strays.get(pod.uid), at));
      grid.strays.set(key, strays);
      return;
    }
    grid.podShip.set(pod.uid, key);
    const before = quietCells(ship);
    updatePod(ship, pod, at);
    if (quietCellChanged(before, quietCells(ship))) this.onGridChange(namespace);
  }

  /** A pod is gone from the API. Its cell passes to its replacement, or stays empty until one comes. */
  deletePod(namespace: string, uid: string, at = this.clock.now()): void {
    const grid = this.grids.get(namespace);
    if (grid === undefined) return;
    for (const strays of grid.strays.values()) strays.delete(uid);
    const ship = grid.ships.get(grid.podShip.get(uid) ?? "");
    grid.podShip.delete(uid);
    if (ship !== undefined) removePod(ship, uid, at);
  }

  grid(namespace: string): GridView | undefined {
    const grid = this.grids.get(namespace);
    if (grid === undefined) return undefined;
    const ships = [...grid.ships.values()].filter((ship) => ship.placement !== undefined);
    return {
      namespace,
      side: grid.side,
      ships: ships.sort((a, b) => compareText(a.key, b.key)).map(shipView),
    };
  }

  /** What a shot at (namespace, row, col) would hit. */
  resolveShot(namespace: string, row: number, col: number): ShotTarget {
    const grid = this.grids.get(namespace);
    if (grid === undefined) return { kind: "unknown-namespace", namespace };
    if (!onGrid(row, col, grid.side)) return { kind: "off-grid", namespace, side: grid.side };
    const ship = grid.ships.get(grid.cells.get(cellKey(row, col)) ?? "");
    if (ship?.placement === undefined) return { kind: "water", namespace, row, col };
    return shipHit(namespace, ship, ship.placement, { row, col });
  }

  /** The uids of the ship's pods that are Ready and not terminating: what its cap is counted from. */
  readyPodUids(namespace: string, workload: WorkloadRef): string[] {
    const ship = this.grids.get(namespace)?.ships.get(shipKeyOf(workload));
    if (ship === undefined) return [];
    const pods = [...ship.slots.flatMap((slot) => [slot.pod, slot.replacement]), ...ship.overflow];
    return pods.flatMap((pod) => (pod !== undefined && pod.ready && !pod.deleting ? [pod.uid] : []));
  }

  /** Each cell's state, counted per namespace: what a summary line or a test needs at a glance. */
  census(namespace: string): Record<CellState, number> {
    const counts: Record<CellState, number> = { intact: 0, burning: 0, rebuilding: 0, repaired: 0 };
    for (const ship of this.grid(namespace)?.ships ?? []) {
      for (const cell of ship.cells) counts[cell.state] += 1;
    }
    return counts;
  }

  private layOut(facts: NamespaceFacts, at: number): void {
    const lengths = facts.workloads.flatMap((workload) => (workload.replicas > 0 ? [workload.replicas] : []));
    this.grids.set(facts.namespace, emptyGrid(facts.namespace, sideFor(lengths)));
    const ordered = [...facts.workloads].sort(
      (a, b) => b.replicas - a.replicas || compareText(shipKeyOf(a), shipKeyOf(b)),
    );
    // Pods oldest first, so the first pods of a ship fill its bow whatever order the list had.
    const pods = [...facts.pods].sort((a, b) => a.createdAt - b.createdAt || compareText(a.name, b.name));
    const grid = this.grids.get(facts.namespace);
    if (grid === undefined) return;
    // Strays first (no ship yet), so nothing is announced while the namespace is laid out.
    for (const pod of pods) this.upsertPod(facts.namespace, pod, at);
    for (const workload of ordered) this.applyWorkload(grid, workload, at);
  }

  private newShip(grid: Grid, workload: WorkloadRef): Ship {
    const key = shipKeyOf(workload);
    const ship: Ship = {
      ref: { kind: workload.kind, name: workload.name },
      emit: (event) => {
        this.onEvent({ ...event, namespace: grid.namespace, ship: key });
      },
      key,
      placement: undefined,
      slots: [],
      overflow: [],
    };
    grid.ships.set(ship.key, ship);
    return ship;
  }

  /** True when the ship's length changed (so did the grid's layout). */
  private resize(grid: Grid, ship: Ship, length: number): boolean {
    if (length === ship.slots.length) return false;
    if (length < ship.slots.length) {
      shrink(grid, ship, length);
      return true;
    }
    const stays =
      ship.placement !== undefined && fits(ship.placement, ship.key, length, grid.side, occupancy(grid));
    const placement = stays ? ship.placement : placeShip(grid, ship.key, length, grid.namespace);
    unmark(grid, ship);
    ship.placement = placement;
    while (ship.slots.length < length) ship.slots.push(placeholderSlot());
    mark(grid, ship);
    fillFromOverflow(ship);
    return true;
  }

  private adoptStrays(grid: Grid, ship: Ship, at: number): void {
    const strays = grid.strays.get(ship.key);
    if (strays === undefined) return;
    grid.strays.delete(ship.key);
    for (const record of strays.values()) {
      grid.podShip.set(record.uid, ship.key);
      updatePod(ship, record, at);
    }
  }

  /** True when the ship was on the grid (its cells became water). */
  private dropShip(grid: Grid, key: string): boolean {
    const ship = grid.ships.get(key);
    if (ship === undefined) return false;
    unmark(grid, ship);
    grid.ships.delete(key);
    for (const [uid, owner] of grid.podShip) if (owner === key) grid.podShip.delete(uid);
    return ship.placement !== undefined;
  }
}

/**
 * The cells of a ship no kill is open or was ever measured on, as their pod and state: what changes there
 * (a grown ship's new cell gets its pod, the pod comes Ready) no SeaEvent reports.
 */
function quietCells(ship: Ship): (string | undefined)[] {
  return ship.slots.map((slot) =>
    slot.killedAt === undefined ? `${slot.pod?.uid ?? ""}:${stateOf(slot)}` : undefined,
  );
}

/** A quiet cell changed; a cell that a kill has just reached is the kill's SeaEvent to tell. */
function quietCellChanged(before: readonly (string | undefined)[], after: readonly (string | undefined)[]) {
  return after.some((cell, index) => cell !== undefined && cell !== before[index]);
}

function emptyGrid(namespace: string, side: number): Grid {
  return { namespace, side, ships: new Map(), cells: new Map(), podShip: new Map(), strays: new Map() };
}

function occupancy(grid: Grid): Occupancy {
  return { at: (row, col) => grid.cells.get(cellKey(row, col)) };
}

/** A place for a new or grown ship, growing the grid at its right and bottom edges until one is free. */
function placeShip(grid: Grid, key: string, length: number, namespace: string): Placement {
  for (;;) {
    const placement = findPlacement(`${namespace}/${key}`, key, length, grid.side, occupancy(grid));
    if (placement !== undefined) return placement;
    grid.side = grownSide(Math.max(grid.side, length - 1));
  }
}

function mark(grid: Grid, ship: Ship): void {
  if (ship.placement === undefined) return;
  for (const cell of cellsOf(ship.placement, ship.slots.length))
    grid.cells.set(cellKey(cell.row, cell.col), ship.key);
}

function unmark(grid: Grid, ship: Ship): void {
  if (ship.placement === undefined) return;
  for (const cell of cellsOf(ship.placement, ship.slots.length))
    grid.cells.delete(cellKey(cell.row, cell.col));
}

/** Cells at the stern go; their pods wait in the overflow (the controller is about to delete some pods). */
function shrink(grid: Grid, ship: Ship, length: number): void {
  unmark(grid, ship);
  const dropped = ship.slots.splice(length);
  for (const slot of dropped) {
    if (slot.pod !== undefined) ship.overflow.push(slot.pod);
    if (slot.replacement !== undefined) ship.overflow.push(slot.replacement);
  }
  if (length === 0) ship.placement = undefined;
  mark(grid, ship);
  fillFromOverflow(ship);
}

function recordOf(pod: PodFacts | PodRecord, previous: PodRecord | undefined, at: number): PodRecord {
  const becameReady = pod.ready && previous?.ready !== true;
  return {
    name: pod.name,
    uid: pod.uid,
    phase: pod.phase,
    ready: pod.ready,
    deleting: pod.deleting || previous?.deleting === true,
    createdAt: pod.createdAt,
    readyAt: becameReady ? at : pod.ready ? previous?.readyAt : undefined,
  };
}

/** Applies a pod's new facts where it sits, or gives a new pod its cell. */
function updatePod(ship: Ship, pod: PodFacts | PodRecord, at: number): void {
  const index = ship.slots.findIndex(
    (slot) => slot.pod?.uid === pod.uid || slot.replacement?.uid === pod.uid,
  );
  const slot = ship.slots[index];
  if (slot === undefined) {
    const waiting = ship.overflow.find((record) => record.uid === pod.uid);
    ship.overflow = ship.overflow.filter((record) => record.uid !== pod.uid);
    placeNewPod(ship, recordOf(pod, waiting, at));
    return;
  }
  if (slot.pod?.uid === pod.uid) updateHolder(ship, slot, recordOf(pod, slot.pod, at), at);
  else updateReplacement(ship, slot, recordOf(pod, slot.replacement, at));
  settle(ship, slot);
}

function updateHolder(ship: Ship, slot: Slot, record: PodRecord, at: number): void {
  const startsDying = record.deleting && slot.pod?.deleting !== true;
  slot.pod = record;
  if (!startsDying) return;
  // A kill opens here: the deletion is the event the board measures from.
  openKill(ship, slot, record, at);
  if (slot.replacement === undefined) slot.replacement = takeOverflow(ship);
}

function updateReplacement(ship: Ship, slot: Slot, record: PodRecord): void {
  if (!record.deleting) {
    slot.replacement = record;
    return;
  }
  // The replacement itself is going away before it took over: it waits with the overflow.
  ship.overflow.push(record);
  slot.replacement = takeOverflow(ship);
}

/**
 * A pod the ship has not seen: it takes the cell that has waited longest for one (a terminating pod with
 * no replacement yet, or an empty slot), or waits in the overflow when every cell is held.
 */
function placeNewPod(ship: Ship, record: PodRecord): void {
  const slot = record.deleting ? undefined : slotWanting(ship);
  if (slot === undefined) {
    ship.overflow.push(record);
    return;
  }
  // An open kill stays open: it closes when this pod is Ready (settle).
  if (slot.pod === undefined) slot.pod = record;
  else slot.replacement = record;
  settle(ship, slot);
}

/** The slot that has waited longest for a pod, or undefined when every cell is held. */
function slotWanting(ship: Ship): Slot | undefined {
  let best: Slot | undefined;
  for (const slot of ship.slots) {
    if (!wantsPod(slot)) continue;
    if (best === undefined || waitingSince(slot) < waitingSince(best)) best = slot;
  }
  return best;
}

function wantsPod(slot: Slot): boolean {
  return slot.pod === undefined || (slot.pod.deleting && slot.replacement === undefined);
}

function waitingSince(slot: Slot): number {
  // A cell emptied by a kill waits since the kill; a new cell (the ship grew) waits behind every kill.
  return slot.killedAt ?? Number.POSITIVE_INFINITY;
}

/** The oldest pod of the overflow that is alive, taken out of it. */
function takeOverflow(ship: Ship): PodRecord | undefined {
  const alive = ship.overflow.filter((record) => !record.deleting);
  alive.sort((a, b) => a.createdAt - b.createdAt || compareText(a.name, b.name));
  const chosen = alive[0];
  if (chosen !== undefined) ship.overflow = ship.overflow.filter((record) => record !== chosen);
  return chosen;
}

function fillFromOverflow(ship: Ship): void {
  for (;;) {
    const slot = slotWanting(ship);
    const record = slot === undefined ? undefined : takeOverflow(ship);
    if (slot === undefined || record === undefined) return;
    if (slot.pod === undefined) slot.pod = record;
    else slot.replacement = record;
    settle(ship, slot);
  }
}

function removePod(ship: Ship, uid: string, at: number): void {
  ship.overflow = ship.overflow.filter((record) => record.uid !== uid);
  for (const slot of ship.slots) {
    if (slot.replacement?.uid === uid) {
      slot.replacement = takeOverflow(ship);
    } else if (slot.pod?.uid === uid) {
      vacate(ship, slot, at);
    } else continue;
    settle(ship, slot);
    return;
  }
}

/** The cell's pod is gone: its replacement moves in, or the cell waits empty, the kill still open. */
function vacate(ship: Ship, slot: Slot, at: number): void {
  // Gone without a terminating phase first (grace period 0): the kill opens now.
  if (slot.pod !== undefined && !slot.pod.deleting) openKill(ship, slot, slot.pod, at);
  slot.pod = slot.replacement ?? takeOverflow(ship);
  slot.replacement = undefined;
}

/** Closes an open kill once the pod that heals the cell is Ready: repaired, in ms from the kill. */
function settle(ship: Ship, slot: Slot): void {
  const healer = slot.pod?.deleting === true ? slot.replacement : slot.pod;
  if (slot.killedAt === undefined || slot.repairedMs !== undefined) return;
  const readyAt = healer?.ready === true ? healer.readyAt : undefined;
  if (readyAt === undefined) return;
  slot.repairedMs = Math.max(0, readyAt - slot.killedAt);
  for (const kill of slot.openKills.splice(0)) {
    ship.emit({
      type: "repaired",
      podUid: kill.uid,
      killedAt: kill.at,
      repairedMs: Math.max(0, readyAt - kill.at),
      at: readyAt,
    });
  }
}

/**
 * A kill opens on the cell: its pod started terminating, or vanished. A second kill before the cell is
 * repaired (its replacement hit too) joins the open one: the cell is repaired once, from the first kill.
 */
function openKill(ship: Ship, slot: Slot, pod: PodRecord, at: number): void {
  const alreadyOpen = slot.killedAt !== undefined && slot.repairedMs === undefined;
  if (!alreadyOpen) {
    slot.killedAt = at;
    slot.repairedMs = undefined;
  }
  slot.openKills.push({ uid: pod.uid, at });
  ship.emit({ type: "kill", podUid: pod.uid, podName: pod.name, at });
}

function shipView(ship: Ship): ShipView {
  const placement = ship.placement ?? { row: 0, col: 0, orientation: "across" };
  return {
    ...ship.ref,
    key: ship.key,
    length: ship.slots.length,
    placement,
    cells: ship.slots.map((slot, index) => slotCell(slot, index, cellAt(placement, index))),
    overflow: ship.overflow.map(podView),
  };
}

function shipHit(namespace: string, ship: Ship, placement: Placement, at: Coordinate): ShotTarget {
  const index = placement.orientation === "across" ? at.col - placement.col : at.row - placement.row;
  const cell = slotCell(ship.slots[index] ?? placeholderSlot(), index, cellAt(placement, index));
  const pod = cell.pod;
  const target = pod !== undefined && !pod.deleting ? pod : undefined;
  return { kind: "ship", namespace, ship: { ...ship.ref, key: ship.key }, cell, target };
}

function onGrid(row: number, col: number, side: number): boolean {
  return Number.isInteger(row) && Number.isInteger(col) && row >= 0 && col >= 0 && row < side && col < side;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

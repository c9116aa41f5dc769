import { noDuel } from "../../core/board/duel-view.js";
import { columnName } from "./cells.js";
import type {
  BoardState,
  CellState,
  DuelView,
  CellView,
  GameSummary,
  GridView,
  PublicDrift,
  PublicShot,
  Scoreboard,
  SeaEvent,
  StreamMessage,
} from "./protocol.js";

/**
 * The spectators' view, kept from the board's stream: the grids, the scoreboard and a ticker of what
 * happened, in the spirit of `kubectl get pods --watch`. A pure reducer, so the unit tier checks every
 * event against the cells it changes.
 *
 * The stream sends the whole board once (`state`), then events: a shot, a kill or a repair on the sea, a
 * new scoreboard, a game opened or closed. Shots, kills and repairs change the cell they name at once, so
 * a hit is on screen as soon as its event arrives; the cells' finer states (a replacement being built)
 * come from GET /api/board, which the client asks for again whenever `needsSync` says so, at most a few
 * times a second. A hit whose kill has not been seen yet survives such a resync, so a cell never flickers
 * back to intact between the DELETE and its watch event.
 */

export interface TickerLine {
  /** Increasing, for list keys. */
  readonly id: number;
  /** Epoch ms of the event. */
  readonly at: number;
  readonly namespace: string;
  /** The pod, or the ship and cell, the line is about. */
  readonly name: string;
  /**
   * As kubectl prints a pod's status: Hit, Miss, Deflected, Shielded (a mine a PodDisruptionBudget held
   * off), Terminating, Repaired, Drifted, Restored.
   */
  readonly status: string;
  readonly detail: string;
}

export interface ViewState {
  readonly game: GameSummary | null;
  readonly grids: readonly GridView[];
  readonly scoreboard: Scoreboard | null;
  /** The duel running on the cluster, whole as the board last sent it; `noDuel` when none runs. */
  readonly duel: DuelView;
  /** Newest first, at most `tickerLength`. */
  readonly ticker: readonly TickerLine[];
  /** What the ARIA live region says next: hits and repairs, in words. */
  readonly announcement: string;
  /** Hits whose kill the sea has not reported yet, by `namespace/pod`. */
  readonly pendingHits: ReadonlyMap<string, PublicShot>;
  /**
   * Where each killed pod's cell is, by the pod's uid: a repair names the killed pod, and by then the
   * cell may show its replacement.
   */
  readonly killedCells: ReadonlyMap<string, CellPlace>;
  /** Bumped whenever GET /api/board should be read again (a game opened or closed, a kill, a repair). */
  readonly needsSync: number;
  readonly nextId: number;
}

export interface CellPlace {
  readonly namespace: string;
  readonly row: number;
  readonly col: number;
}

export const tickerLength = 50;
/** Kills remembered for their repair; a kill never repaired is forgotten after this many newer ones. */
const killedCellsKept = 5_000;

export const emptyView: ViewState = {
  game: null,
  grids: [],
  scoreboard: null,
  duel: noDuel,
  ticker: [],
  announcement: "",
  pendingHits: new Map(),
  killedCells: new Map(),
  needsSync: 0,
  nextId: 1,
};

export function reduce(view: ViewState, message: StreamMessage): ViewState {
  switch (message.type) {
    case "state":
      return applyState(view, message.state);
    case "shot":
      return applyShot(view, message.shot);
    case "sea":
      return applySea(view, message.event);
    case "scoreboard":
      return { ...view, scoreboard: message.scoreboard };
    case "duel":
      return { ...view, duel: message.duel };
    case "drift":
      return applyDrift(view, message.drift);
    case "grid":
      // One namespace's grid whole, when its shape changed (a ship came, grew, moved): it replaces the old.
      return { ...view, grids: withGrid(view.grids, message.grid) };
    case "game":
      return {
        ...view,
        needsSync: view.needsSync + 1,
        ...(message.state === "opened" ? {} : { game: null, grids: [], pendingHits: new Map() }),
        announcement: `The game was ${message.state}.`,
      };
  }
}

/** `grid` in its namespace's place (the game's order), or at the end for a namespace not shown yet. */
function withGrid(grids: readonly GridView[], grid: GridView): GridView[] {
  const known = grids.some((each) => each.namespace === grid.namespace);
  if (!known) return [...grids, grid];
  return grids.map((each) => (each.namespace === grid.namespace ? grid : each));
}

/** The whole board, as read: hits not yet seen as kills are laid back on top. */
function applyState(view: ViewState, state: BoardState): ViewState {
  let grids = state.grids;
  const pendingHits = new Map<string, PublicShot>();
  for (const [key, shot] of view.pendingHits) {
    const cell = cellAt(grids, shot.namespace, shot.row, shot.col);
    if (cell === undefined || cell.pod?.name !== shot.pod || cell.state !== "intact") continue;
    pendingHits.set(key, shot);
    grids = updateCell(grids, shot.namespace, shot.row, shot.col, (found) => burning(found, shot.at));
  }
  const killedCells = new Map(view.killedCells);
  for (const [uid, place] of killedPods(state.grids)) killedCells.set(uid, place);
  return {
    ...view,
    game: state.game,
    grids,
    scoreboard: state.scoreboard,
    // A board older than the duel view sends none.
    duel: (state as Partial<BoardState>).duel ?? noDuel,
    pendingHits,
    killedCells: bounded(killedCells),
  };
}

/** The pods the grids show terminating, each with its cell. */
function killedPods(grids: readonly GridView[]): [string, CellPlace][] {
  return grids.flatMap((grid) =>
    grid.ships.flatMap((ship) =>
      ship.cells.flatMap((cell) =>
        cell.pod?.deleting === true
          ? [
              [cell.pod.uid, { namespace: grid.namespace, row: cell.row, col: cell.col }] as [
                string,
                CellPlace,
              ],
            ]
          : [],
      ),
    ),
  );
}

function bounded(places: Map<string, CellPlace>): Map<string, CellPlace> {
  const excess = places.size - killedCellsKept;
  if (excess <= 0) return places;
  return new Map([...places].slice(excess));
}

/** A shot's status in the ticker, as kubectl would print it. */
function shotStatus(shot: PublicShot): string {
  if (shot.shield !== undefined) return "Shielded";
  return shot.result === "hit" ? "Hit" : shot.result === "miss" ? "Miss" : "Deflected";
}

/** "the shield of PDB web-min" (or of several: "PDBs a, b") for the ticker and the live region. */
export function shieldName(shield: readonly string[]): string {
  return `${shield.length === 1 ? "PDB" : "PDBs"} ${shield.join(", ")}`;
}

function applyShot(view: ViewState, shot: PublicShot): ViewState {
  const where = `${columnName(shot.col)}${shot.row + 1}`;
  const name = shot.pod ?? shot.object ?? where;
  const line = {
    at: shot.at,
    namespace: shot.namespace,
    name,
    status: shotStatus(shot),
    detail:
      shot.shield === undefined
        ? `${shot.nickname}, ${shot.weapon}`
        : `${shot.nickname}, ${shot.weapon}: the shield of ${shieldName(shot.shield)} held`,
  };
  const ticked = tick(view, line);
  if (shot.shield !== undefined) {
    return {
      ...ticked,
      announcement: `The shield of ${shieldName(shot.shield)} held against ${shot.nickname}'s ${shot.weapon} at ${name} in ${shot.namespace}.`,
    };
  }
  if (shot.result !== "hit" || shot.pod === undefined) return ticked;
  const pendingHits = new Map(view.pendingHits).set(`${shot.namespace}/${shot.pod}`, shot);
  return {
    ...ticked,
    pendingHits,
    grids: updateCell(view.grids, shot.namespace, shot.row, shot.col, (cell) => burning(cell, shot.at)),
    announcement: `${shot.nickname} hit ${shot.pod} in ${shot.namespace}, row ${shot.row + 1}, column ${shot.col + 1}.`,
  };
}

function applySea(view: ViewState, event: SeaEvent): ViewState {
  const synced = { ...view, needsSync: view.needsSync + 1 };
  if (event.type === "kill") {
    const pendingHits = new Map(view.pendingHits);
    pendingHits.delete(`${event.namespace}/${event.podName}`);
    const grids = updateCellOfPod(view.grids, event.namespace, event.podUid, (cell) =>
      cell.state === "intact" || cell.state === "repaired" ? burning(cell, event.at) : cell,
    );
    const killedCells = new Map(view.killedCells);
    const place = placeOfPod(view.grids, event.namespace, event.podUid);
    if (place !== undefined) killedCells.set(event.podUid, place);
    const line = {
      at: event.at,
      namespace: event.namespace,
      name: event.podName,
      status: "Terminating",
      detail: event.ship,
    };
    return { ...tick(synced, line), grids, pendingHits, killedCells: bounded(killedCells) };
  }
  const repaired = (cell: CellView): CellView => ({
    ...cell,
    state: "repaired",
    killedAt: event.killedAt,
    repairedMs: event.repairedMs,
  });
  const place = view.killedCells.get(event.podUid);
  const grids =
    place === undefined
      ? updateCellOfPod(view.grids, event.namespace, event.podUid, repaired)
      : updateCell(view.grids, place.namespace, place.row, place.col, repaired);
  const killedCells = new Map(view.killedCells);
  killedCells.delete(event.podUid);
  const line = {
    at: event.at,
    namespace: event.namespace,
    name: event.ship,
    status: "Repaired",
    detail: `in ${event.repairedMs} ms`,
  };
  return {
    ...tick(synced, line),
    grids,
    killedCells,
    announcement: `${event.ship} in ${event.namespace} repaired in ${event.repairedMs} ms.`,
  };
}

/** A fog or an anchor drifted an object, or it was restored: who put it back, and after how long. */
function applyDrift(view: ViewState, drift: PublicDrift): ViewState {
  if (drift.state === "drifted") {
    const line = {
      at: drift.at,
      namespace: drift.namespace,
      name: drift.object,
      status: "Drifted",
      detail: `${drift.nickname}, ${drift.weapon} on ${drift.ship}`,
    };
    return {
      ...tick(view, line),
      announcement: `${drift.nickname}'s ${drift.weapon} drifted ${drift.ship} in ${drift.namespace}.`,
    };
  }
  const who = restorer(drift);
  const after = drift.persistedMs === undefined ? "" : ` after ${drift.persistedMs} ms`;
  const line = {
    at: drift.at,
    namespace: drift.namespace,
    name: drift.object,
    status: drift.leftOpen === true ? "Stuck" : "Restored",
    detail: `${who}${after}`,
  };
  return { ...tick(view, line), announcement: `${drift.ship} in ${drift.namespace}: ${who}${after}.` };
}

/** Who restored a drift, in words: "healed by kustomize-controller (GitOps)", "reverted by Broadside". */
export function restorer(drift: PublicDrift): string {
  if (drift.leftOpen === true) return "not reverted yet: the ledger keeps it for the next Broadside process";
  if (drift.gone === true) return "the object was deleted";
  if (drift.healer === "broadside") return "reverted by Broadside";
  const by = drift.restoredBy ?? "someone";
  const labels: Record<string, string> = { gitops: " (GitOps)", kubectl: " (kubectl)" };
  return `healed by ${by}${labels[drift.healer ?? ""] ?? ""}`;
}

function tick(view: ViewState, line: Omit<TickerLine, "id">): ViewState {
  return {
    ...view,
    ticker: [{ ...line, id: view.nextId }, ...view.ticker].slice(0, tickerLength),
    nextId: view.nextId + 1,
  };
}

/** A cell hit again starts a new kill: the last repair's figure no longer describes it. */
function burning(cell: CellView, at: number): CellView {
  const state: CellState = "burning";
  const rest: Omit<CellView, "repairedMs"> & { repairedMs?: number } = { ...cell };
  delete rest.repairedMs;
  return { ...rest, state, killedAt: at };
}

/** The cell at (row, col) of a namespace's grid, if a ship holds it. */
export function cellAt(
  grids: readonly GridView[],
  namespace: string,
  row: number,
  col: number,
): CellView | undefined {
  const grid = grids.find((candidate) => candidate.namespace === namespace);
  for (const ship of grid?.ships ?? []) {
    const cell = ship.cells.find((candidate) => candidate.row === row && candidate.col === col);
    if (cell !== undefined) return cell;
  }
  return undefined;
}

function placeOfPod(grids: readonly GridView[], namespace: string, podUid: string): CellPlace | undefined {
  const grid = grids.find((candidate) => candidate.namespace === namespace);
  for (const ship of grid?.ships ?? []) {
    const cell = ship.cells.find((candidate) => holds(candidate, podUid));
    if (cell !== undefined) return { namespace, row: cell.row, col: cell.col };
  }
  return undefined;
}

function holds(cell: CellView, podUid: string): boolean {
  return cell.pod?.uid === podUid || cell.replacement?.uid === podUid;
}

function updateCell(
  grids: readonly GridView[],
  namespace: string,
  row: number,
  col: number,
  change: (cell: CellView) => CellView,
): readonly GridView[] {
  return updateCells(grids, namespace, (cell) => cell.row === row && cell.col === col, change);
}

/** The cell that shows the pod, or whose replacement it is (a kill may name either). */
function updateCellOfPod(
  grids: readonly GridView[],
  namespace: string,
  podUid: string,
  change: (cell: CellView) => CellView,
): readonly GridView[] {
  return updateCells(grids, namespace, (cell) => holds(cell, podUid), change);
}

function updateCells(
  grids: readonly GridView[],
  namespace: string,
  matches: (cell: CellView) => boolean,
  change: (cell: CellView) => CellView,
): readonly GridView[] {
  return grids.map((grid) =>
    grid.namespace !== namespace
      ? grid
      : {
          ...grid,
          ships: grid.ships.map((ship) =>
            ship.cells.some(matches)
              ? { ...ship, cells: ship.cells.map((cell) => (matches(cell) ? change(cell) : cell)) }
              : ship,
          ),
        },
  );
}

import { describe, expect, it } from "vitest";
import type { BoardState, CellView, GridView, PublicShot, StreamMessage } from "./protocol.js";
import { parseStreamMessage } from "./protocol.js";
import { emptyScoreboard } from "../../core/board/scoreboard.js";
import { noDuel } from "../../core/board/duel-view.js";
import { cellAt, emptyView, reduce, restorer, tickerLength, type ViewState } from "./view-state.js";

/*
 * The spectators' view from the stream: a hit burns its cell as soon as the shot's event arrives, the
 * kill and the repair follow from the sea's watch events (the repair with its ms), a resync from
 * GET /api/board never undoes a hit whose kill is still on its way, and the ticker reads like
 * `kubectl get pods --watch`.
 */

const pod = (name: string, uid: string, extra: Partial<CellView["pod"]> = {}) => ({
  name,
  uid,
  phase: "Running",
  ready: true,
  deleting: false,
  ...extra,
});

function cell(row: number, col: number, index: number, over: Partial<CellView> = {}): CellView {
  return { row, col, index, state: "intact", pod: pod(`web-${index}`, `uid-${index}`), ...over };
}

function grid(cells: CellView[]): GridView {
  return {
    namespace: "shop",
    side: 6,
    ships: [
      {
        kind: "Deployment",
        name: "web",
        key: "Deployment/web",
        length: cells.length,
        placement: { row: 1, col: 1, orientation: "across" },
        cells,
        overflow: [],
      },
    ],
  };
}

const game: BoardState["game"] = {
  namespaces: ["shop"],
  weapons: {
    torpedo: { allowed: true },
    mine: { allowed: false, reason: "not allowed in this game" },
    fog: { allowed: false, reason: "not allowed in this game" },
    anchor: { allowed: false, reason: "not allowed in this game" },
    net: { allowed: false, reason: "needs the node daemon's network faults" },
  },
  unsafe: false,
  revertAfter: "1m",
  limits: { player: { shots: 1, per: "3s" }, game: { shots: 3, per: "1s" }, players: 500 },
  openedAt: 1_000,
};

function stateOf(cells: CellView[]): StreamMessage {
  return {
    type: "state",
    state: { game, grids: [grid(cells)], scoreboard: emptyScoreboard, duel: noDuel },
  };
}

const fleet = () => [cell(1, 1, 0), cell(1, 2, 1), cell(1, 3, 2), cell(1, 4, 3)];

const hit: PublicShot = {
  nickname: "Ada",
  namespace: "shop",
  row: 1,
  col: 2,
  weapon: "torpedo",
  result: "hit",
  pod: "web-1",
  at: 5_000,
};

function run(...messages: StreamMessage[]): ViewState {
  return messages.reduce(reduce, emptyView);
}

describe("the spectators' view", () => {
  it("burns the hit cell as soon as the shot arrives, and says so in the live region", () => {
    const view = run(stateOf(fleet()), { type: "shot", shot: hit });
    expect(cellAt(view.grids, "shop", 1, 2)).toMatchObject({ state: "burning", killedAt: 5_000 });
    expect(cellAt(view.grids, "shop", 1, 1)?.state).toBe("intact");
    expect(view.announcement).toBe("Ada hit web-1 in shop, row 2, column 3.");
    expect(view.ticker[0]).toMatchObject({
      namespace: "shop",
      name: "web-1",
      status: "Hit",
      detail: "Ada, torpedo",
    });
  });

  it("shows the repair with the ms the watch events gave, even after the cell took its replacement", () => {
    const killed = run(
      stateOf(fleet()),
      { type: "shot", shot: hit },
      {
        type: "sea",
        event: {
          type: "kill",
          namespace: "shop",
          ship: "Deployment/web",
          podUid: "uid-1",
          podName: "web-1",
          at: 5_050,
        },
      },
    );
    expect(killed.needsSync).toBe(1);
    expect(killed.pendingHits.size).toBe(0);
    // The resync shows the replacement being built in the cell.
    const replaced = fleet().map((candidate) =>
      candidate.index === 1
        ? {
            ...candidate,
            state: "rebuilding" as const,
            pod: pod("web-9", "uid-9", { ready: false }),
            killedAt: 5_050,
          }
        : candidate,
    );
    const rebuilding = reduce(killed, stateOf(replaced));
    expect(cellAt(rebuilding.grids, "shop", 1, 2)?.state).toBe("rebuilding");
    const repaired = reduce(rebuilding, {
      type: "sea",
      event: {
        type: "repaired",
        namespace: "shop",
        ship: "Deployment/web",
        podUid: "uid-1",
        killedAt: 5_050,
        repairedMs: 1_234,
        at: 6_284,
      },
    });
    expect(cellAt(repaired.grids, "shop", 1, 2)).toMatchObject({ state: "repaired", repairedMs: 1_234 });
    expect(repaired.announcement).toBe("Deployment/web in shop repaired in 1234 ms.");
    expect(repaired.ticker.map((line) => line.status)).toEqual(["Repaired", "Terminating", "Hit"]);
    expect(repaired.ticker[0]?.detail).toBe("in 1234 ms");
    expect(repaired.killedCells.has("uid-1")).toBe(false);
  });

  it("keeps a hit on screen through a resync that came before its kill's watch event", () => {
    const view = run(stateOf(fleet()), { type: "shot", shot: hit }, stateOf(fleet()));
    expect(cellAt(view.grids, "shop", 1, 2)?.state).toBe("burning");
    // Once the pod is replaced, the resync's own state wins.
    const later = reduce(
      view,
      stateOf(fleet().map((c) => (c.index === 1 ? { ...c, pod: pod("web-9", "uid-9") } : c))),
    );
    expect(cellAt(later.grids, "shop", 1, 2)?.state).toBe("intact");
    expect(later.pendingHits.size).toBe(0);
  });

  it("ticks misses and deflections without touching a cell", () => {
    const withoutPod: PublicShot = {
      nickname: "Ada",
      namespace: "shop",
      row: 4,
      col: 4,
      weapon: "torpedo",
      result: "miss",
      at: 5_000,
    };
    const view = run(
      stateOf(fleet()),
      { type: "shot", shot: withoutPod },
      { type: "shot", shot: { ...hit, result: "deflected" } },
    );
    expect(view.ticker.map((line) => [line.name, line.status])).toEqual([
      ["web-1", "Deflected"],
      ["E5", "Miss"],
    ]);
    expect(view.grids).toEqual(run(stateOf(fleet())).grids);
  });

  it("shows a mine a PodDisruptionBudget held off as a shield, and announces it", () => {
    const mine: PublicShot = { ...hit, weapon: "mine", result: "deflected", shield: ["web-min"] };
    const view = run(stateOf(fleet()), { type: "shot", shot: mine });
    expect(view.ticker.map((line) => [line.name, line.status, line.detail])).toEqual([
      ["web-1", "Shielded", "Ada, mine: the shield of PDB web-min held"],
    ]);
    expect(view.announcement).toBe("The shield of PDB web-min held against Ada's mine at web-1 in shop.");
    // The pod stays up: its cell is untouched.
    expect(view.grids).toEqual(run(stateOf(fleet())).grids);
  });

  it("keeps the ticker to its last lines, newest first", () => {
    const shots = Array.from({ length: tickerLength + 5 }, (_, index): StreamMessage => ({
      type: "shot",
      shot: { ...hit, result: "miss", at: index },
    }));
    const view = run(...shots);
    expect(view.ticker).toHaveLength(tickerLength);
    expect(view.ticker[0]?.at).toBe(tickerLength + 4);
  });

  it("asks for a resync when a game opens, and empties the sea when it closes", () => {
    const opened = run({ type: "game", state: "opened" });
    expect(opened.needsSync).toBe(1);
    const closed = run(stateOf(fleet()), { type: "shot", shot: hit }, { type: "game", state: "halted" });
    expect(closed).toMatchObject({ game: null, grids: [], announcement: "The game was halted." });
    expect(closed.pendingHits.size).toBe(0);
  });

  it("takes a grid event's grid whole in its namespace's place: a ship that grew shows its new cells", () => {
    const grown = grid([...fleet(), { row: 1, col: 5, index: 4, state: "rebuilding" }]);
    const other: GridView = { namespace: "zoo", side: 6, ships: [] };
    const view = run(stateOf(fleet()), { type: "grid", grid: other }, { type: "grid", grid: grown });
    expect(view.grids.map((each) => each.namespace)).toEqual(["shop", "zoo"]);
    expect(view.grids[0]?.ships[0]?.cells).toHaveLength(5);
    expect(view.grids[0]?.ships[0]?.cells[4]?.state).toBe("rebuilding");
  });

  it("takes the duel's view as sent, from the state and from each duel event, and without a game", () => {
    const duel = {
      running: true,
      since: 1_000,
      attacks: [],
      tally: { healsByGitOps: 0, healsByKubernetes: 0, misses: 0 },
    };
    expect(run(stateOf(fleet())).duel).toEqual(noDuel);
    expect(run({ type: "duel", duel }).duel).toEqual(duel);
    expect(run({ type: "duel", duel }, { type: "duel", duel: noDuel }).duel).toEqual(noDuel);
    const state = { game: null, grids: [], scoreboard: null, duel };
    expect(run({ type: "state", state }).duel).toEqual(duel);
    // A board older than the duel view sends a state without one.
    const older = { game: null, grids: [], scoreboard: null } as unknown as BoardState;
    expect(run({ type: "duel", duel }, { type: "state", state: older }).duel).toEqual(noDuel);
    expect(parseStreamMessage("duel", JSON.stringify({ type: "duel", duel }))).toEqual({
      type: "duel",
      duel,
    });
  });

  it("takes the scoreboard as sent", () => {
    const scoreboard = { ...emptyScoreboard, mttrP50Ms: 900, repaired: 1 };
    expect(run({ type: "scoreboard", scoreboard }).scoreboard).toEqual(scoreboard);
  });

  it("ticks a fog's drift and its heal, naming who restored it and after how long", () => {
    const drifted = {
      state: "drifted",
      weapon: "fog",
      nickname: "Ada",
      namespace: "shop",
      ship: "Deployment/web",
      object: "ConfigMap/web-settings /data/level",
      at: 5_000,
    } as const;
    const view = run(
      stateOf(fleet()),
      { type: "drift", drift: drifted },
      {
        type: "drift",
        drift: {
          ...drifted,
          state: "restored",
          at: 9_200,
          persistedMs: 4_200,
          restoredBy: "kustomize-controller",
          healer: "gitops",
        },
      },
    );
    expect(view.ticker.map((line) => [line.status, line.name, line.detail])).toEqual([
      [
        "Restored",
        "ConfigMap/web-settings /data/level",
        "healed by kustomize-controller (GitOps) after 4200 ms",
      ],
      ["Drifted", "ConfigMap/web-settings /data/level", "Ada, fog on Deployment/web"],
    ]);
    expect(view.announcement).toBe(
      "Deployment/web in shop: healed by kustomize-controller (GitOps) after 4200 ms.",
    );
    expect(restorer({ ...drifted, state: "restored", restoredBy: "broadside", healer: "broadside" })).toBe(
      "reverted by Broadside",
    );
    expect(restorer({ ...drifted, state: "restored", gone: true })).toBe("the object was deleted");
    expect(parseStreamMessage("drift", JSON.stringify({ type: "drift", drift: drifted }))).toEqual({
      type: "drift",
      drift: drifted,
    });
  });
});

describe("the stream's messages", () => {
  it("reads each known event and skips what it does not know", () => {
    expect(parseStreamMessage("state", JSON.stringify({ game: null, grids: [], scoreboard: null }))).toEqual({
      type: "state",
      state: { game: null, grids: [], scoreboard: null },
    });
    expect(parseStreamMessage("game", JSON.stringify({ type: "game", state: "opened" }))).toEqual({
      type: "game",
      state: "opened",
    });
    expect(parseStreamMessage("game", JSON.stringify({ type: "shot" }))).toBeUndefined();
    expect(parseStreamMessage("weather", JSON.stringify({ type: "weather" }))).toBeUndefined();
    expect(parseStreamMessage("sea", "{not json")).toBeUndefined();
    expect(parseStreamMessage("sea", "null")).toBeUndefined();
  });
});

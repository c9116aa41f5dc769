import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { PlayerTokens } from "../core/board/tokens.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import { memoryEngine, type MemoryEngine } from "../engine/memory-engine.js";
import { putShop, webPod } from "../engine/shop-fixture.js";
import { MemoryReviewer } from "./board-fixture.js";
import { Board } from "./board.js";
import { engineShots } from "./engine-shots.js";
import type { BoardEvent } from "./game.js";
import { kubeSeaFeed } from "./kube-sea-feed.js";
import { buildBoardApp } from "./server.js";

/*
 * The fire path end to end without a cluster: the board over the real engine (engine/pod-chaos.ts) and
 * the real sea feed (informers), both on the in-memory cluster of the engine's unit tests. A player's
 * shot at a ship's cell becomes a ledger record and then a DELETE of exactly that pod; the watch event of
 * the deletion burns the cell, and the replacement's Ready repairs it, in the ms the events give.
 */

function optIn(engine: MemoryEngine): void {
  engine.cluster.put({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "shop", annotations: { "broadside.dev/chaos": "enabled" } },
  });
}

async function settle(engine: MemoryEngine): Promise<void> {
  for (let turn = 0; turn < 5; turn += 1) await engine.clock.advance(0);
}

describe("a shot from the board through the engine", () => {
  it("writes the ledger record before the DELETE, and the sea burns and repairs the cell from watch events", async () => {
    const engine = memoryEngine({ optIn: true });
    putShop(engine);
    optIn(engine);
    const ledgerAtDelete: LedgerRecord[][] = [];
    engine.cluster.beforeWrite = async () => {
      ledgerAtDelete.push([...(await engine.ledger.list())]);
    };
    const reviewer = new MemoryReviewer();
    reviewer.users.set("op", { username: "alice", groups: [] });
    reviewer.grants.add("alice|operate|broadside-system");
    reviewer.grants.add("alice|operate|shop");
    const board = new Board({
      engine: engineShots(engine.ctx),
      seaFeed: kubeSeaFeed({ watches: engine.cluster.watches, clock: engine.clock }),
      tokens: new PlayerTokens({ secret: Buffer.alloc(32, 3), clock: engine.clock }),
      clock: engine.clock,
      audit: pino({ enabled: false }),
    });
    const events: BoardEvent[] = [];
    board.subscribe((event) => events.push(event));
    const { app } = buildBoardApp({
      board,
      reviewer,
      operatorNamespace: "broadside-system",
      log: { error: () => undefined },
    });

    const opened = await app.inject({
      method: "POST",
      url: "/api/operator/game",
      headers: { authorization: "Bearer op" },
      payload: { namespaces: ["shop"] },
    });
    expect(opened.statusCode, opened.body).toBe(201);
    const ship = board.state().grids[0]?.ships[0];
    expect(ship).toMatchObject({ key: "Deployment/web", length: 4 });
    const bow = ship?.cells[0];
    if (bow?.pod === undefined) throw new Error("no pod at the bow");

    const joined = await app.inject({
      method: "POST",
      url: "/api/join",
      payload: { code: opened.json<{ code: string }>().code, nickname: "Ada" },
    });
    const { token, playerId } = joined.json<{ token: string; playerId: string }>();
    const shot = await app.inject({
      method: "POST",
      url: "/api/shots",
      headers: { authorization: `Bearer ${token}` },
      payload: { namespace: "shop", row: bow.row, col: bow.col, weapon: "torpedo" },
    });
    expect(shot.json()).toMatchObject({ result: "hit", shot: { pod: bow.pod.name } });

    expect(engine.cluster.writes).toEqual([`delete shop/${bow.pod.name}`]);
    expect(ledgerAtDelete).toEqual([
      [
        expect.objectContaining({
          state: "pending",
          faultKind: "pod-kill",
          target: expect.objectContaining({ name: bow.pod.name, uid: bow.pod.uid }) as unknown,
          actor: expect.objectContaining({ user: `tester, board player ${playerId}` }) as unknown,
        }),
      ],
    ]);

    await settle(engine);
    expect(events).toContainEqual({
      type: "sea",
      event: expect.objectContaining({ type: "kill", podUid: bow.pod.uid }) as unknown,
    });

    // The ReplicaSet controller and the kubelet, played by the test: a replacement, Ready 1.5 s later.
    engine.cluster.put(webPod("web-abc-5", false));
    await engine.clock.advance(1_500);
    engine.cluster.put(webPod("web-abc-5"));
    await settle(engine);
    expect(events).toContainEqual({
      type: "sea",
      event: expect.objectContaining({ type: "repaired", podUid: bow.pod.uid, repairedMs: 1_500 }) as unknown,
    });
    expect(board.state().scoreboard).toMatchObject({
      mttrP50Ms: 1_500,
      players: [{ nickname: "Ada", hits: 1, bestKillToRepairedMs: 1_500 }],
    });
    await board.stop();
  });

  it("will not open a game on a namespace that has not opted in", async () => {
    const engine = memoryEngine({ optIn: true });
    putShop(engine);
    const refusals = await engineShots(engine.ctx).refuseNamespaces(["shop", "nowhere", "kube-system"]);
    expect(refusals).toEqual([
      "namespace shop has not opted in; annotate it broadside.dev/chaos=enabled",
      "namespace nowhere does not exist",
      "namespace kube-system is protected",
    ]);
  });

  it("halts: the kill switch held, open records reverted", async () => {
    const engine = memoryEngine();
    const result = await engineShots(engine.ctx).halt("alice", "halt pressed on the board");
    expect(result).toMatchObject({ reverted: 0, hold: { by: "alice" } });
    expect(await engine.halt.read()).toMatchObject({ by: "alice", reason: "halt pressed on the board" });
  });
});

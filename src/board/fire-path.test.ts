import { ApiException } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { PlayerTokens } from "../core/board/tokens.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import { memoryEngine, type MemoryEngine } from "../engine/memory-engine.js";
import { putShop, webDeployment, webPod } from "../engine/shop-fixture.js";
import { MemoryReviewer } from "./board-fixture.js";
import { Board } from "./board.js";
import { engineShots } from "./engine-shots.js";
import type { BoardEvent } from "./game.js";
import { kubeSeaFeed } from "./kube-sea-feed.js";
import { recoverBoardLeftovers } from "./engine-drifts.js";
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

  it("shows a mine that a PodDisruptionBudget refused as the ship's shield holding, the pod untouched", async () => {
    const engine = memoryEngine({ optIn: true });
    putShop(engine);
    optIn(engine);
    engine.cluster.put({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { namespace: "shop", name: "web-min" },
      spec: { minAvailable: 4, selector: { matchLabels: { app: "web" } } },
    });
    const board = new Board({
      engine: engineShots(engine.ctx),
      seaFeed: kubeSeaFeed({ watches: engine.cluster.watches, clock: engine.clock }),
      tokens: new PlayerTokens({ secret: Buffer.alloc(32, 3), clock: engine.clock }),
      clock: engine.clock,
      audit: pino({ enabled: false }),
    });
    const events: BoardEvent[] = [];
    board.subscribe((event) => events.push(event));
    const opened = await board.open({ namespaces: ["shop"], weapons: ["mine"] }, "alice");
    const bow = board.state().grids[0]?.ships[0]?.cells[0];
    if (bow?.pod === undefined) throw new Error("no pod at the bow");
    // The Eviction API's answer when the budget would be broken: 429, "Cannot evict pod as it would violate
    // the pod's disruption budget."
    const violation = "Cannot evict pod as it would violate the pod's disruption budget.";
    engine.cluster.refusals.set(
      `evict shop/${bow.pod.name}`,
      new ApiException(429, violation, JSON.stringify({ kind: "Status", code: 429, message: violation }), {}),
    );
    const joined = board.join({ code: opened.code, nickname: "Ada" }, "127.0.0.1");
    if (!joined.joined) throw new Error("Ada could not join");
    const claims = board.player(joined.player.token);
    const outcome = await board.fire(claims, {
      namespace: "shop",
      row: bow.row,
      col: bow.col,
      weapon: "mine",
    });
    expect(outcome).toMatchObject({
      fired: true,
      reason: "blocked by PDB web-min",
      shot: { result: "deflected", weapon: "mine", pod: bow.pod.name, shield: ["web-min"] },
    });
    expect(events).toContainEqual({
      type: "shot",
      shot: expect.objectContaining({ result: "deflected", shield: ["web-min"] }) as unknown,
    });
    // The eviction was asked once and refused (never retried, never turned into a DELETE): the pod stands.
    expect(engine.cluster.writes).toEqual([`evict shop/${bow.pod.name}`]);
    await settle(engine);
    expect(board.state().grids[0]?.ships[0]?.cells[0]).toMatchObject({ state: "intact" });
    await board.stop();
  });

  it("halts: the kill switch held, open records reverted", async () => {
    const engine = memoryEngine();
    const result = await engineShots(engine.ctx).halt("alice", "halt pressed on the board");
    expect(result).toMatchObject({ reverted: 0, hold: { by: "alice" } });
    expect(await engine.halt.read()).toMatchObject({ by: "alice", reason: "halt pressed on the board" });
  });

  it("counts container restarts on the sea since the game opened, per ship, from the pods' watch events", async () => {
    const engine = memoryEngine({ optIn: true });
    putShop(engine);
    optIn(engine);
    const restarting = (name: string, restartCount: number) => {
      const pod = webPod(name);
      pod.status = {
        phase: "Running",
        conditions: [{ type: "Ready", status: "True" }],
        containerStatuses: [{ name: "web", image: "web:1", imageID: "", ready: true, restartCount }],
      };
      return pod;
    };
    engine.cluster.put(restarting("web-abc-1", 3));
    const board = new Board({
      engine: engineShots(engine.ctx),
      seaFeed: kubeSeaFeed({ watches: engine.cluster.watches, clock: engine.clock }),
      tokens: new PlayerTokens({ secret: Buffer.alloc(32, 3), clock: engine.clock }),
      clock: engine.clock,
      audit: pino({ enabled: false }),
    });
    await board.open({ namespaces: ["shop"] }, "alice");
    // web-abc-1 had restarted 3 times before the game: those are not the game's.
    expect(board.state().scoreboard?.restarts).toEqual({ total: 0, ships: [] });
    engine.cluster.put(restarting("web-abc-1", 5));
    engine.cluster.put(restarting("web-abc-2", 1));
    await settle(engine);
    expect(board.state().scoreboard?.restarts).toEqual({
      total: 3,
      ships: [{ ship: "shop/Deployment/web", restarts: 3 }],
    });
    await board.stop();
  });

  describe("fog and anchor through the engine's object-fault path", () => {
    /** web with a pod template that mounts ConfigMap web-settings, and one container with resources. */
    function putSettings(engine: MemoryEngine, mounts = true): void {
      engine.cluster.put({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { namespace: "shop", name: "web-settings" },
        data: { level: "info", color: "blue" },
      });
      engine.cluster.put({
        ...webDeployment(4),
        spec: {
          replicas: 4,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: {
              containers: [
                {
                  name: "web",
                  image: "web:1",
                  resources: { limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "250m" } },
                  ...(mounts
                    ? {
                        env: [
                          {
                            name: "LEVEL",
                            valueFrom: { configMapKeyRef: { name: "web-settings", key: "level" } },
                          },
                        ],
                      }
                    : {}),
                },
              ],
            },
          },
        },
      });
    }

    async function playing(engine: MemoryEngine, weapons: string[]) {
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
        payload: { namespaces: ["shop"], weapons, revertAfter: "60s" },
      });
      expect(opened.statusCode, opened.body).toBe(201);
      const joined = await app.inject({
        method: "POST",
        url: "/api/join",
        payload: { code: opened.json<{ code: string }>().code, nickname: "Ada" },
      });
      const { token, playerId } = joined.json<{ token: string; playerId: string }>();
      const bow = board.state().grids[0]?.ships[0]?.cells[0];
      if (bow === undefined) throw new Error("no ship");
      const fire = (weapon: string) =>
        app.inject({
          method: "POST",
          url: "/api/shots",
          headers: { authorization: `Bearer ${token}` },
          payload: { namespace: "shop", row: bow.row, col: bow.col, weapon },
        });
      const halt = () =>
        app.inject({ method: "POST", url: "/api/operator/halt", headers: { authorization: "Bearer op" } });
      return { board, events, fire, halt, playerId };
    }

    function drifts(events: readonly BoardEvent[]) {
      return events.flatMap((event) => (event.type === "drift" ? [event.drift] : []));
    }

    it("fogs: the ledger record before the patch, a GitOps heal ends it, and the scoreboard names the healer", async () => {
      const engine = memoryEngine({ optIn: true });
      putShop(engine);
      optIn(engine);
      putSettings(engine);
      const ledgerAtPatch: LedgerRecord[][] = [];
      engine.cluster.beforeWrite = async (write) => {
        if (write.startsWith("patch")) ledgerAtPatch.push([...(await engine.ledger.list())]);
      };
      const { board, events, fire, playerId } = await playing(engine, ["fog"]);

      const shot = await fire("fog");
      expect(shot.json()).toMatchObject({
        result: "hit",
        shot: { weapon: "fog", object: expect.stringContaining("web-settings") as unknown },
      });
      expect(engine.cluster.writes).toEqual(["patch ConfigMap shop/web-settings"]);
      expect(ledgerAtPatch).toEqual([
        [
          expect.objectContaining({
            state: "pending",
            faultKind: "config-drift",
            path: "/data/level",
            original: "info",
            injected: "broadside-fog",
            actor: expect.objectContaining({ user: `tester, board player ${playerId}` }) as unknown,
          }),
        ],
      ]);
      expect(
        await engine.cluster.read({
          apiVersion: "v1",
          kind: "ConfigMap",
          namespace: "shop",
          name: "web-settings",
        }),
      ).toMatchObject({ data: { level: "broadside-fog" } });
      // A second fog at the same ship while the first is on: a miss, nothing written.
      await engine.clock.advance(3_000);
      expect((await fire("fog")).json()).toMatchObject({
        result: "miss",
        reason: "that ship is already in fog",
      });
      expect(engine.cluster.writes).toHaveLength(1);

      // kustomize-controller puts the value back 4 s after the drift: the heal ends it, no revert is written.
      await engine.clock.advance(1_000);
      engine.cluster.put(
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { namespace: "shop", name: "web-settings" },
          data: { level: "info", color: "blue" },
        },
        "kustomize-controller",
      );
      await settle(engine);
      expect(drifts(events).map((drift) => drift.state)).toEqual(["drifted", "restored"]);
      expect(drifts(events)[1]).toMatchObject({
        restoredBy: "kustomize-controller",
        healer: "gitops",
        persistedMs: 4_000,
      });
      expect(engine.cluster.writes).toEqual(["patch ConfigMap shop/web-settings"]);
      expect(await engine.ledger.list()).toEqual([
        expect.objectContaining({
          state: "closed",
          outcome: expect.objectContaining({
            kind: "healed-externally",
            by: "kustomize-controller",
          }) as unknown,
        }),
      ]);
      expect(board.state().scoreboard?.drifts).toMatchObject({
        total: 1,
        restored: 1,
        persistP50Ms: 4_000,
        selfHealRate: 1,
        heals: { gitops: 1, broadside: 0 },
        managers: [{ manager: "kustomize-controller", class: "gitops", heals: 1 }],
      });
      await board.stop();
    });

    it("fogs until the deadline when nobody heals it: Broadside's revert restores it, and the scoreboard says so", async () => {
      const engine = memoryEngine({ optIn: true });
      putShop(engine);
      optIn(engine);
      putSettings(engine);
      const { board, events, fire } = await playing(engine, ["fog"]);
      expect((await fire("fog")).json()).toMatchObject({ result: "hit" });
      await engine.clock.advance(60_000);
      await settle(engine);
      expect(engine.cluster.writes).toEqual([
        "patch ConfigMap shop/web-settings",
        "patch ConfigMap shop/web-settings",
      ]);
      expect(
        await engine.cluster.read({
          apiVersion: "v1",
          kind: "ConfigMap",
          namespace: "shop",
          name: "web-settings",
        }),
      ).toMatchObject({ data: { level: "info" } });
      expect(drifts(events)[1]).toMatchObject({
        state: "restored",
        restoredBy: "broadside",
        healer: "broadside",
        persistedMs: 60_000,
      });
      expect(board.state().scoreboard?.drifts).toMatchObject({
        restored: 1,
        selfHealRate: 0,
        heals: { broadside: 1 },
      });
      await board.stop();
    });

    it("misses with a reason when the ship carries no config, writing nothing", async () => {
      const engine = memoryEngine({ optIn: true });
      putShop(engine);
      optIn(engine);
      putSettings(engine, false);
      const { board, fire } = await playing(engine, ["fog"]);
      expect((await fire("fog")).json()).toMatchObject({
        result: "miss",
        reason: "that ship carries no config",
      });
      expect(engine.cluster.writes).toEqual([]);
      expect(await engine.ledger.list()).toEqual([]);
      await board.stop();
    });

    it("anchors: the squeeze recorded before the patch, holding a slot of the ship's cap, and reverted by halt", async () => {
      const engine = memoryEngine({ optIn: true });
      putShop(engine);
      optIn(engine);
      putSettings(engine);
      const ledgerAtPatch: LedgerRecord[][] = [];
      engine.cluster.beforeWrite = async (write) => {
        if (write.startsWith("patch")) ledgerAtPatch.push([...(await engine.ledger.list())]);
      };
      const { board, events, fire, halt } = await playing(engine, ["anchor", "torpedo"]);
      expect((await fire("anchor")).json()).toMatchObject({ result: "hit", shot: { weapon: "anchor" } });
      expect(ledgerAtPatch).toEqual([
        [
          expect.objectContaining({
            state: "pending",
            faultKind: "resource-squeeze",
            path: "/spec/template/spec/containers/0/resources",
          }),
        ],
      ]);
      const squeezed = await engine.cluster.read({
        apiVersion: "apps/v1",
        kind: "Deployment",
        namespace: "shop",
        name: "web",
      });
      expect(squeezed).toMatchObject({
        spec: {
          template: {
            spec: {
              containers: [
                { resources: { limits: { cpu: "50m", memory: "64Mi" }, requests: { cpu: "50m" } } },
              ],
            },
          },
        },
      });

      const halted = await halt();
      expect(halted.json()).toMatchObject({ halted: true, reverted: 1 });
      await settle(engine);
      const restored = await engine.cluster.read({
        apiVersion: "apps/v1",
        kind: "Deployment",
        namespace: "shop",
        name: "web",
      });
      expect(restored).toMatchObject({
        spec: {
          template: {
            spec: {
              containers: [
                { resources: { limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "250m" } } },
              ],
            },
          },
        },
      });
      expect(drifts(events).at(-1)).toMatchObject({
        state: "restored",
        weapon: "anchor",
        restoredBy: "broadside",
      });
      expect(await engine.ledger.list()).toEqual([
        expect.objectContaining({
          state: "closed",
          outcome: expect.objectContaining({ kind: "reverted" }) as unknown,
        }),
      ]);
      await board.stop();
    });

    it("leaves nothing drifted after a crash: a board that starts again reverts its drifts, deadline or not", async () => {
      const engine = memoryEngine({ optIn: true });
      putShop(engine);
      optIn(engine);
      putSettings(engine);
      const { fire } = await playing(engine, ["fog"]);
      expect((await fire("fog")).json()).toMatchObject({ result: "hit" });
      // The board is gone (never stopped); a new one starts 10 s later, long before the deadline.
      await engine.clock.advance(10_000);
      const recovered = await recoverBoardLeftovers(engine.ctx);
      expect(recovered).toEqual([expect.objectContaining({ faultKind: "config-drift", result: "reverted" })]);
      expect(
        await engine.cluster.read({
          apiVersion: "v1",
          kind: "ConfigMap",
          namespace: "shop",
          name: "web-settings",
        }),
      ).toMatchObject({ data: { level: "info" } });
    });
  });
});

import { describe, expect, it } from "vitest";
import { nearestRank } from "../percentile.js";
import {
  computeScoreboard,
  emptyScoreboard,
  type DriftRecord,
  type KillRecord,
  type RestartRecord,
  type ShotRecord,
} from "./scoreboard.js";

/*
 * After the GameDay: how fast did the cluster heal, did it always heal, and who was the best shot.
 */

function shot(playerId: string, result: ShotRecord["result"], podUid?: string): ShotRecord {
  return {
    playerId,
    nickname: playerId.toUpperCase(),
    at: 0,
    result,
    ...(podUid === undefined ? {} : { podUid }),
  };
}

describe("the scoreboard", () => {
  it("is empty, with no figures made up, before the first shot", () => {
    expect(computeScoreboard({ shots: [], kills: [], now: 0 })).toEqual({
      repaired: 0,
      unhealed: 0,
      healing: 0,
      drifts: {
        total: 0,
        open: 0,
        restored: 0,
        heals: { gitops: 0, kubectl: 0, broadside: 0, other: 0 },
        managers: [],
      },
      api: { requests: 0 },
      restarts: { total: 0, ships: [] },
      players: [],
    });
    expect(emptyScoreboard).toEqual(computeScoreboard({ shots: [], kills: [], now: 0 }));
  });

  it("takes MTTR p50 and p95 as nearest-rank over the repaired kills, times that were measured", () => {
    const kills: KillRecord[] = Array.from({ length: 20 }, (_, index) => ({
      podUid: `pod-${index}`,
      killedAt: 0,
      repairedMs: (20 - index) * 100,
    }));
    const board = computeScoreboard({ shots: [], kills, now: 1_000 });
    // 100..2,000 ms: the 10th is 1,000 ms, the 19th 1,900 ms.
    expect(board.mttrP50Ms).toBe(1_000);
    expect(board.mttrP95Ms).toBe(1_900);
    expect(nearestRank([5], 95)).toBe(5);
  });

  it("counts a kill unhealed once it stays open past the deadline, and leaves younger ones out of the rate", () => {
    const kills: KillRecord[] = [
      { podUid: "a", killedAt: 0, repairedMs: 900 },
      { podUid: "b", killedAt: 0, repairedMs: 1_100 },
      { podUid: "c", killedAt: 0, repairedMs: 700 },
      { podUid: "stuck", killedAt: 0 },
      { podUid: "fresh", killedAt: 299_000 },
    ];
    const board = computeScoreboard({ shots: [], kills, now: 300_000 });
    expect(board).toMatchObject({ repaired: 3, unhealed: 1, healing: 1, selfHealRate: 0.75 });
  });

  it("ranks players by hits, then by their fastest kill-to-repaired, and counts refused shots apart", () => {
    const shots = [
      shot("ada", "hit", "p1"),
      shot("ada", "miss"),
      shot("ada", "refused"),
      shot("bob", "hit", "p2"),
      shot("bob", "hit", "p3"),
      shot("cy", "hit", "p4"),
      shot("cy", "hit", "p5"),
      shot("dee", "miss"),
    ];
    const kills: KillRecord[] = [
      { podUid: "p1", killedAt: 0, repairedMs: 800 },
      { podUid: "p2", killedAt: 0, repairedMs: 1_500 },
      { podUid: "p3", killedAt: 0, repairedMs: 1_200 },
      { podUid: "p4", killedAt: 0, repairedMs: 600 },
      { podUid: "p5", killedAt: 0 },
    ];
    const board = computeScoreboard({ shots, kills, now: 10_000 });
    expect(board.players).toEqual([
      { playerId: "cy", nickname: "CY", shots: 2, hits: 2, refused: 0, bestKillToRepairedMs: 600 },
      { playerId: "bob", nickname: "BOB", shots: 2, hits: 2, refused: 0, bestKillToRepairedMs: 1_200 },
      { playerId: "ada", nickname: "ADA", shots: 2, hits: 1, refused: 1, bestKillToRepairedMs: 800 },
      { playerId: "dee", nickname: "DEE", shots: 1, hits: 0, refused: 0 },
    ]);
  });

  it("counts drifts per minute since the game opened, and how long the restored ones persisted", () => {
    const opened = 1_000_000;
    const drifts: DriftRecord[] = [
      drift("d1", opened + 1_000, 4_000, "kustomize-controller"),
      drift("d2", opened + 2_000, 60_000, "broadside"),
      drift("d3", opened + 3_000, 9_000, "kubectl-edit"),
      drift("d4", opened + 4_000, 2_000, "kustomize-controller"),
      { id: "d5", weapon: "fog", ship: "shop/Deployment/web", driftedAt: opened + 100_000 },
      { ...drift("d6", opened + 5_000, 1_000, "kubectl"), gone: true },
    ];
    const board = computeScoreboard({
      shots: [],
      kills: [],
      drifts,
      openedAt: opened,
      now: opened + 120_000,
    });
    // Six drifts in two minutes; four restored (d6's object was deleted, d5 is still on).
    expect(board.drifts).toMatchObject({ total: 6, open: 1, restored: 4, perMinute: 3 });
    // Persisted 2 s, 4 s, 9 s, 60 s: p50 the 2nd, p95 and the max the 4th.
    expect(board.drifts).toMatchObject({ persistP50Ms: 4_000, persistP95Ms: 60_000, persistMaxMs: 60_000 });
  });

  it("names who restored each drift by its field manager, and counts Broadside's own revert as no self-heal", () => {
    const drifts: DriftRecord[] = [
      drift("d1", 0, 4_000, "kustomize-controller"),
      drift("d2", 0, 60_000, "broadside"),
      drift("d3", 0, 9_000, "kubectl-edit"),
      drift("d4", 0, 2_000, "kustomize-controller"),
      drift("d5", 0, 3_000, "argocd-application-controller"),
      drift("d6", 0, 3_000, "someone-else"),
    ];
    const board = computeScoreboard({ shots: [], kills: [], drifts, openedAt: 0, now: 60_000 });
    expect(board.drifts.heals).toEqual({ gitops: 3, kubectl: 1, broadside: 1, other: 1 });
    expect(board.drifts.selfHealRate).toBeCloseTo(5 / 6);
    expect(board.drifts.managers).toEqual([
      { manager: "kustomize-controller", class: "gitops", heals: 2 },
      { manager: "argocd-application-controller", class: "gitops", heals: 1 },
      { manager: "broadside", class: "broadside", heals: 1 },
      { manager: "kubectl-edit", class: "kubectl", heals: 1 },
      { manager: "someone-else", class: "other", heals: 1 },
    ]);
  });

  it("gives no drift self-heal rate before a drift is restored, and 0 when Broadside restored them all", () => {
    const open = computeScoreboard({
      shots: [],
      kills: [],
      drifts: [{ id: "d", weapon: "anchor", ship: "s", driftedAt: 0 }],
      now: 1,
    });
    expect(open.drifts.selfHealRate).toBeUndefined();
    const reverted = computeScoreboard({
      shots: [],
      kills: [],
      drifts: [drift("d", 0, 60_000, "broadside")],
      now: 1,
    });
    expect(reverted.drifts.selfHealRate).toBe(0);
  });

  it("takes the p50 and p99 of Broadside's API request latencies, nearest-rank", () => {
    const latencies = Array.from({ length: 200 }, (_, index) => 200 - index);
    const board = computeScoreboard({ shots: [], kills: [], now: 0, apiLatenciesMs: latencies });
    // 1..200 ms: the 100th is 100 ms, the 198th 198 ms.
    expect(board.api).toEqual({ requests: 200, p50Ms: 100, p99Ms: 198 });
  });

  it("sums container restarts since the game opened, per ship and overall, most first", () => {
    const restarts: RestartRecord[] = [
      { ship: "shop/Deployment/web", podUid: "w1", atStart: 2, latest: 5 },
      { ship: "shop/Deployment/web", podUid: "w2", atStart: 0, latest: 1 },
      { ship: "shop/StatefulSet/db", podUid: "d1", atStart: 0, latest: 7 },
      { ship: "shop/Deployment/calm", podUid: "c1", atStart: 4, latest: 4 },
    ];
    const board = computeScoreboard({ shots: [], kills: [], now: 0, restarts });
    expect(board.restarts).toEqual({
      total: 11,
      ships: [
        { ship: "shop/StatefulSet/db", restarts: 7 },
        { ship: "shop/Deployment/web", restarts: 4 },
      ],
    });
  });
});

function drift(id: string, driftedAt: number, persistedMs: number, restoredBy: string): DriftRecord {
  return {
    id,
    weapon: "fog",
    ship: "shop/Deployment/web",
    driftedAt,
    restoredAt: driftedAt + persistedMs,
    restoredBy,
  };
}

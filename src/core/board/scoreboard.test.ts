import { describe, expect, it } from "vitest";
import { nearestRank } from "../percentile.js";
import { computeScoreboard, type KillRecord, type ShotRecord } from "./scoreboard.js";

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
      players: [],
    });
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
});

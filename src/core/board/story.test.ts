import { describe, expect, it } from "vitest";
import { FakeClock } from "../fake-clock.js";
import { defaultBoardLimits, ShotGate, type ShotAdmission } from "./limits.js";
import { parseGameRules } from "./rules.js";
import { computeScoreboard, type KillRecord, type ShotRecord } from "./scoreboard.js";
import { gameShipKey, SeaState, type PodFacts, type SeaEvent } from "./sea.js";
import { PlayerTokens, sanitizeNickname } from "./tokens.js";

/*
 * The pieces together, as the server will wire them: the operator's rules open a game, players join,
 * a shot is resolved on the sea and admitted by the gate, the cluster's events burn and repair the cell,
 * the repair gives the pod back to its ship's cap, and the scoreboard tells the tale. The cluster is
 * played by hand: each "DELETE" is answered with the watch events Kubernetes would send.
 */

function pods(owner: string, count: number): PodFacts[] {
  return Array.from({ length: count }, (_, index) => ({
    name: `${owner}-${index}`,
    uid: `${owner}-uid-${index}`,
    workload: { kind: "Deployment", name: owner },
    phase: "Running",
    ready: true,
    deleting: false,
    createdAt: index,
  }));
}

describe("a short GameDay", () => {
  it("goes from rules to scoreboard, with the ship cap held until the cluster repairs", async () => {
    const clock = new FakeClock(10_000);
    const rules = parseGameRules({ namespaces: ["shop"] });
    const gate = new ShotGate(rules.limits, clock);
    const kills = new Map<string, KillRecord>();
    const sea = new SeaState(clock, (event: SeaEvent) => {
      if (event.type === "kill") kills.set(event.podUid, { podUid: event.podUid, killedAt: event.at });
      else {
        kills.set(event.podUid, {
          podUid: event.podUid,
          killedAt: event.killedAt,
          repairedMs: event.repairedMs,
        });
        gate.recovered(gameShipKey(event.namespace, event.ship), event.podUid);
      }
    });
    const fleet = pods("web", 4);
    sea.syncNamespace({
      namespace: "shop",
      workloads: [{ kind: "Deployment", name: "web", replicas: 4 }],
      pods: fleet,
    });

    const tokens = new PlayerTokens({ secret: Buffer.alloc(32, 1), clock });
    const players = ["Ada", "Grace", "Linus"].map((nickname, index) => {
      const token = tokens.issue({
        gameId: "GAME42",
        playerId: `p${index}`,
        nickname: sanitizeNickname(nickname),
      });
      const check = tokens.verify(token, "GAME42");
      if (!check.valid) throw new Error(check.message);
      return check.claims;
    });

    const shots: ShotRecord[] = [];
    const web = sea.grid("shop")?.ships[0];
    const fire = (playerIndex: number, cellIndex: number): ShotAdmission | undefined => {
      const player = players[playerIndex];
      const cell = web?.cells[cellIndex];
      if (player === undefined || cell === undefined) return undefined;
      const landed = sea.resolveShot("shop", cell.row, cell.col);
      if (landed.kind !== "ship" || landed.target === undefined) return undefined;
      const ship = {
        key: gameShipKey("shop", landed.ship.key),
        podUid: landed.target.uid,
        readyPodUids: sea.readyPodUids("shop", landed.ship),
      };
      const admission = gate.admit({ playerId: player.playerId, ship });
      const result = admission.admitted ? "hit" : "refused";
      shots.push({
        playerId: player.playerId,
        nickname: player.nickname,
        at: clock.now(),
        result,
        podUid: ship.podUid,
      });
      return admission;
    };
    const kill = (pod: PodFacts | undefined): void => {
      if (pod !== undefined) sea.upsertPod("shop", { ...pod, deleting: true });
    };

    // Ada and Grace each sink a pod at once; the cluster answers with the deletions.
    expect(fire(0, 0)?.admitted).toBe(true);
    kill(fleet[0]);
    expect(fire(1, 1)?.admitted).toBe(true);
    kill(fleet[1]);
    // Half of four is down: Linus finds the ship listing.
    expect(fire(2, 2)).toMatchObject({ admitted: false, reason: "that ship is already listing" });

    // Replacements come up: one after 800 ms, the other after 1,300 ms.
    const replacements = pods("web-new", 2).map((pod) => ({
      ...pod,
      workload: { kind: "Deployment" as const, name: "web" },
    }));
    for (const pod of replacements) sea.upsertPod("shop", { ...pod, ready: false });
    for (const [index, delay] of [800, 500].entries()) {
      await clock.advance(delay);
      const pod = replacements[index];
      if (pod !== undefined) sea.upsertPod("shop", pod);
      sea.deletePod("shop", fleet[index]?.uid ?? "");
    }
    expect(sea.census("shop")).toEqual({ intact: 2, burning: 0, rebuilding: 0, repaired: 2 });
    expect(gate.downCount("shop/Deployment/web")).toBe(0);

    // The ship is whole again, so Linus may fire.
    expect(fire(2, 2)?.admitted).toBe(true);
    kill(fleet[2]);

    const board = computeScoreboard({ shots, kills: [...kills.values()], now: clock.now() });
    expect(board).toMatchObject({ mttrP50Ms: 800, mttrP95Ms: 1_300, repaired: 2, healing: 1 });
    expect(
      board.players.map((player) => [player.nickname, player.hits, player.bestKillToRepairedMs]),
    ).toEqual([
      ["Ada", 1, 800],
      ["Grace", 1, 1_300],
      ["Linus", 1, undefined],
    ]);
    expect(defaultBoardLimits.player.per.milliseconds).toBe(rules.limits.player.per.milliseconds);
  });
});

import { describe, expect, it } from "vitest";
import { checkGameRules } from "../core/board/rules.js";
import { FakeClock } from "../core/fake-clock.js";
import { MemoryBoardEngine, webPods } from "./board-fixture.js";
import { Game, scoreboardEveryMs, type BoardEvent } from "./game.js";

/*
 * A crowd's clicks and the spectators' stream: each click changes the scoreboard (a shot, or a refusal
 * counted for the player), but the stream tells it at most once per scoreboardEveryMs, so a thousand
 * clicks a second neither recompute it a thousand times nor send it to every spectator that often.
 */

function openGame(clock: FakeClock): Game {
  const checked = checkGameRules({ namespaces: ["shop"] });
  if (!checked.ok) throw new Error("the rules should be valid");
  const game = new Game("ABC234", checked.rules, clock);
  game.sea.syncNamespace({
    namespace: "shop",
    workloads: [{ kind: "Deployment", name: "web", replicas: 10 }],
    pods: webPods(10),
  });
  return game;
}

describe("the scoreboard on the stream under a burst of clicks", () => {
  it("is told at once after a quiet spell, then at most once per interval with the latest figures", async () => {
    const clock = new FakeClock(1_000_000);
    const game = openGame(clock);
    const engine = new MemoryBoardEngine();
    const told: BoardEvent[] = [];
    game.subscribe((event) => told.push(event));
    const scoreboards = () => told.filter((event) => event.type === "scoreboard");
    const cell = game.grids()[0]?.ships[0]?.cells[0] ?? { row: 0, col: 0 };
    const ada = { gameId: game.id, playerId: "p-ada", nickname: "Ada", issuedAt: 0, expiresAt: 0 };
    const fire = () =>
      game.fire(ada, { namespace: "shop", row: cell.row, col: cell.col, weapon: "torpedo" }, engine);

    // A hit, then 49 clicks refused in the same instant ("reloading"): one scoreboard, at once.
    await fire();
    for (let click = 0; click < 49; click += 1) await fire();
    expect(scoreboards()).toHaveLength(1);

    // The interval passes: one more, with every refusal counted.
    await clock.advance(scoreboardEveryMs);
    expect(scoreboards()).toHaveLength(2);
    const latest = scoreboards().at(-1);
    expect(latest?.type === "scoreboard" ? latest.scoreboard.players[0] : undefined).toMatchObject({
      hits: 1,
      refused: 49,
    });

    // Quiet for a while: the next click is told at once again.
    await clock.advance(10 * scoreboardEveryMs);
    await fire();
    expect(scoreboards()).toHaveLength(3);
  });
});

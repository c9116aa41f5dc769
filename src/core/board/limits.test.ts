import { describe, expect, it } from "vitest";
import { Duration } from "../duration.js";
import { FakeClock } from "../fake-clock.js";
import {
  defaultBoardLimits,
  ShotGate,
  type BoardLimits,
  type ShipTarget,
  type ShotAdmission,
} from "./limits.js";

/*
 * The seed's "100 people press Delete Pod at the same moment": every shot is admitted or refused at
 * once, the player told why, and under any burst the count admitted is exactly what the limits allow.
 */

function ship(key: string, ready: number, podIndex = 0): ShipTarget {
  const readyPodUids = Array.from({ length: ready }, (_, index) => `${key}-pod-${index}`);
  return { key, podUid: `${key}-pod-${podIndex}`, readyPodUids };
}

function refusedBy(admission: ShotAdmission): string | undefined {
  return admission.admitted ? undefined : admission.reason;
}

describe("the player's bucket: one shot per 3 s", () => {
  it("fires at once, then says 'reloading' with a Retry-After until 3 s have passed", async () => {
    const clock = new FakeClock();
    const gate = new ShotGate(defaultBoardLimits, clock);
    expect(gate.admit({ playerId: "ada", ship: ship("shop/Deployment/web", 10, 0) }).admitted).toBe(true);

    await clock.advance(1_200);
    expect(gate.admit({ playerId: "ada", ship: ship("shop/Deployment/web", 10, 1) })).toEqual({
      admitted: false,
      limit: "player",
      status: 429,
      retryAfterSeconds: 2,
      reason: "reloading",
      detail: "1 shot per 3s per player; next shot in 1800 ms",
      at: 1_200,
    });
    // Another player's bucket is their own.
    expect(gate.admit({ playerId: "grace", ship: ship("shop/Deployment/web", 10, 2) }).admitted).toBe(true);

    await clock.advance(1_799);
    expect(refusedBy(gate.admit({ playerId: "ada" }))).toBe("reloading");
    await clock.advance(1);
    expect(gate.admit({ playerId: "ada" }).admitted).toBe(true);
  });

  it("charges a shot into water to the player only, not to the fleet's budget", () => {
    const gate = new ShotGate(defaultBoardLimits, new FakeClock());
    for (const playerId of ["a", "b", "c", "d", "e"]) expect(gate.admit({ playerId }).admitted).toBe(true);
    expect(gate.admit({ playerId: "f", ship: ship("shop/Deployment/web", 10) }).admitted).toBe(true);
  });
});

describe("memory", () => {
  it("forgets the buckets of players who have reloaded, once a thousand are kept", async () => {
    const clock = new FakeClock();
    const gate = new ShotGate(defaultBoardLimits, clock);
    for (let player = 0; player < 1_000; player += 1) gate.admit({ playerId: `early-${player}` });
    expect(gate.trackedPlayers).toBe(1_000);
    await clock.advance(3_000);
    gate.admit({ playerId: "late" });
    expect(gate.trackedPlayers).toBe(1);
    // A forgotten player starts again with a full bucket, exactly what they had.
    expect(gate.admit({ playerId: "early-0" }).admitted).toBe(true);
  });
});

describe("the game's budget: at most 3 shots at ships in any second", () => {
  it("says 'the fleet's budget is spent' until the oldest shot leaves the window", async () => {
    const clock = new FakeClock();
    const gate = new ShotGate(defaultBoardLimits, clock);
    for (const playerId of ["a", "b", "c"]) {
      expect(gate.admit({ playerId, ship: ship(`ship-${playerId}`, 10) }).admitted).toBe(true);
      await clock.advance(100);
    }
    expect(gate.admit({ playerId: "d", ship: ship("ship-d", 10) })).toMatchObject({
      limit: "game",
      reason: "the fleet's budget is spent",
      retryAfterSeconds: 1,
      detail: "3 shots in the last 1s",
    });
    await clock.advance(699);
    expect(refusedBy(gate.admit({ playerId: "d", ship: ship("ship-d", 10) }))).toBe(
      "the fleet's budget is spent",
    );
    await clock.advance(1);
    expect(gate.admit({ playerId: "d", ship: ship("ship-d", 10) }).admitted).toBe(true);
  });

  it("costs a refused shot nothing: the player's bucket stays full for the next try", async () => {
    const clock = new FakeClock();
    const gate = new ShotGate(defaultBoardLimits, clock);
    for (const playerId of ["a", "b", "c"]) gate.admit({ playerId, ship: ship(`ship-${playerId}`, 10) });
    expect(refusedBy(gate.admit({ playerId: "late", ship: ship("ship-x", 10) }))).toBe(
      "the fleet's budget is spent",
    );
    await clock.advance(1_000);
    expect(gate.admit({ playerId: "late", ship: ship("ship-x", 10) }).admitted).toBe(true);
  });
});

describe("the ship's cap: never more than half its ready pods down, across all players", () => {
  it("admits floor(ready / 2) hits, then says 'that ship is already listing' until a pod is repaired", () => {
    const gate = new ShotGate(
      { ...defaultBoardLimits, game: { shots: 100, per: Duration.ofMilliseconds(1_000) } },
      new FakeClock(),
    );
    const key = "shop/Deployment/web";
    const first = gate.admit({ playerId: "a", ship: ship(key, 5, 0) });
    expect(first.admitted).toBe(true);
    // The sea still shows the first pod Ready (its watch event has not come): it is counted once.
    expect(gate.admit({ playerId: "b", ship: ship(key, 5, 1) }).admitted).toBe(true);
    expect(gate.admit({ playerId: "c", ship: ship(key, 5, 2) })).toMatchObject({
      limit: "ship",
      reason: "that ship is already listing",
      retryAfterSeconds: 1,
      detail: "2 of 5 pods of shop/Deployment/web down, at most 2 at once",
    });
    if (first.admitted) {
      first.release();
      first.release();
    }
    expect(gate.downCount(key)).toBe(1);
    expect(gate.admit({ playerId: "c", ship: ship(key, 5, 2) }).admitted).toBe(true);
  });

  it("refuses a second hit on a pod already hit", () => {
    const gate = new ShotGate(defaultBoardLimits, new FakeClock());
    gate.admit({ playerId: "a", ship: ship("s", 10, 3) });
    expect(gate.admit({ playerId: "b", ship: ship("s", 10, 3) })).toMatchObject({
      limit: "ship",
      detail: "pod s-pod-3 of s is already hit",
    });
  });

  it("keeps a one-pod ship afloat, unless the operator allowed unsafe, which lets a ship be sunk", () => {
    const safe = new ShotGate(defaultBoardLimits, new FakeClock());
    expect(refusedBy(safe.admit({ playerId: "a", ship: ship("lone", 1) }))).toBe(
      "that ship is already listing",
    );

    const unsafeLimits: BoardLimits = { ...defaultBoardLimits, unsafe: true };
    const unsafe = new ShotGate(unsafeLimits, new FakeClock());
    expect(unsafe.admit({ playerId: "a", ship: ship("pair", 2, 0) }).admitted).toBe(true);
    expect(unsafe.admit({ playerId: "b", ship: ship("pair", 2, 1) }).admitted).toBe(true);
    expect(unsafe.downCount("pair")).toBe(2);
  });

  it("checks the player first, then the ship, then the budget, so the reason is the player's own", () => {
    const gate = new ShotGate(defaultBoardLimits, new FakeClock());
    gate.admit({ playerId: "a" });
    expect(refusedBy(gate.admit({ playerId: "a", ship: ship("lone", 1) }))).toBe("reloading");
    expect(refusedBy(gate.admit({ playerId: "b", ship: ship("lone", 1) }))).toBe(
      "that ship is already listing",
    );
  });
});

describe("fog and anchor against the ship's cap (ADR 0028)", () => {
  const roomy: BoardLimits = {
    ...defaultBoardLimits,
    game: { shots: 100, per: Duration.ofMilliseconds(1_000) },
  };
  const ready = (key: string, count: number) =>
    Array.from({ length: count }, (_, index) => `${key}-pod-${index}`);

  it("lets an anchor hold one slot of the cap while the squeeze is on, so torpedoes take one pod fewer", () => {
    const gate = new ShotGate(roomy, new FakeClock());
    const key = "shop/Deployment/web";
    const anchor = gate.admit({ playerId: "a", ship: { key, squeeze: true, readyPodUids: ready(key, 4) } });
    expect(anchor.admitted).toBe(true);
    expect(gate.downCount(key)).toBe(1);
    // Four Ready pods: at most two down at once, and the squeeze is one of them.
    expect(gate.admit({ playerId: "b", ship: ship(key, 4, 0) }).admitted).toBe(true);
    expect(gate.admit({ playerId: "c", ship: ship(key, 4, 1) })).toMatchObject({
      reason: "that ship is already listing",
      detail: "2 of 4 pods of shop/Deployment/web down, at most 2 at once",
    });
    if (anchor.admitted) anchor.release();
    expect(gate.admit({ playerId: "c", ship: ship(key, 4, 1) }).admitted).toBe(true);
  });

  it("refuses a second anchor on a ship already squeezed, and an anchor on a ship that cannot lose a pod", () => {
    const gate = new ShotGate(roomy, new FakeClock());
    gate.admit({ playerId: "a", ship: { key: "s", squeeze: true, readyPodUids: ready("s", 10) } });
    expect(
      gate.admit({ playerId: "b", ship: { key: "s", squeeze: true, readyPodUids: ready("s", 10) } }),
    ).toMatchObject({
      limit: "ship",
      detail: "s is already squeezed",
    });
    expect(
      refusedBy(
        gate.admit({ playerId: "c", ship: { key: "lone", squeeze: true, readyPodUids: ready("lone", 1) } }),
      ),
    ).toBe("that ship is already listing");
  });

  it("charges a fog to the budget and the player only: it takes no pod down, so a listing ship can be fogged", () => {
    const gate = new ShotGate(
      { ...defaultBoardLimits, game: { shots: 2, per: Duration.ofMilliseconds(1_000) } },
      new FakeClock(),
    );
    expect(
      gate.admit({ playerId: "a", ship: { key: "lone", readyPodUids: ready("lone", 1) } }).admitted,
    ).toBe(true);
    expect(gate.downCount("lone")).toBe(0);
    expect(gate.admit({ playerId: "b", ship: { key: "lone", readyPodUids: [] } }).admitted).toBe(true);
    expect(refusedBy(gate.admit({ playerId: "c", ship: { key: "lone", readyPodUids: [] } }))).toBe(
      "the fleet's budget is spent",
    );
  });
});

/**
 * The load test's arithmetic, on the fake clock: `players` each click `clicksPerSecond` times a second
 * for `seconds`, aiming round robin at the pods of a 200-pod fleet (20 ships of 10) that each repair
 * `repairMs` after the hit. Returns what was admitted, and the worst moment of each limit.
 */
async function crowd(options: {
  readonly players: number;
  readonly clicksPerSecond: number;
  readonly seconds: number;
  readonly repairMs: number;
  readonly water?: boolean;
}) {
  const clock = new FakeClock();
  const gate = new ShotGate(defaultBoardLimits, clock);
  const tick = 1000 / options.clicksPerSecond;
  const admittedAt: number[] = [];
  const perPlayer = new Map<string, number>();
  const repairs: { at: number; release: () => void }[] = [];
  let worstShipOverCap = 0;
  let aim = 0;
  for (let at = 0; at < options.seconds * 1000; at += tick) {
    await clock.advance(at - clock.now());
    for (const repair of repairs.filter((r) => r.at <= at)) repair.release();
    for (let player = 0; player < options.players; player += 1) {
      aim += 1;
      const key = `fleet/Deployment/ship-${aim % 20}`;
      const target = options.water === true ? undefined : ship(key, 10, Math.floor(aim / 20) % 10);
      const admission = gate.admit({
        playerId: `player-${player}`,
        ...(target === undefined ? {} : { ship: target }),
      });
      if (!admission.admitted) continue;
      admittedAt.push(at);
      perPlayer.set(`player-${player}`, (perPlayer.get(`player-${player}`) ?? 0) + 1);
      repairs.push({ at: at + options.repairMs, release: admission.release });
      worstShipOverCap = Math.max(worstShipOverCap, gate.downCount(key) - 5);
    }
  }
  const worstWindow = Math.max(
    ...admittedAt.map((start) => admittedAt.filter((t) => t >= start && t < start + 1000).length),
  );
  return { admitted: admittedAt.length, perPlayer, worstWindow, worstShipOverCap };
}

describe("exact under bursts: 100 players x 10 clicks a second for 60 s", () => {
  it("admits exactly the game's budget, 3 shots in each of the 60 seconds, and no ship below its cap", async () => {
    const run = await crowd({ players: 100, clicksPerSecond: 10, seconds: 60, repairMs: 4_000 });
    // Clicks come at 0, 100, ..., 59,900 ms. The budget admits 3 at once and 3 more each time the window
    // (now - 1 s, now] empties: at 0, 1,000, ..., 59,000 ms, 60 times. Each player could fire 20 times
    // (0, 3 s, ..., 57 s), 2,000 in all, so the budget is the bound: 60 x 3.
    expect(run.admitted).toBe(60 * 3);
    expect(run.worstWindow).toBe(3);
    expect(Math.max(...run.perPlayer.values())).toBeLessThanOrEqual(20);
    expect(run.worstShipOverCap).toBeLessThanOrEqual(0);
  });

  it("admits exactly the ships' caps when nothing is repaired: 5 of each 10-pod ship, 100 of 200", async () => {
    const run = await crowd({ players: 100, clicksPerSecond: 10, seconds: 60, repairMs: 120_000 });
    // The budget would allow 180; with no pod repaired in the minute, each of the 20 ships stops at
    // floor(10 / 2) = 5 pods down.
    expect(run.admitted).toBe(20 * 5);
    expect(run.worstShipOverCap).toBe(0);
    expect(run.worstWindow).toBe(3);
  });

  it("admits exactly the players' buckets when they fire into water: 20 shots each", async () => {
    const run = await crowd({ players: 100, clicksPerSecond: 10, seconds: 60, repairMs: 0, water: true });
    // One shot at 0 ms, then one each time 3 s of credit have refilled: 0, 3 s, ..., 57 s.
    expect(run.admitted).toBe(100 * (1 + Math.floor(59_900 / 3_000)));
    expect([...run.perPlayer.values()].every((count) => count === 20)).toBe(true);
  });

  it("lets a lone player fire every 3 s, exactly, however fast they click", async () => {
    const run = await crowd({ players: 1, clicksPerSecond: 10, seconds: 60, repairMs: 500 });
    expect(run.admitted).toBe(20);
  });
});

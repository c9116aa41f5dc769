import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../fake-clock.js";
import { cellsPerShipCell } from "./layout.js";
import {
  gameShipKey,
  SeaState,
  type SeaEvent,
  type GridView,
  type NamespaceFacts,
  type PodFacts,
  type ShipView,
  type WorkloadFacts,
  type WorkloadKind,
} from "./sea.js";

/*
 * The sea, told as a game: a fleet is laid out, a torpedo hits a pod, the cluster burns, rebuilds and
 * repairs the cell, and through all of it (and ships coming, going and growing) nothing on the board
 * jumps.
 */

function workload(name: string, replicas: number, kind: WorkloadKind = "Deployment"): WorkloadFacts {
  return { kind, name, replicas };
}

let podCounter = 0;
function pod(owner: string, overrides: Partial<PodFacts> = {}, kind: WorkloadKind = "Deployment"): PodFacts {
  podCounter += 1;
  return {
    name: `${owner}-${podCounter}`,
    uid: `uid-${owner}-${podCounter}`,
    workload: { kind, name: owner },
    phase: "Running",
    ready: true,
    deleting: false,
    createdAt: podCounter,
    ...overrides,
  };
}

function fleet(): NamespaceFacts {
  const workloads = [workload("web", 4), workload("api", 3), workload("db", 2, "StatefulSet")];
  const pods = workloads.flatMap((w) => Array.from({ length: w.replicas }, () => pod(w.name, {}, w.kind)));
  return { namespace: "shop", workloads, pods };
}

function ship(grid: GridView | undefined, name: string): ShipView {
  const found = grid?.ships.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no ship ${name}`);
  return found;
}

function placements(grid: GridView | undefined): Record<string, string> {
  return Object.fromEntries(
    (grid?.ships ?? []).map((s) => [s.key, s.cells.map((cell) => `${cell.row},${cell.col}`).join(" ")]),
  );
}

/** Pairs of ships with cells side by side or corner to corner (the paper game keeps water between). */
function shipsTouching(grid: GridView | undefined): string[] {
  const cells = (grid?.ships ?? []).flatMap((s) => s.cells.map((cell) => ({ key: s.key, ...cell })));
  const owner = new Map(cells.map((cell) => [`${cell.row},${cell.col}`, cell.key]));
  const offsets = [-1, 0, 1].flatMap((dr) => [-1, 0, 1].map((dc) => [dr, dc] as const));
  const touching = cells.flatMap((cell) =>
    offsets
      .map(([dr, dc]) => owner.get(`${cell.row + dr},${cell.col + dc}`) ?? cell.key)
      .filter((neighbour) => neighbour !== cell.key)
      .map((neighbour) => `${cell.key} touches ${neighbour}`),
  );
  return [...new Set(touching)];
}

describe("laying out the fleet", () => {
  it("gives the same grid whatever order the lists come in, and another grid per namespace", () => {
    const facts = fleet();
    const a = new SeaState(new FakeClock());
    a.syncNamespace(facts);
    const b = new SeaState(new FakeClock());
    b.syncNamespace({
      ...facts,
      workloads: [...facts.workloads].reverse(),
      pods: [...facts.pods].reverse(),
    });
    expect(placements(b.grid("shop"))).toEqual(placements(a.grid("shop")));
    expect(ship(a.grid("shop"), "web").cells.map((cell) => cell.pod?.name)).toEqual(
      ship(b.grid("shop"), "web").cells.map((cell) => cell.pod?.name),
    );
  });

  it("makes each ship as long as its replicas, every cell a pod, and keeps water between ships", () => {
    const sea = new SeaState(new FakeClock());
    sea.syncNamespace(fleet());
    const grid = sea.grid("shop");
    expect(grid?.ships.map((s) => [s.key, s.length])).toEqual([
      ["Deployment/api", 3],
      ["Deployment/web", 4],
      ["StatefulSet/db", 2],
    ]);
    expect(sea.census("shop")).toEqual({ intact: 9, burning: 0, rebuilding: 0, repaired: 0 });
    expect(shipsTouching(grid)).toEqual([]);
  });

  it("sizes a square grid with room for water, and at least as wide as the longest ship", () => {
    const sea = new SeaState(new FakeClock());
    const workloads = Array.from({ length: 40 }, (_, index) => workload(`svc-${index}`, 5));
    sea.syncNamespace({ namespace: "big", workloads, pods: [] });
    const side = sea.grid("big")?.side ?? 0;
    expect(side * side).toBeGreaterThanOrEqual(200 * cellsPerShipCell);
    expect(sea.grid("big")?.ships).toHaveLength(40);

    sea.syncNamespace({ namespace: "long", workloads: [workload("wide", 30)], pods: [] });
    expect(sea.grid("long")?.side).toBeGreaterThanOrEqual(30);
    expect(ship(sea.grid("long"), "wide").cells).toHaveLength(30);
  });
});

describe("a hit, burning, rebuilding, repaired", () => {
  it("keeps the cell while its pod dies and its replacement is built, and says how long the repair took", async () => {
    const clock = new FakeClock(1_000);
    const sea = new SeaState(clock);
    const facts = fleet();
    sea.syncNamespace(facts);
    const before = placements(sea.grid("shop"));
    const victim = ship(sea.grid("shop"), "web").cells[1];
    const victimPod = facts.pods.find((p) => p.name === victim?.pod?.name);
    if (victim === undefined || victimPod === undefined) throw new Error("no victim");

    await clock.advance(50);
    sea.upsertPod("shop", { ...victimPod, deleting: true });
    expect(ship(sea.grid("shop"), "web").cells[1]).toMatchObject({ state: "burning", killedAt: 1_050 });

    await clock.advance(20);
    const replacement = pod("web", { ready: false, phase: "Pending", createdAt: 1_070 });
    sea.upsertPod("shop", replacement);
    expect(ship(sea.grid("shop"), "web").cells[1]).toMatchObject({
      state: "burning",
      pod: { name: victimPod.name },
      replacement: { name: replacement.name },
    });

    await clock.advance(100);
    sea.deletePod("shop", victimPod.uid);
    expect(ship(sea.grid("shop"), "web").cells[1]).toMatchObject({
      state: "rebuilding",
      pod: { name: replacement.name },
    });

    await clock.advance(230);
    sea.upsertPod("shop", { ...replacement, ready: true, phase: "Running" });
    expect(ship(sea.grid("shop"), "web").cells[1]).toMatchObject({ state: "repaired", repairedMs: 350 });
    expect(placements(sea.grid("shop"))).toEqual(before);
    expect(sea.census("shop")).toEqual({ intact: 8, burning: 0, rebuilding: 0, repaired: 1 });
  });

  it("counts a repair as done when the replacement is Ready, even while the old pod still terminates", async () => {
    const clock = new FakeClock();
    const sea = new SeaState(clock);
    const web = pod("web");
    sea.syncNamespace({ namespace: "shop", workloads: [workload("web", 1)], pods: [web] });
    sea.upsertPod("shop", { ...web, deleting: true });
    await clock.advance(400);
    sea.upsertPod("shop", pod("web"));
    expect(ship(sea.grid("shop"), "web").cells[0]).toMatchObject({ state: "repaired", repairedMs: 400 });
  });

  it("opens the kill when a pod vanishes without terminating first, and the next pod fills that cell", async () => {
    const clock = new FakeClock();
    const sea = new SeaState(clock);
    const pods = [pod("api"), pod("api"), pod("api")];
    sea.syncNamespace({ namespace: "shop", workloads: [workload("api", 3)], pods });
    const middle = ship(sea.grid("shop"), "api").cells[1];
    sea.deletePod("shop", middle?.pod?.uid ?? "");
    expect(ship(sea.grid("shop"), "api").cells[1]).toMatchObject({ state: "rebuilding", killedAt: 0 });
    expect(ship(sea.grid("shop"), "api").cells[1]?.pod).toBeUndefined();

    await clock.advance(120);
    const newcomer = pod("api");
    sea.upsertPod("shop", newcomer);
    expect(ship(sea.grid("shop"), "api").cells[1]).toMatchObject({
      state: "repaired",
      repairedMs: 120,
      pod: { name: newcomer.name },
    });
  });

  it("gives each replacement the cell that was hit first when two cells burn", async () => {
    const clock = new FakeClock();
    const sea = new SeaState(clock);
    const pods = [pod("web"), pod("web"), pod("web"), pod("web")];
    sea.syncNamespace({ namespace: "shop", workloads: [workload("web", 4)], pods });
    const cells = ship(sea.grid("shop"), "web").cells;
    const third = pods.find((p) => p.uid === cells[2]?.pod?.uid);
    const first = pods.find((p) => p.uid === cells[0]?.pod?.uid);
    if (third === undefined || first === undefined) throw new Error("no pods");
    sea.upsertPod("shop", { ...third, deleting: true });
    await clock.advance(10);
    sea.upsertPod("shop", { ...first, deleting: true });
    const early = pod("web", { ready: false });
    const late = pod("web", { ready: false });
    sea.upsertPod("shop", early);
    sea.upsertPod("shop", late);
    const after = ship(sea.grid("shop"), "web").cells;
    expect(after[2]?.replacement?.name).toBe(early.name);
    expect(after[0]?.replacement?.name).toBe(late.name);
  });

  it("lets a rollout's surge pods wait aside and step into the cells the old pods leave", () => {
    const sea = new SeaState(new FakeClock());
    const old = [pod("web"), pod("web")];
    sea.syncNamespace({ namespace: "shop", workloads: [workload("web", 2)], pods: old });
    const surge = pod("web", { ready: false });
    sea.upsertPod("shop", surge);
    expect(ship(sea.grid("shop"), "web").overflow.map((p) => p.name)).toEqual([surge.name]);
    expect(sea.census("shop").intact).toBe(2);

    const leaving = old[0];
    if (leaving === undefined) throw new Error("no pod");
    const cellOfLeaving = ship(sea.grid("shop"), "web").cells.findIndex(
      (cell) => cell.pod?.uid === leaving.uid,
    );
    sea.upsertPod("shop", { ...leaving, deleting: true });
    const web = ship(sea.grid("shop"), "web");
    expect(web.overflow).toEqual([]);
    expect(web.cells[cellOfLeaving]?.replacement?.name).toBe(surge.name);
  });
});

describe("what the sea tells the others", () => {
  it("reports each kill and each repair, naming the pod that was killed, for the ticker, scores and caps", async () => {
    const clock = new FakeClock(500);
    const events: SeaEvent[] = [];
    const sea = new SeaState(clock, (event) => events.push(event));
    const web = pod("web");
    sea.syncNamespace({ namespace: "shop", workloads: [workload("web", 2)], pods: [web, pod("web")] });
    sea.upsertPod("shop", { ...web, deleting: true });
    await clock.advance(300);
    sea.upsertPod("shop", pod("web"));
    expect(events).toEqual([
      {
        type: "kill",
        namespace: "shop",
        ship: "Deployment/web",
        podUid: web.uid,
        podName: web.name,
        at: 500,
      },
      {
        type: "repaired",
        namespace: "shop",
        ship: "Deployment/web",
        podUid: web.uid,
        killedAt: 500,
        repairedMs: 300,
        at: 800,
      },
    ]);
    expect(gameShipKey("shop", "Deployment/web")).toBe("shop/Deployment/web");
  });

  it("repairs a cell once, from its first kill, when its replacement is hit before it was Ready", async () => {
    const clock = new FakeClock();
    const events: SeaEvent[] = [];
    const sea = new SeaState(clock, (event) => events.push(event));
    const first = pod("api");
    sea.syncNamespace({ namespace: "shop", workloads: [workload("api", 1)], pods: [first] });
    sea.deletePod("shop", first.uid);
    await clock.advance(100);
    const second = pod("api", { ready: false });
    sea.upsertPod("shop", second);
    await clock.advance(100);
    sea.deletePod("shop", second.uid);
    await clock.advance(100);
    sea.upsertPod("shop", pod("api"));
    expect(ship(sea.grid("shop"), "api").cells[0]).toMatchObject({
      state: "repaired",
      killedAt: 0,
      repairedMs: 300,
    });
    expect(
      events.filter((event) => event.type === "repaired").map((event) => [event.podUid, event.repairedMs]),
    ).toEqual([
      [first.uid, 300],
      [second.uid, 100],
    ]);
  });
});

describe("telling the spectators when the grid changes shape", () => {
  it("tells of a grown, new, moved or dropped ship, a wider grid and a new cell's pod, but not of kills or the first layout", async () => {
    const clock = new FakeClock();
    const changed: string[] = [];
    const sea = new SeaState(clock, undefined, (namespace) => changed.push(namespace));
    const pods = [pod("lone"), pod("lone")];
    sea.syncNamespace({ namespace: "calm", workloads: [workload("lone", 2)], pods });
    expect(changed).toEqual([]);

    // A kill and its repair are SeaEvents: no grid change.
    const [first] = pods;
    if (first === undefined) throw new Error("no pod");
    sea.upsertPod("calm", { ...first, deleting: true });
    await clock.advance(100);
    sea.upsertPod("calm", pod("lone"));
    sea.deletePod("calm", first.uid);
    expect(changed).toEqual([]);

    // The ship grows: its new cells are announced, then each new pod as it takes one and comes Ready.
    sea.upsertWorkload("calm", workload("lone", 3));
    expect(changed).toEqual(["calm"]);
    const newcomer = pod("lone", { ready: false });
    sea.upsertPod("calm", newcomer);
    sea.upsertPod("calm", { ...newcomer, ready: true });
    expect(changed).toEqual(["calm", "calm", "calm"]);
    // The same length again, and a workload of no namespace on the board, change nothing.
    sea.upsertWorkload("calm", workload("lone", 3));
    sea.upsertWorkload("elsewhere", workload("lone", 9));
    expect(changed).toHaveLength(3);

    // More ships than the grid holds: it widens, and each arrival is told.
    const side = sea.grid("calm")?.side ?? 0;
    for (let index = 0; index < 12; index += 1) sea.upsertWorkload("calm", workload(`late-${index}`, 4));
    expect(sea.grid("calm")?.side).toBeGreaterThan(side);
    expect(changed).toHaveLength(3 + 12);

    sea.removeWorkload("calm", { kind: "Deployment", name: "late-0" });
    sea.removeWorkload("calm", { kind: "Deployment", name: "never-there" });
    expect(changed).toHaveLength(3 + 12 + 1);
  });
});

describe("a stable board", () => {
  it("moves no ship when others are added or sunk for good", () => {
    const sea = new SeaState(new FakeClock());
    sea.syncNamespace(fleet());
    const web = ship(sea.grid("shop"), "web").cells;
    for (let index = 0; index < 12; index += 1) sea.upsertWorkload("shop", workload(`extra-${index}`, 3));
    sea.removeWorkload("shop", { kind: "Deployment", name: "api" });
    const after = sea.grid("shop");
    expect(ship(after, "web").cells.map(({ row, col }) => [row, col])).toEqual(
      web.map(({ row, col }) => [row, col]),
    );
    expect(after?.ships.some((s) => s.name === "api")).toBe(false);
    expect(after?.ships).toHaveLength(14);
  });

  it("grows a ship at its stern and shrinks it there, keeping the bow where it was", () => {
    const sea = new SeaState(new FakeClock());
    const pods = [pod("lone"), pod("lone")];
    sea.syncNamespace({ namespace: "calm", workloads: [workload("lone", 2)], pods });
    const bow = ship(sea.grid("calm"), "lone").cells[0];
    sea.upsertWorkload("calm", workload("lone", 4));
    const grown = ship(sea.grid("calm"), "lone");
    expect(grown.cells).toHaveLength(4);
    expect(grown.cells[0]).toMatchObject({ row: bow?.row, col: bow?.col, pod: { uid: bow?.pod?.uid } });
    expect(grown.cells.slice(2).map((cell) => cell.state)).toEqual(["rebuilding", "rebuilding"]);
    const newcomer = pod("lone");
    sea.upsertPod("calm", newcomer);
    expect(ship(sea.grid("calm"), "lone").cells[2]).toMatchObject({
      state: "intact",
      pod: { name: newcomer.name },
    });

    sea.upsertWorkload("calm", workload("lone", 1));
    const shrunk = ship(sea.grid("calm"), "lone");
    expect(shrunk.cells).toHaveLength(1);
    expect(shrunk.cells[0]).toMatchObject({ row: bow?.row, col: bow?.col });
    expect(shrunk.overflow).toHaveLength(2);
  });

  it("keeps every cell's coordinates when more ships arrive than the grid holds", () => {
    const sea = new SeaState(new FakeClock());
    sea.syncNamespace({ namespace: "busy", workloads: [workload("first", 3)], pods: [] });
    const side = sea.grid("busy")?.side ?? 0;
    const first = placements(sea.grid("busy"))["Deployment/first"];
    for (let index = 0; index < 30; index += 1) sea.upsertWorkload("busy", workload(`late-${index}`, 4));
    expect(sea.grid("busy")?.side).toBeGreaterThan(side);
    expect(placements(sea.grid("busy"))["Deployment/first"]).toBe(first);
    expect(sea.grid("busy")?.ships).toHaveLength(31);
  });

  it("reconciles a relist without moving anything, and forgets pods the list no longer has", () => {
    const sea = new SeaState(new FakeClock());
    const facts = fleet();
    sea.syncNamespace(facts);
    const before = placements(sea.grid("shop"));
    const gone = facts.pods[0];
    sea.syncNamespace({ ...facts, pods: facts.pods.slice(1) });
    expect(placements(sea.grid("shop"))).toEqual(before);
    expect(sea.census("shop")).toEqual({ intact: 8, burning: 0, rebuilding: 1, repaired: 0 });
    expect(sea.readyPodUids("shop", { kind: "Deployment", name: "web" })).toHaveLength(3);
    expect(sea.readyPodUids("shop", { kind: "Deployment", name: "web" })).not.toContain(gone?.uid);
  });

  it("takes a pod whose workload it has not seen yet, once the workload arrives", () => {
    const sea = new SeaState(new FakeClock());
    sea.syncNamespace({ namespace: "late", workloads: [], pods: [] });
    const early = pod("cache", {}, "DaemonSet");
    sea.upsertPod("late", early);
    sea.upsertWorkload("late", workload("cache", 1, "DaemonSet"));
    expect(ship(sea.grid("late"), "cache").cells[0]?.pod?.uid).toBe(early.uid);

    // A pod waiting for its workload that a relist no longer has is forgotten with the rest.
    const orphan = pod("queue");
    sea.upsertPod("late", orphan);
    sea.syncNamespace({ namespace: "late", workloads: [workload("cache", 1, "DaemonSet")], pods: [early] });
    sea.upsertWorkload("late", workload("queue", 1));
    expect(ship(sea.grid("late"), "queue").cells[0]?.pod).toBeUndefined();
  });
});

describe("where a shot lands", () => {
  it("is water, a ship's pod, a burning cell with nothing to hit, off the grid, or an unknown sea", () => {
    const sea = new SeaState(new FakeClock());
    const facts = fleet();
    sea.syncNamespace(facts);
    const grid = sea.grid("shop");
    const db = ship(grid, "db");
    const cell = db.cells[0];
    if (grid === undefined || cell === undefined) throw new Error("no grid");

    expect(sea.resolveShot("shop", cell.row, cell.col)).toMatchObject({
      kind: "ship",
      ship: { kind: "StatefulSet", name: "db", key: "StatefulSet/db" },
      cell: { index: 0, state: "intact" },
      target: { uid: cell.pod?.uid },
    });

    const occupied = new Set(grid.ships.flatMap((s) => s.cells.map((c) => `${c.row},${c.col}`)));
    const water = Array.from({ length: grid.side * grid.side }, (_, i) => i).find(
      (i) => !occupied.has(`${Math.floor(i / grid.side)},${i % grid.side}`),
    );
    const waterRow = Math.floor((water ?? 0) / grid.side);
    expect(sea.resolveShot("shop", waterRow, (water ?? 0) % grid.side)).toMatchObject({ kind: "water" });

    const victim = facts.pods.find((p) => p.uid === cell.pod?.uid);
    if (victim === undefined) throw new Error("no victim");
    sea.upsertPod("shop", { ...victim, deleting: true });
    expect(sea.resolveShot("shop", cell.row, cell.col)).toMatchObject({
      kind: "ship",
      cell: { state: "burning" },
      target: undefined,
    });

    expect(sea.resolveShot("shop", grid.side, 0)).toEqual({
      kind: "off-grid",
      namespace: "shop",
      side: grid.side,
    });
    expect(sea.resolveShot("shop", 0.5, 0)).toMatchObject({ kind: "off-grid" });
    expect(sea.resolveShot("kube-system", 0, 0)).toEqual({
      kind: "unknown-namespace",
      namespace: "kube-system",
    });

    // Events of a namespace the game does not hold, or has left, never put it on the board.
    sea.upsertWorkload("kube-system", workload("coredns", 2));
    sea.upsertPod("kube-system", pod("coredns"));
    sea.removeNamespace("shop");
    sea.upsertPod("shop", pod("web"));
    expect(sea.namespaces()).toEqual([]);
  });

  it("lists a ship's Ready pods that are not terminating, for its cap", () => {
    const sea = new SeaState(new FakeClock());
    const pods = [pod("api"), pod("api"), pod("api", { ready: false })];
    sea.syncNamespace({ namespace: "shop", workloads: [workload("api", 3)], pods });
    const first = pods[0];
    if (first === undefined) throw new Error("no pod");
    sea.upsertPod("shop", { ...first, deleting: true });
    expect(sea.readyPodUids("shop", { kind: "Deployment", name: "api" })).toEqual([pods[1]?.uid]);
    expect(sea.readyPodUids("shop", { kind: "Deployment", name: "nope" })).toEqual([]);
  });
});

/** A small seeded PRNG (mulberry32): the storm below is the same on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Every place a pod is shown: each uid must be in one at most. */
function podPlaces(grid: GridView | undefined): string[] {
  return (grid?.ships ?? [])
    .flatMap((s) => [
      ...s.cells.flatMap((cell) => [cell.pod?.uid, cell.replacement?.uid]),
      ...s.overflow.map((p) => p.uid),
    ])
    .filter((uid): uid is string => uid !== undefined);
}

/** One random event of the storm, on ships named a..h and the pods seen so far (`alive`). */
function stormStep(sea: SeaState, alive: Map<string, PodFacts>, random: () => number): void {
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
  const name = pick(["a", "b", "c", "d", "e", "f", "g", "h"]) ?? "a";
  const someone = pick([...alive.values()]);
  const change = (updated: PodFacts): void => {
    alive.set(updated.uid, updated);
    sea.upsertPod("storm", updated);
  };
  const roll = random();
  if (roll < 0.05) sea.upsertWorkload("storm", workload(name, Math.floor(random() * 7)));
  else if (roll < 0.07) sea.removeWorkload("storm", { kind: "Deployment", name });
  else if (roll < 0.4) change(pod(name, { ready: random() < 0.5 }));
  else if (someone === undefined) return;
  else if (roll < 0.6) change({ ...someone, deleting: true });
  else if (roll < 0.8) {
    alive.delete(someone.uid);
    sea.deletePod("storm", someone.uid);
  } else change({ ...someone, ready: true });
}

/** What no event may break: ships apart and on the grid, a pod in one place, a ship of the same length unmoved. */
function stormProblems(before: GridView | undefined, after: GridView | undefined): string[] {
  const places = podPlaces(after);
  const problems = [...shipsTouching(after)];
  if (new Set(places).size !== places.length) problems.push("a pod is shown twice");
  for (const s of after?.ships ?? []) problems.push(...shipProblems(before, s, after?.side ?? 0));
  return problems;
}

function shipProblems(before: GridView | undefined, s: ShipView, side: number): string[] {
  const problems: string[] = [];
  if (s.cells.some((cell) => cell.row >= side || cell.col >= side)) problems.push(`${s.key} is off the grid`);
  const earlier = before?.ships.find((candidate) => candidate.key === s.key);
  const sameLength = earlier !== undefined && earlier.length === s.length;
  if (sameLength && !isDeepStrictEqual(earlier.placement, s.placement)) problems.push(`${s.key} moved`);
  return problems;
}

describe("a storm of random events", () => {
  it("never overlaps ships, never shows a pod twice, and moves no ship whose length stayed", () => {
    const random = seeded(11);
    const sea = new SeaState(new FakeClock());
    const workloads = ["a", "b", "c", "d"].map((name) => workload(name, 3));
    sea.syncNamespace({ namespace: "storm", workloads, pods: [] });
    const alive = new Map<string, PodFacts>();
    const problems: string[] = [];
    for (let step = 0; step < 2_000; step += 1) {
      const before = sea.grid("storm");
      stormStep(sea, alive, random);
      problems.push(...stormProblems(before, sea.grid("storm")).map((problem) => `step ${step}: ${problem}`));
    }
    expect(problems).toEqual([]);
    // The storm did what it is for: ships were hit, rebuilt and repaired along the way.
    expect(sea.grid("storm")?.ships.length).toBeGreaterThan(3);
  });
});

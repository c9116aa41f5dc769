import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import type { LedgerDraft, LedgerRecord } from "../core/ledger/record.js";
import { ABSENT } from "../core/ledger/record.js";
import { recoverExpired } from "../core/ledger/recovery.js";
import { ConflictError, type LedgerStore } from "../core/ledger/store.js";
import { podKill } from "../faults/pod-kill.js";
import { memoryEngine, memoryEpoch as t0, type MemoryEngine } from "./memory-engine.js";
import { runPodChaos, type PodChaosRequest } from "./pod-chaos.js";
import { putShop, webPod } from "./shop-fixture.js";

/**
 * Volleys (ADR 0016): a run that shoots many pods writes one ledger record per volley of up to 50 pods of
 * one namespace, before any of their shots, instead of one record per pod.
 */

const killAll: PodChaosRequest = {
  fault: podKill,
  scope: ["shop"],
  selector: { labelSelector: "app=web" },
  mode: { kind: "all" },
  dryRun: false,
  wait: false,
  timeout: Duration.parse("30s", "--timeout"),
};

/** The shop with `count` web pods (web-abc-1...), the blast-radius cap lifted so all may go. */
function shopOf(count: number): MemoryEngine {
  const engine = memoryEngine({ unsafe: true });
  putShop(engine);
  for (let n = 5; n <= count; n += 1) engine.cluster.put(webPod(`web-abc-${String(n)}`));
  return engine;
}

function listedPods(records: readonly LedgerRecord[]): Set<string> {
  return new Set(records.flatMap((record) => (record.volley ?? [record.target]).map((pod) => pod.name)));
}

describe("a run over many pods shoots in volleys, one ledger record each", () => {
  it("writes one record per 50 pods, each listing its pods before any of them is shot", async () => {
    const engine = shopOf(120);
    const unrecordedShots: string[] = [];
    const recordsAtFirstShot: number[] = [];
    engine.cluster.beforeWrite = async (write) => {
      const records = await engine.ledger.list();
      recordsAtFirstShot.push(records.length);
      const name = write.replace("delete shop/", "");
      if (!listedPods(records).has(name)) unrecordedShots.push(write);
    };

    const result = await runPodChaos(engine.ctx, killAll);

    expect(result.shots).toHaveLength(120);
    expect(result.shots.every((shot) => shot.outcome.accepted)).toBe(true);
    // The safety rule: every DELETE found its pod in the ledger already.
    expect(unrecordedShots).toEqual([]);
    const records = await engine.ledger.list();
    expect(records.map((record) => record.volley?.length ?? 1).sort((a, b) => a - b)).toEqual([20, 50, 50]);
    expect(new Set(result.shots.map((shot) => shot.ledgerId)).size).toBe(3);
    // Streaming: the first DELETE followed the first volleys' records, not all of them.
    expect(recordsAtFirstShot[0]).toBeLessThanOrEqual(2);
    // 120 DELETEs and 6 ledger writes, where one record per pod took 360.
    expect(engine.cluster.writes).toHaveLength(120);
  });

  it("closes a volley with each pod's outcome, and the tally in its own", async () => {
    const engine = shopOf(12);
    engine.cluster.refusals.set("delete shop/web-abc-3", new Error("connection reset"));
    const result = await runPodChaos(engine.ctx, killAll);

    const [record] = await engine.ledger.list();
    expect(record).toMatchObject({
      state: "closed",
      faultKind: "pod-kill",
      target: { kind: "Pod", namespace: "shop", name: "web-abc-1" },
      outcome: {
        kind: "target-gone",
        at: t0,
        detail: "pod-kill volley: 12 pods, 11 target-gone, 1 never-applied",
      },
    });
    expect(record?.volley).toHaveLength(12);
    expect(record?.volley?.find((pod) => pod.name === "web-abc-3")).toEqual({
      name: "web-abc-3",
      uid: expect.any(String) as unknown,
      outcome: {
        kind: "never-applied",
        at: t0,
        detail: expect.stringContaining("connection reset") as unknown,
      },
    });
    expect(result.shots.filter((shot) => !shot.outcome.accepted)).toHaveLength(1);
  });

  it("closes a volley of which no shot was accepted as never applied", async () => {
    const engine = shopOf(4);
    for (const n of [1, 2, 3, 4])
      engine.cluster.refusals.set(`delete shop/web-abc-${String(n)}`, new Error("no"));
    await runPodChaos(engine.ctx, killAll);
    const [record] = await engine.ledger.list();
    expect(record?.outcome).toMatchObject({ kind: "never-applied" });
  });

  it("draws a new id when a record's id is taken already, rather than failing the run", async () => {
    const engine = shopOf(4);
    const taken: string[] = [];
    const ledger: LedgerStore = {
      create: (draft) => {
        if (taken.length === 0) {
          taken.push(draft.id);
          return Promise.reject(new ConflictError(`ledger record ${draft.id} already exists`));
        }
        return engine.ledger.create(draft);
      },
      update: (record) => engine.ledger.update(record),
      get: (id) => engine.ledger.get(id),
      list: (filter) => engine.ledger.list(filter),
      prune: (options) => engine.ledger.prune(options),
    };
    const result = await runPodChaos({ ...engine.ctx, ledger }, killAll);
    expect(result.shots).toHaveLength(4);
    const [record] = await engine.ledger.list();
    expect(record?.id).not.toBe(taken[0]);
    expect(record?.volley).toHaveLength(4);
  });

  it("keeps one plain record for a run of one pod, as before volleys", async () => {
    const engine = shopOf(4);
    const result = await runPodChaos(engine.ctx, { ...killAll, mode: { kind: "one" } });
    const records = await engine.ledger.list();
    expect(records).toHaveLength(1);
    expect(records[0]?.volley).toBeUndefined();
    expect(records[0]?.target.uid).toBe(result.shots[0]?.pod.uid);
  });

  it("stops between volleys once the kill switch is held, after the volleys in flight", async () => {
    const engine = shopOf(300);
    let shots = 0;
    engine.cluster.beforeWrite = async () => {
      shots += 1;
      // Each DELETE takes 3 s; the switch is held during the first two volleys, and read again at 6 s.
      if (shots === 100) await engine.halt.hold({ since: t0, by: "oncall@laptop", reason: "incident 42" });
      await engine.clock.sleep(3_000);
    };
    const running = runPodChaos(engine.ctx, killAll);
    const refused = expect(running).rejects.toMatchObject({ code: "BRD_HALTED" });
    await engine.clock.advance(60_000);
    await refused;
    expect(engine.cluster.writes).toHaveLength(200);
    // Nothing left open: every volley that started was closed.
    expect(await engine.ledger.list({ state: "open" })).toEqual([]);
  });
});

describe("recovery of a volley a crash left open", () => {
  /** A pending volley over web-abc-1..4, as the engine writes it before the first shot. */
  async function pendingVolley(engine: MemoryEngine): Promise<LedgerRecord> {
    const pods = await engine.ctx.podFacts.gather(["shop"]);
    const facts = pods.facts
      .filter((pod) => pod.name.startsWith("web-abc-"))
      .sort((a, b) => a.name.localeCompare(b.name));
    const [first] = facts;
    if (first === undefined) throw new Error("no pods");
    const draft: LedgerDraft = {
      id: "20250601t120000-abcdef",
      faultKind: "pod-kill",
      target: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: first.name, uid: first.uid },
      path: "/metadata/uid",
      original: first.uid,
      injected: ABSENT,
      sensitive: false,
      createdAt: t0,
      deadline: t0 + 30_000,
      actor: { user: "tester", host: "memory", pid: 1 },
      state: "pending",
      volley: facts.map((pod) => ({ name: pod.name, uid: pod.uid })),
    };
    return engine.ledger.create(draft);
  }

  it("closes it with what became of each pod: gone, or never shot", async () => {
    const engine = shopOf(4);
    const record = await pendingVolley(engine);
    // The process died after two of the four DELETEs.
    engine.cluster.remove("Pod", "shop", "web-abc-1");
    engine.cluster.remove("Pod", "shop", "web-abc-2");

    const [summary] = await recoverExpired(engine.ledger, engine.ctx.targets, engine.clock, {
      includeUnexpired: true,
    });

    expect(summary).toMatchObject({
      id: record.id,
      result: "target-gone",
      detail: "volley found open: 4 pods, 2 target-gone, 2 never-applied",
    });
    const closed = await engine.ledger.get(record.id);
    expect(closed?.volley?.map((pod) => [pod.name, pod.outcome?.kind])).toEqual([
      ["web-abc-1", "target-gone"],
      ["web-abc-2", "target-gone"],
      ["web-abc-3", "never-applied"],
      ["web-abc-4", "never-applied"],
    ]);
    // Recovery shoots nothing: a pod kill has nothing to put back.
    expect(engine.cluster.writes).toEqual([]);
  });

  it("closes it as never applied when the process died before any shot", async () => {
    const engine = shopOf(4);
    const record = await pendingVolley(engine);
    const [summary] = await recoverExpired(engine.ledger, engine.ctx.targets, engine.clock, {
      includeUnexpired: true,
    });
    expect(summary).toMatchObject({ id: record.id, result: "never-applied" });
    expect(await engine.ledger.list({ state: "open" })).toEqual([]);
  });
});

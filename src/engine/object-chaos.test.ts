import { cliParamNames } from "../faults/plan-support.js";
import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import { configDrift } from "../faults/config-drift.js";
import { memoryEngine, memoryEpoch as t0, type MemoryEngine } from "./memory-engine.js";
import { runObjectChaos, type ObjectChaosOptions } from "./object-chaos.js";

const minute = 60_000;

function configMap(data: Record<string, string>) {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: "shop", name: "app" }, data };
}

/** Namespace shop with ConfigMap app; the two changes config-drift plans for it, from its real plan. */
async function drifted(engine: MemoryEngine, annotations: Record<string, string> = {}) {
  const { cluster } = engine;
  cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop", annotations } });
  cluster.put(configMap({ LOG_LEVEL: "info", MODE: "prod" }));
  const target = { namespace: "shop", kind: "configmap", name: "app" } as const;
  return [
    ...(await configDrift.plan(cluster, { ...target, key: "LOG_LEVEL", value: "debug" }, cliParamNames)),
    ...(await configDrift.plan(cluster, { ...target, key: "MODE", value: "chaos" }, cliParamNames)),
  ];
}

function dataOf(engine: MemoryEngine): unknown {
  return engine.cluster.get("ConfigMap", "shop", "app")?.data;
}

function options(overrides: Partial<ObjectChaosOptions> = {}): ObjectChaosOptions {
  return {
    duration: Duration.parse("5m", "--duration"),
    dryRun: false,
    wait: false,
    stop: new Promise<void>(() => undefined),
    ...overrides,
  };
}

/** "path: outcome" per record (or its state while open), by path. */
async function outcomes(engine: MemoryEngine): Promise<string[]> {
  const records = await engine.ledger.list();
  return records.map((record) => `${record.path}: ${record.outcome?.kind ?? record.state}`).sort();
}

describe("the life of an object fault", () => {
  it("writes each record before its change, applies the change, then marks the record active", async () => {
    const engine = memoryEngine();
    const changes = await drifted(engine);
    const atPatch: LedgerRecord[][] = [];
    engine.cluster.beforeWrite = async () => {
      atPatch.push([...(await engine.ledger.list())]);
    };
    const result = await runObjectChaos(engine.ctx, changes, options());

    // Records created in the same millisecond list in no particular order: sorted here by path.
    expect(
      atPatch.map((records) => records.map((record) => `${record.path} ${record.state}`).sort()),
    ).toEqual([["/data/LOG_LEVEL pending"], ["/data/LOG_LEVEL active", "/data/MODE pending"]]);
    expect(result.records.map((record) => record.state)).toEqual(["active", "active"]);
    expect(dataOf(engine)).toEqual({ LOG_LEVEL: "debug", MODE: "chaos" });
    expect(engine.failpoints).toEqual(["record-written", "applied", "record-written", "applied", "injected"]);
    expect(result.records.every((record) => record.deadline === t0 + 5 * minute)).toBe(true);
  });

  it("writes nothing on a dry run", async () => {
    const engine = memoryEngine();
    const changes = await drifted(engine);
    const result = await runObjectChaos(engine.ctx, changes, options({ dryRun: true }));
    expect(result).toEqual({ changes, records: [], recovery: [] });
    expect(engine.cluster.writes).toEqual([]);
    expect(await engine.ledger.list()).toEqual([]);
  });

  it("refuses a namespace that has not opted in, before anything is written", async () => {
    const engine = memoryEngine({ optIn: true });
    const changes = await drifted(engine);
    await expect(runObjectChaos(engine.ctx, changes, options())).rejects.toMatchObject({
      code: "BRD_REFUSED_BY_RAIL",
    });
    expect(engine.cluster.writes).toEqual([]);
    expect(await engine.ledger.list()).toEqual([]);
  });

  it("on a failed apply, closes that record as never applied and reverts what was applied", async () => {
    const engine = memoryEngine();
    const changes = await drifted(engine);
    // Someone else changes MODE between the plan and the apply: its JSON Patch test fails (422).
    engine.cluster.beforeWrite = (write) => {
      if (engine.cluster.writes.length === 2 && write.startsWith("patch")) {
        engine.cluster.put(configMap({ LOG_LEVEL: "debug", MODE: "staging" }));
      }
      return Promise.resolve();
    };
    const failure = await runObjectChaos(engine.ctx, changes, options()).catch((error: unknown) => error);

    expect(failure).toMatchObject({
      code: "BRD_CONFLICT",
      message: `${changes[1]?.description ?? ""}: not applied, the object changed meanwhile; nothing was written`,
    });
    expect(await outcomes(engine)).toEqual(["/data/LOG_LEVEL: reverted", "/data/MODE: never-applied"]);
    expect(dataOf(engine)).toEqual({ LOG_LEVEL: "info", MODE: "staging" });
  });

  it.each([
    ["the API server does not answer", unreachable(), "BRD_KUBE_UNREACHABLE"],
    ["the API forbids the write", new ApiException(403, "Forbidden", "{}", {}), "BRD_KUBE_FORBIDDEN"],
    ["the API fails the write", new ApiException(500, "Internal", "{}", {}), "BRD_KUBE_API"],
  ])("keeps the failure's own code, not BRD_CONFLICT, when %s", async (_, error, code) => {
    const engine = memoryEngine();
    const changes = await drifted(engine);
    engine.cluster.failPatches = error;
    const failure = await runObjectChaos(engine.ctx, changes, options()).catch((caught: unknown) => caught);
    expect(failure).toMatchObject({ code, cause: error });
    expect((failure as Error).message).toMatch(/^configmap shop\/app data\.LOG_LEVEL: .*: not applied/);
    expect(await outcomes(engine)).toEqual(["/data/LOG_LEVEL: never-applied"]);
    expect(dataOf(engine)).toEqual({ LOG_LEVEL: "info", MODE: "prod" });
  });

  it("reverts at the deadline when waiting", async () => {
    const engine = memoryEngine();
    const running = runObjectChaos(engine.ctx, await drifted(engine), options({ wait: true }));
    await engine.clock.advance(5 * minute - 1);
    expect(dataOf(engine)).toEqual({ LOG_LEVEL: "debug", MODE: "chaos" });
    await engine.clock.advance(1);
    const result = await running;
    expect(result.recovery.map((summary) => [summary.result, summary.at])).toEqual([
      ["reverted", t0 + 5 * minute],
      ["reverted", t0 + 5 * minute],
    ]);
    expect(dataOf(engine)).toEqual({ LOG_LEVEL: "info", MODE: "prod" });
  });

  it("reverts at once when asked to stop early", async () => {
    const engine = memoryEngine();
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const running = runObjectChaos(engine.ctx, await drifted(engine), options({ wait: true, stop: stopped }));
    await engine.clock.advance(minute);
    stop();
    const result = await running;
    expect(result.recovery.map((summary) => [summary.result, summary.at])).toEqual([
      ["reverted", t0 + minute],
      ["reverted", t0 + minute],
    ]);
    expect(dataOf(engine)).toEqual({ LOG_LEVEL: "info", MODE: "prod" });
  });

  it("records a heal by someone else when it happened and by whom, and leaves their value", async () => {
    const engine = memoryEngine();
    const running = runObjectChaos(engine.ctx, await drifted(engine), options({ wait: true }));
    await engine.clock.advance(2 * minute);
    const patchesBefore = engine.cluster.writes.length;
    // A GitOps reconciler puts the file's values back; the fault ends without waiting for its deadline.
    engine.cluster.put(configMap({ LOG_LEVEL: "info", MODE: "prod" }), "kustomize-controller");
    const result = await running;
    expect(result.recovery).toMatchObject([
      { result: "healed-externally", at: t0 + 2 * minute, by: "kustomize-controller" },
      { result: "healed-externally", at: t0 + 2 * minute, by: "kustomize-controller" },
    ]);
    expect(engine.cluster.writes).toHaveLength(patchesBefore);
    expect(engine.clock.now()).toBe(t0 + 2 * minute);
  });
});

describe("the kill switch: while it is held, no object is changed", () => {
  it("refuses the fault with BRD_HALTED before any record or change, and reverts go on", async () => {
    const engine = memoryEngine();
    const changes = await drifted(engine);
    // A drift made before the hold is still reverted at its deadline: the switch stops new chaos only.
    const before = runObjectChaos(engine.ctx, changes.slice(0, 1), options({ wait: true }));
    await engine.clock.advance(0);
    await engine.halt.hold({ by: "oncall@laptop", reason: "" });
    await expect(runObjectChaos(engine.ctx, changes.slice(1), options())).rejects.toMatchObject({
      code: "BRD_HALTED",
    });
    expect(dataOf(engine)).toEqual({ LOG_LEVEL: "debug", MODE: "prod" });
    await engine.clock.advance(5 * minute);
    expect((await before).recovery).toMatchObject([{ result: "reverted" }]);
    expect(dataOf(engine)).toEqual({ LOG_LEVEL: "info", MODE: "prod" });
    expect(await outcomes(engine)).toEqual(["/data/LOG_LEVEL: reverted"]);
  });
});

function unreachable(): Error {
  return Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });
}

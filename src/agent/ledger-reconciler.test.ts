import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import type { RecoverySummary } from "../core/ledger/recovery.js";
import { runObjectChaos } from "../engine/object-chaos.js";
import { memoryEngine, type MemoryEngine } from "../engine/memory-engine.js";
import { configDrift } from "../faults/config-drift.js";
import { cliParamNames } from "../faults/plan-support.js";
import { ledgerReconciler } from "./ledger-reconciler.js";

const minute = 60_000;

/** A drift of shop/app's LOG_LEVEL for `duration`, injected by a command that did not wait (--no-wait). */
async function detachedDrift(engine: MemoryEngine, duration: string): Promise<void> {
  engine.cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  engine.cluster.put({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { namespace: "shop", name: "app" },
    data: { LOG_LEVEL: "info" },
  });
  const changes = await configDrift.plan(
    engine.cluster,
    { namespace: "shop", kind: "configmap", name: "app", key: "LOG_LEVEL", value: "debug" },
    cliParamNames,
  );
  await runObjectChaos(engine.ctx, changes, {
    duration: Duration.parse(duration, "--duration"),
    dryRun: false,
    wait: false,
    stop: new Promise<void>(() => undefined),
  });
}

function reconcilerOf(
  engine: MemoryEngine,
  recovered: RecoverySummary[] = [],
  resyncMs = minute,
  watchedNamespaces: readonly string[] | "all" = "all",
) {
  return ledgerReconciler({
    ledger: engine.ledger,
    targets: engine.ctx.targets,
    clock: engine.clock,
    resyncMs,
    watchedNamespaces,
    onRecovered: (summary) => recovered.push(summary),
    onOpen: () => undefined,
  });
}

const logLevel = (engine: MemoryEngine) => engine.cluster.get("ConfigMap", "shop", "app")?.data;

describe("the ledger reconciler: the leader reverts every record at its deadline, whoever wrote it", () => {
  it("leaves a record before its deadline and asks to look again exactly then", async () => {
    const engine = memoryEngine();
    await detachedDrift(engine, "30s");
    const result = await reconcilerOf(engine)();
    expect(result).toEqual({ requeueAfterMs: 30_000 });
    expect(logLevel(engine)).toEqual({ LOG_LEVEL: "debug" });
  });

  it("reverts it once the deadline has passed, and reports what it did", async () => {
    const engine = memoryEngine();
    await detachedDrift(engine, "30s");
    const recovered: RecoverySummary[] = [];
    await engine.clock.advance(30_000);
    const result = await reconcilerOf(engine, recovered)();
    expect(logLevel(engine)).toEqual({ LOG_LEVEL: "info" });
    expect(recovered.map((summary) => summary.result)).toEqual(["reverted"]);
    // Nothing open: the next look is the resync.
    expect(result).toEqual({ requeueAfterMs: minute });
  });

  it("looks again at least every resync, however far the next deadline", async () => {
    const engine = memoryEngine();
    await detachedDrift(engine, "2h");
    expect(await reconcilerOf(engine, [], 5 * minute)()).toEqual({ requeueAfterMs: 5 * minute });
  });

  it("fails the pass when a revert fails, so the queue retries it with backoff", async () => {
    const engine = memoryEngine();
    await detachedDrift(engine, "30s");
    await engine.clock.advance(30_000);
    engine.cluster.failPatches = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    await expect(reconcilerOf(engine)()).rejects.toThrow(/a revert failed: .*ECONNREFUSED/);
    expect(logLevel(engine)).toEqual({ LOG_LEVEL: "debug" });
  });

  it("in namespaced mode, leaves records of other namespaces to a process that may act there", async () => {
    const engine = memoryEngine();
    await detachedDrift(engine, "30s");
    await engine.clock.advance(30_000);
    const recovered: RecoverySummary[] = [];
    // Without rights in shop, a revert could only meet 403 on every pass; it is not even tried.
    const result = await reconcilerOf(engine, recovered, minute, ["payments"])();
    expect(recovered).toEqual([]);
    expect(logLevel(engine)).toEqual({ LOG_LEVEL: "debug" });
    expect(await engine.ledger.list({ state: "open" })).toHaveLength(1);
    // Its passed deadline does not make the agent look again at once: the next look is the resync.
    expect(result).toEqual({ requeueAfterMs: minute });
    await reconcilerOf(engine, recovered, minute, ["payments", "shop"])();
    expect(recovered.map((summary) => summary.result)).toEqual(["reverted"]);
  });
});

describe("the ledger reconciler tells the active-faults gauge of every pod of an open volley", () => {
  it("counts a volley record once per pod it lists", async () => {
    const engine = memoryEngine();
    const pod = (name: string) => ({ name, uid: `uid-${name}` });
    await engine.ledger.create({
      id: "20250601t120000-abcdef",
      faultKind: "pod-kill",
      target: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-1", uid: "uid-web-1" },
      path: "/metadata/uid",
      original: "uid-web-1",
      injected: { absent: true },
      sensitive: false,
      createdAt: engine.clock.now(),
      deadline: engine.clock.now() + minute,
      actor: { user: "tester", host: "memory", pid: 1 },
      state: "pending",
      volley: [pod("web-1"), pod("web-2"), pod("web-3")],
    });
    const told: string[][] = [];
    await ledgerReconciler({
      ledger: engine.ledger,
      targets: engine.ctx.targets,
      clock: engine.clock,
      resyncMs: minute,
      watchedNamespaces: "all",
      onRecovered: () => undefined,
      onOpen: (open) => told.push(open.map((record) => record.faultKind)),
    })();
    expect(told).toEqual([["pod-kill", "pod-kill", "pod-kill"]]);
  });
});

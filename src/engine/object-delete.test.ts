import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import { recoverExpired } from "../core/ledger/recovery.js";
import type { OpenRecord } from "../core/ledger/record.js";
import { planObjectDelete } from "../faults/object-delete.js";
import { cliParamNames } from "../faults/plan-support.js";
import type { PlannedChange } from "../faults/types.js";
import { creatorOf, restorable } from "../kube/deleted-object-access.js";
import { memoryEngine, memoryEpoch as t0, type MemoryEngine } from "./memory-engine.js";
import { ledgerDraft, runObjectChaos, type ObjectChaosOptions } from "./object-chaos.js";

/**
 * A deleted ConfigMap (a duel's `delete` attack, issue 13): its record keeps the whole object, the engine
 * deletes it after the record is written, and whoever recreates it first is measured: a GitOps
 * reconciler (a heal, by its field manager), else Broadside's revert, also after a crash.
 */

const appConfig = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    namespace: "shop",
    name: "app",
    labels: { "kustomize.toolkit.fluxcd.io/name": "fleet" },
    annotations: { note: "kept" },
  },
  data: { LOG_LEVEL: "info", MODE: "prod" },
};

async function planned(engine: MemoryEngine): Promise<PlannedChange[]> {
  engine.cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  engine.cluster.put(appConfig, "kustomize-controller");
  return planObjectDelete(
    engine.cluster,
    { namespace: "shop", kind: "configmap", name: "app" },
    cliParamNames,
  );
}

function options(overrides: Partial<ObjectChaosOptions> = {}): ObjectChaosOptions {
  return {
    duration: Duration.parse("30s", "--duration"),
    dryRun: false,
    wait: true,
    stop: new Promise<void>(() => undefined),
    ...overrides,
  };
}

function current(engine: MemoryEngine) {
  return engine.cluster.get("ConfigMap", "shop", "app");
}

/** A record written as the engine writes it, and left as a crash would leave it. */
async function crashedRecord(engine: MemoryEngine, change: PlannedChange): Promise<OpenRecord> {
  const record = await engine.ledger.create(ledgerDraft(change, t0, t0 + 30_000, engine.ctx.actor));
  if (record.state === "closed") throw new Error("a new record is open");
  return record;
}

function recover(engine: MemoryEngine) {
  return recoverExpired(engine.ledger, engine.ctx.targets, engine.clock, { includeUnexpired: true });
}

describe("planning the delete of a ConfigMap", () => {
  it("keeps the whole object without the metadata the API server sets", async () => {
    const engine = memoryEngine();
    const [change] = await planned(engine);
    expect(change).toMatchObject({
      faultKind: "object-delete",
      path: "/",
      injected: { absent: true },
      target: { kind: "ConfigMap", namespace: "shop", name: "app" },
    });
    expect(change?.target.uid).toBe((current(engine)?.metadata as { uid: string }).uid);
    expect(change?.original).toEqual(appConfig);
    expect(change?.description).toBe(
      "configmap shop/app: deleted (2 data key(s), kept in the ledger to recreate)",
    );
    expect(engine.cluster.writes).toEqual([]);
  });

  it("refuses a kind other than configmap, and a missing object, naming the parameter", async () => {
    const engine = memoryEngine();
    await planned(engine);
    const names = (param: string | undefined) => `spec.attacks[0].params.${param ?? ""}`;
    await expect(
      planObjectDelete(engine.cluster, { namespace: "shop", kind: "secret", name: "app" }, names),
    ).rejects.toThrow(/spec\.attacks\[0\]\.params\.kind/);
    await expect(
      planObjectDelete(engine.cluster, { namespace: "shop", kind: "configmap", name: "gone" }, names),
    ).rejects.toThrow(/spec\.attacks\[0\]\.params\.name: configmap shop\/gone not found/);
  });

  it("strips server metadata and status, and names the creator from managedFields", () => {
    const object = {
      metadata: {
        name: "a",
        uid: "u",
        resourceVersion: "7",
        creationTimestamp: "2026-01-01T00:00:00Z",
        managedFields: [
          { manager: "kube-controller-manager", subresource: "status" },
          { manager: "kustomize-controller", operation: "Apply" },
          { manager: "kubectl", operation: "Update" },
        ],
      },
      status: { x: 1 },
      data: { k: "v" },
    };
    expect(restorable(object)).toEqual({ metadata: { name: "a" }, data: { k: "v" } });
    expect(creatorOf(object)).toBe("kustomize-controller");
    expect(creatorOf({ metadata: { name: "a" } })).toBeUndefined();
  });
});

describe("the life of a deleted ConfigMap", () => {
  it("deletes after the record is written, and Broadside's revert recreates it at the deadline", async () => {
    const engine = memoryEngine();
    const changes = await planned(engine);
    const oldUid = changes[0]?.target.uid;
    const atDelete: string[] = [];
    engine.cluster.beforeWrite = async (write) => {
      const records = await engine.ledger.list();
      atDelete.push(`${write}: ${records.map((record) => record.state).join(",")}`);
    };
    const running = runObjectChaos(engine.ctx, changes, options());
    await engine.clock.advance(0);
    expect(current(engine)).toBeUndefined();
    await engine.clock.advance(30_000);
    const result = await running;

    expect(atDelete).toEqual(["delete ConfigMap shop/app: pending", "create ConfigMap shop/app: active"]);
    expect(result.recovery).toMatchObject([{ result: "reverted" }]);
    const back = current(engine);
    expect(restorable(back ?? {})).toEqual(appConfig);
    expect((back?.metadata as { uid: string }).uid).not.toBe(oldUid);
    expect(creatorOf(back ?? {})).toBe("broadside");
    expect(await engine.ledger.list({ state: "open" })).toEqual([]);
  });

  it("measures a GitOps recreation from the watch: who and when, and Broadside creates nothing", async () => {
    const engine = memoryEngine();
    const changes = await planned(engine);
    const running = runObjectChaos(engine.ctx, changes, options());
    await engine.clock.advance(0);
    await engine.clock.advance(7000);
    engine.cluster.put(appConfig, "kustomize-controller");
    const result = await running;

    expect(result.recovery).toMatchObject([
      {
        result: "healed-externally",
        by: "kustomize-controller",
        at: t0 + 7000,
        detail: "/ was restored to the original value by someone else",
      },
    ]);
    expect(engine.cluster.writes).toEqual(["delete ConfigMap shop/app"]);
    expect(creatorOf(current(engine) ?? {})).toBe("kustomize-controller");
  });

  it("refuses to delete an object changed since it was planned, and writes nothing", async () => {
    const engine = memoryEngine();
    const changes = await planned(engine);
    engine.cluster.put({ ...appConfig, data: { LOG_LEVEL: "debug" } }, "kubectl");
    await expect(runObjectChaos(engine.ctx, changes, options())).rejects.toMatchObject({
      code: "BRD_CONFLICT",
    });
    expect(current(engine)?.data).toEqual({ LOG_LEVEL: "debug" });
    expect((await engine.ledger.list()).map((record) => record.outcome?.kind)).toEqual(["never-applied"]);
  });
});

describe("recovering a deleted ConfigMap after a crash", () => {
  it("a crash between the record and the delete: closed as never applied, the object untouched", async () => {
    const engine = memoryEngine();
    const [change] = await planned(engine);
    if (change === undefined) throw new Error("planned");
    await crashedRecord(engine, change);
    const before = current(engine);
    expect(await recover(engine)).toMatchObject([{ result: "never-applied" }]);
    expect(current(engine)).toEqual(before);
    expect(engine.cluster.writes).toEqual([]);
  });

  it("a crash after the delete: recovery creates the original again", async () => {
    const engine = memoryEngine();
    const [change] = await planned(engine);
    if (change === undefined) throw new Error("planned");
    const record = await crashedRecord(engine, change);
    await engine.ctx.targets.apply(record);
    expect(current(engine)).toBeUndefined();
    expect(await recover(engine)).toMatchObject([{ result: "reverted" }]);
    expect(restorable(current(engine) ?? {})).toEqual(appConfig);
    expect(await engine.ledger.list({ state: "open" })).toEqual([]);
  });

  it("recreated by GitOps before recovery ran: a heal by its creator, nothing created", async () => {
    const engine = memoryEngine();
    const [change] = await planned(engine);
    if (change === undefined) throw new Error("planned");
    const record = await crashedRecord(engine, change);
    await engine.ctx.targets.apply(record);
    engine.cluster.put({ ...appConfig, data: { LOG_LEVEL: "warn" } }, "kustomize-controller");
    expect(await recover(engine)).toMatchObject([
      {
        result: "healed-externally",
        detail: "/ was changed to another value by someone else; left as it is",
      },
    ]);
    expect(current(engine)?.data).toEqual({ LOG_LEVEL: "warn" });
    expect(engine.cluster.writes).toEqual(["delete ConfigMap shop/app"]);
  });

  it("a crash after Broadside's own create: recovery confirms it and closes the record as reverted", async () => {
    const engine = memoryEngine();
    const [change] = await planned(engine);
    if (change === undefined) throw new Error("planned");
    const record = await crashedRecord(engine, change);
    await engine.ctx.targets.apply(record);
    await engine.ctx.targets.revert(record);
    expect(await recover(engine)).toMatchObject([{ result: "reverted" }]);
    expect(engine.cluster.writes).toEqual([
      "delete ConfigMap shop/app",
      "create ConfigMap shop/app",
      "create ConfigMap shop/app",
    ]);
    expect(restorable(current(engine) ?? {})).toEqual(appConfig);
  });
});

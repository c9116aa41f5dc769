import { describe, expect, it } from "vitest";
import { FakeClock } from "../fake-clock.js";
import type { LedgerDraft, LedgerRecord, OpenRecord, RecordedValue, TargetRef } from "./record.js";
import { ABSENT, isAbsent, jsonEqual } from "./record.js";
import type { RecoverySummary, TargetAccess } from "./recovery.js";
import { recoverExpired } from "./recovery.js";
import type { Observation } from "./state-machine.js";
import { closeRecord, markApplied } from "./state-machine.js";
import { ConflictError, MemoryLedgerStore } from "./store.js";

const t0 = Date.UTC(2025, 4, 1, 12, 0, 0);
const minute = 60_000;

interface FakeObject {
  uid: string;
  fields: Map<string, RecordedValue>;
}

/** The cluster as recovery sees it: objects by kind/namespace/name, each with the fields faults touch. */
class FakeCluster implements TargetAccess {
  private readonly objects = new Map<string, FakeObject>();
  reads = 0;
  reverts = 0;
  /** Runs once, between recovery's read and its revert: another writer getting in first. */
  raceBeforeRevert: (() => void) | undefined;
  failReads: Error | undefined;

  set(target: TargetRef, path: string, value: RecordedValue, uid = target.uid): void {
    const existing = this.objects.get(key(target));
    const object = existing?.uid === uid ? existing : { uid, fields: new Map<string, RecordedValue>() };
    if (isAbsent(value)) object.fields.delete(path);
    else object.fields.set(path, value);
    this.objects.set(key(target), object);
  }

  delete(target: TargetRef): void {
    this.objects.delete(key(target));
  }

  value(target: TargetRef, path: string): RecordedValue | undefined {
    const object = this.objects.get(key(target));
    return object === undefined ? undefined : (object.fields.get(path) ?? ABSENT);
  }

  uid(target: TargetRef): string | undefined {
    return this.objects.get(key(target))?.uid;
  }

  read(record: OpenRecord): Promise<Observation> {
    this.reads += 1;
    if (this.failReads) return Promise.reject(this.failReads);
    const object = this.objects.get(key(record.target));
    if (object === undefined) return Promise.resolve({ exists: false });
    return Promise.resolve({
      exists: true,
      uid: object.uid,
      value: object.fields.get(record.path) ?? ABSENT,
    });
  }

  revert(record: OpenRecord): Promise<void> {
    return new Promise((resolve) => {
      const race = this.raceBeforeRevert;
      this.raceBeforeRevert = undefined;
      race?.();
      const object = this.objects.get(key(record.target));
      const current = object?.fields.get(record.path) ?? ABSENT;
      if (object?.uid !== record.target.uid || !jsonEqual(current, record.injected)) {
        throw new ConflictError(`${key(record.target)} changed since it was read`);
      }
      this.reverts += 1;
      this.set(record.target, record.path, record.original);
      resolve();
    });
  }
}

function key(target: TargetRef): string {
  return `${target.kind}/${target.namespace}/${target.name}`;
}

const configMap: TargetRef = {
  apiVersion: "v1",
  kind: "ConfigMap",
  namespace: "default",
  name: "web",
  uid: "cm-1",
};

function driftDraft(overrides: Partial<LedgerDraft> = {}): LedgerDraft {
  return {
    id: "drift-1",
    faultKind: "config-drift",
    target: configMap,
    path: "data.LOG_LEVEL",
    original: "info",
    injected: "debug",
    sensitive: false,
    createdAt: t0,
    deadline: t0 + 5 * minute,
    actor: { user: "alice", host: "laptop", pid: 42 },
    state: "pending",
    ...overrides,
  };
}

interface World {
  readonly store: MemoryLedgerStore;
  readonly cluster: FakeCluster;
  readonly clock: FakeClock;
  recover(options?: { includeUnexpired: boolean }): Promise<readonly RecoverySummary[]>;
}

function world(): World {
  const store = new MemoryLedgerStore();
  const cluster = new FakeCluster();
  const clock = new FakeClock(t0);
  return {
    store,
    cluster,
    clock,
    recover: (options = { includeUnexpired: false }) => recoverExpired(store, cluster, clock, options),
  };
}

/** A fault as the runner applies it: ledger record first, then the mutation, then the record marked active. */
async function inject(w: World, draft: LedgerDraft = driftDraft()): Promise<LedgerRecord> {
  w.cluster.set(draft.target, draft.path, draft.original);
  const pending = await w.store.create(draft);
  w.cluster.set(draft.target, draft.path, draft.injected);
  return w.store.update(markApplied(pending));
}

async function stored(w: World, id = "drift-1"): Promise<LedgerRecord | undefined> {
  return w.store.get(id);
}

describe("recoverExpired", () => {
  it("reverts a drift at its deadline, and not before", async () => {
    const w = world();
    await inject(w);

    await w.clock.jumpTo(t0 + 4 * minute);
    expect(await w.recover()).toEqual([]);
    expect(w.cluster.value(configMap, "data.LOG_LEVEL")).toBe("debug");

    await w.clock.jumpTo(t0 + 5 * minute);
    const [summary, ...others] = await w.recover();
    expect(others).toEqual([]);
    expect(summary).toMatchObject({ id: "drift-1", result: "reverted", at: t0 + 5 * minute });
    expect(w.cluster.value(configMap, "data.LOG_LEVEL")).toBe("info");
    expect(await stored(w)).toMatchObject({
      state: "closed",
      outcome: { kind: "reverted", at: t0 + 5 * minute },
    });
  });

  it("leaves a drift healed by someone else untouched, and records it as an external heal with its time", async () => {
    const w = world();
    await inject(w);
    // The GitOps reconciler puts the declared value back before the deadline.
    w.cluster.set(configMap, "data.LOG_LEVEL", "info");

    await w.clock.jumpTo(t0 + 6 * minute);
    const [summary] = await w.recover();
    expect(summary).toMatchObject({ result: "healed-externally", at: t0 + 6 * minute });
    expect(w.cluster.reverts).toBe(0);
    expect(await stored(w)).toMatchObject({
      state: "closed",
      outcome: {
        kind: "healed-externally",
        at: t0 + 6 * minute,
        detail: "data.LOG_LEVEL was restored to the original value by someone else",
      },
    });
  });

  it("keeps a value someone else set instead of the original: Broadside does not clobber it", async () => {
    const w = world();
    await inject(w);
    w.cluster.set(configMap, "data.LOG_LEVEL", "warn");

    await w.clock.jumpTo(t0 + 5 * minute);
    expect(await w.recover()).toMatchObject([{ result: "healed-externally" }]);
    expect(w.cluster.value(configMap, "data.LOG_LEVEL")).toBe("warn");
  });

  it("uses the heal's own time and author when the reader knows them", async () => {
    const w = world();
    await inject(w);
    w.cluster.set(configMap, "data.LOG_LEVEL", "info");
    const reader: TargetAccess = {
      read: async (record) => ({
        ...(await w.cluster.read(record)),
        lastChange: { at: t0 + 2 * minute, by: "kustomize-controller" },
      }),
      revert: (record) => w.cluster.revert(record),
    };

    await w.clock.jumpTo(t0 + 5 * minute);
    const [summary] = await recoverExpired(w.store, reader, w.clock, { includeUnexpired: false });
    expect(summary).toMatchObject({
      result: "healed-externally",
      at: t0 + 2 * minute,
      by: "kustomize-controller",
    });
    expect((await stored(w))?.outcome).toMatchObject({ at: t0 + 2 * minute, by: "kustomize-controller" });
  });

  it("closes the record target-gone when the object was deleted", async () => {
    const w = world();
    await inject(w);
    w.cluster.delete(configMap);

    await w.clock.jumpTo(t0 + 5 * minute);
    expect(await w.recover()).toMatchObject([
      { result: "target-gone", detail: "ConfigMap default/web no longer exists" },
    ]);
    expect(await stored(w)).toMatchObject({ state: "closed", outcome: { kind: "target-gone" } });
  });

  it("leaves an object recreated under the same name alone, even if it holds the injected value", async () => {
    const w = world();
    await inject(w);
    w.cluster.delete(configMap);
    w.cluster.set(configMap, "data.LOG_LEVEL", "debug", "cm-2");

    await w.clock.jumpTo(t0 + 5 * minute);
    expect(await w.recover()).toMatchObject([{ result: "target-gone" }]);
    expect(w.cluster.reverts).toBe(0);
    expect(w.cluster.uid(configMap)).toBe("cm-2");
    expect(w.cluster.value(configMap, "data.LOG_LEVEL")).toBe("debug");
  });

  describe("after a crash between the ledger write and the mutation", () => {
    it("closes the record never-applied when the target still holds the original", async () => {
      const w = world();
      w.cluster.set(configMap, "data.LOG_LEVEL", "info");
      await w.store.create(driftDraft());
      // ...and the process died here.

      await w.clock.jumpTo(t0 + 5 * minute);
      expect(await w.recover()).toMatchObject([{ result: "never-applied" }]);
      expect(w.cluster.reverts).toBe(0);
      expect(await stored(w)).toMatchObject({ state: "closed", outcome: { kind: "never-applied" } });
    });

    it("reverts when the mutation did land before the process died", async () => {
      const w = world();
      w.cluster.set(configMap, "data.LOG_LEVEL", "info");
      await w.store.create(driftDraft());
      w.cluster.set(configMap, "data.LOG_LEVEL", "debug");
      // ...and the process died before marking the record active.

      await w.clock.jumpTo(t0 + 5 * minute);
      expect(await w.recover()).toMatchObject([{ result: "reverted" }]);
      expect(w.cluster.value(configMap, "data.LOG_LEVEL")).toBe("info");
      expect(await stored(w)).toMatchObject({ state: "closed", outcome: { kind: "reverted" } });
    });
  });

  it("removes a key the fault added, rather than setting it to something", async () => {
    const w = world();
    await inject(w, driftDraft({ path: "data.FEATURE_X", original: ABSENT, injected: "on" }));

    await w.clock.jumpTo(t0 + 5 * minute);
    expect(await w.recover()).toMatchObject([{ result: "reverted" }]);
    expect(w.cluster.value(configMap, "data.FEATURE_X")).toEqual(ABSENT);
  });

  describe("when another writer races the revert", () => {
    it("reads again and re-decides, so a newer value is never overwritten", async () => {
      const w = world();
      await inject(w);
      w.cluster.raceBeforeRevert = () => {
        w.cluster.set(configMap, "data.LOG_LEVEL", "warn");
      };

      await w.clock.jumpTo(t0 + 5 * minute);
      expect(await w.recover()).toMatchObject([{ result: "healed-externally" }]);
      expect(w.cluster.reads).toBe(2);
      expect(w.cluster.value(configMap, "data.LOG_LEVEL")).toBe("warn");
    });

    it("reads again when the object was replaced in between", async () => {
      const w = world();
      await inject(w);
      w.cluster.raceBeforeRevert = () => {
        w.cluster.delete(configMap);
        w.cluster.set(configMap, "data.LOG_LEVEL", "debug", "cm-2");
      };

      await w.clock.jumpTo(t0 + 5 * minute);
      expect(await w.recover()).toMatchObject([{ result: "target-gone" }]);
      expect(w.cluster.value(configMap, "data.LOG_LEVEL")).toBe("debug");
    });

    it("gives up after three attempts and leaves the record open for the next run", async () => {
      const w = world();
      await inject(w);
      const alwaysConflicting: TargetAccess = {
        read: (record) => w.cluster.read(record),
        revert: () => Promise.reject(new ConflictError("busy")),
      };

      await w.clock.jumpTo(t0 + 5 * minute);
      const summaries = await recoverExpired(w.store, alwaysConflicting, w.clock, {
        includeUnexpired: false,
      });
      expect(summaries).toMatchObject([
        { result: "left-open", detail: "still conflicting after 3 attempts" },
      ]);
      expect(w.cluster.reads).toBe(3);
      expect((await stored(w))?.state).toBe("active");

      expect(await w.recover()).toMatchObject([{ result: "reverted" }]);
    });
  });

  describe("when another process writes the ledger record first", () => {
    it("reports the record closed elsewhere and writes nothing over it", async () => {
      const w = world();
      const active = await inject(w);
      const racing = racingStore(w.store, async () => {
        await w.store.update(closeRecord(active, { kind: "reverted", at: t0 + 5 * minute - 10 }));
      });

      await w.clock.jumpTo(t0 + 5 * minute);
      const summaries = await recoverExpired(racing, w.cluster, w.clock, { includeUnexpired: false });
      expect(summaries).toMatchObject([{ result: "closed-elsewhere", detail: "closed as reverted" }]);
      expect((await stored(w))?.outcome).toEqual({ kind: "reverted", at: t0 + 5 * minute - 10 });
    });

    it("closes the fresh record as reverted when the runner marked it active meanwhile", async () => {
      const w = world();
      w.cluster.set(configMap, "data.LOG_LEVEL", "info");
      const pending = await w.store.create(driftDraft());
      w.cluster.set(configMap, "data.LOG_LEVEL", "debug");
      const racing = racingStore(w.store, async () => {
        await w.store.update(markApplied(pending));
      });

      const summaries = await recoverExpired(racing, w.cluster, w.clock, { includeUnexpired: true });
      expect(summaries).toMatchObject([{ result: "reverted" }]);
      expect(w.cluster.reverts).toBe(1);
      expect(await stored(w)).toMatchObject({ state: "closed", outcome: { kind: "reverted" } });
    });

    it("leaves the record to its owner when the owner moved the deadline meanwhile", async () => {
      const w = world();
      const active = await inject(w);
      w.cluster.set(configMap, "data.LOG_LEVEL", "info");
      const racing = racingStore(w.store, async () => {
        await w.store.update({ ...active, deadline: t0 + 30 * minute });
      });

      await w.clock.jumpTo(t0 + 5 * minute);
      const summaries = await recoverExpired(racing, w.cluster, w.clock, { includeUnexpired: false });
      expect(summaries).toMatchObject([
        { result: "left-open", detail: "its deadline was moved by another writer" },
      ]);
      expect(await stored(w)).toMatchObject({ state: "active", deadline: t0 + 30 * minute });
    });
  });

  it("reverts records before their deadline on halt", async () => {
    const w = world();
    await inject(w);
    await inject(w, driftDraft({ id: "drift-2", path: "data.TIMEOUT", original: "30s", injected: "1ms" }));

    await w.clock.jumpTo(t0 + minute);
    expect(await w.recover({ includeUnexpired: true })).toMatchObject([
      { id: "drift-1", result: "reverted" },
      { id: "drift-2", result: "reverted" },
    ]);
    expect(w.cluster.value(configMap, "data.TIMEOUT")).toBe("30s");
  });

  it("is idempotent: a second run finds nothing to do and changes nothing", async () => {
    const w = world();
    await inject(w);
    await inject(w, driftDraft({ id: "drift-2", path: "data.TIMEOUT", original: "30s", injected: "1ms" }));
    w.cluster.set(configMap, "data.TIMEOUT", "30s");

    await w.clock.jumpTo(t0 + 5 * minute);
    expect(await w.recover()).toHaveLength(2);
    const ledgerAfterFirst = await w.store.list();
    const writesAfterFirst = w.cluster.reverts;

    await w.clock.jumpTo(t0 + 10 * minute);
    expect(await w.recover()).toEqual([]);
    expect(await w.recover({ includeUnexpired: true })).toEqual([]);
    expect(await w.store.list()).toEqual(ledgerAfterFirst);
    expect(w.cluster.reverts).toBe(writesAfterFirst);
  });

  it("handles the oldest deadline first", async () => {
    const w = world();
    await inject(w, driftDraft({ id: "late", path: "data.A", deadline: t0 + 3 * minute }));
    await inject(w, driftDraft({ id: "early", path: "data.B", deadline: t0 + 2 * minute }));

    await w.clock.jumpTo(t0 + 5 * minute);
    expect((await w.recover()).map((summary) => summary.id)).toEqual(["early", "late"]);
  });

  it("leaves a record open when its target cannot be read, and goes on with the others", async () => {
    const w = world();
    await inject(w);
    const otherTarget: TargetRef = { ...configMap, name: "api", uid: "cm-9" };
    await inject(w, driftDraft({ id: "drift-2", target: otherTarget }));
    const forbidden = new Error('configmaps "web" is forbidden');
    const picky: TargetAccess = {
      read: (record) => (record.target.name === "web" ? Promise.reject(forbidden) : w.cluster.read(record)),
      revert: (record) => w.cluster.revert(record),
    };

    await w.clock.jumpTo(t0 + 5 * minute);
    const summaries = await recoverExpired(w.store, picky, w.clock, { includeUnexpired: false });
    expect(summaries).toMatchObject([
      { id: "drift-1", result: "left-open", detail: 'configmaps "web" is forbidden', error: forbidden },
      { id: "drift-2", result: "reverted" },
    ]);
    expect((await stored(w))?.state).toBe("active");
  });

  it("prints no value of a sensitive record in its summary", async () => {
    const w = world();
    const secret: TargetRef = { apiVersion: "v1", kind: "Secret", namespace: "shop", name: "db", uid: "s-1" };
    await inject(
      w,
      driftDraft({
        target: secret,
        path: "data.PASSWORD",
        original: "aHVudGVyMg==",
        injected: "d3Jvbmc=",
        sensitive: true,
      }),
    );
    w.cluster.set(secret, "data.PASSWORD", "bmV3");

    await w.clock.jumpTo(t0 + 5 * minute);
    const printed = JSON.stringify(await w.recover());
    expect(printed).toContain("healed-externally");
    for (const value of ["aHVudGVyMg==", "d3Jvbmc=", "bmV3"]) expect(printed).not.toContain(value);
  });
});

/** A store whose next update is preceded by `race`: another process writing the record first. */
function racingStore(store: MemoryLedgerStore, race: () => Promise<void>): MemoryLedgerStore {
  let pending: (() => Promise<void>) | undefined = race;
  const racing = Object.create(store) as MemoryLedgerStore;
  racing.update = async (record) => {
    const next = pending;
    pending = undefined;
    if (next) await next();
    return store.update(record);
  };
  return racing;
}

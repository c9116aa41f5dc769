import { ApiException, type V1ConfigMap, type V1Namespace, type V1Secret } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import type { LedgerDraft } from "../core/ledger/record.js";
import { ABSENT } from "../core/ledger/record.js";
import { LedgerFormatError } from "../core/ledger/schema.js";
import { closeRecord, markApplied } from "../core/ledger/state-machine.js";
import { ConflictError } from "../core/ledger/store.js";
import type { KubeClients } from "./client.js";
import {
  broadsideNamespace,
  ConfigMapLedgerStore,
  ledgerObjectName,
  newRecordId,
  stateSelector,
} from "./ledger-store.js";

describe("newRecordId", () => {
  it("is a UTC timestamp and six hex digits, fit for a ConfigMap name", () => {
    const id = newRecordId(Date.UTC(2026, 10, 22, 2, 35, 1, 999), () => Uint8Array.from([0x3f, 0x9a, 0x1c]));
    expect(id).toBe("20261122t023501-3f9a1c");
    expect(ledgerObjectName(id)).toBe("ledger-20261122t023501-3f9a1c");
  });

  it("sorts by time as text", () => {
    const earlier = newRecordId(Date.UTC(2026, 0, 1, 9, 59, 59), () => Uint8Array.from([255, 255, 255]));
    const later = newRecordId(Date.UTC(2026, 0, 1, 10, 0, 0), () => Uint8Array.from([0, 0, 0]));
    expect([later, earlier].sort()).toEqual([earlier, later]);
  });

  it("draws fresh random digits by default", () => {
    expect(newRecordId(0)).not.toBe(newRecordId(0));
  });
});

describe("ledgerObjectName", () => {
  it.each(["", "UPPER", "-leading", "trailing-", "a/b", "a_b"])("refuses the id %j", (id) => {
    expect(() => ledgerObjectName(id)).toThrow(BroadsideError);
  });
});

describe("stateSelector", () => {
  it("selects ledger records, by state, with open meaning pending or active", () => {
    expect(stateSelector(undefined)).toBe("broadside.dev/ledger=record");
    expect(stateSelector("closed")).toBe("broadside.dev/ledger=record,broadside.dev/state=closed");
    expect(stateSelector("open")).toBe("broadside.dev/ledger=record,broadside.dev/state in (pending,active)");
  });
});

/**
 * The slice of CoreV1Api the store uses, with the API server's rules that matter here: 404 in a missing
 * namespace, 409 for a taken name or a stale resourceVersion, a new resourceVersion on every write.
 */
class FakeCore {
  readonly namespaces = new Map<string, V1Namespace>();
  readonly configMaps = new Map<string, V1ConfigMap>();
  readonly secrets = new Map<string, V1Secret>();
  failConfigMapCreate: number | undefined;
  /** What the API server stamps as creationTimestamp. */
  now = 0;
  private revision = 100;

  createNamespacedSecret = (request: { namespace: string; body: V1Secret }): Promise<V1Secret> => {
    if (!this.namespaces.has(request.namespace)) return reject(404);
    const key = `${request.namespace}/${request.body.metadata?.name ?? ""}`;
    if (this.secrets.has(key)) return reject(409);
    // stringData is write-only: the API server folds it into data, base64-encoded.
    const data = Object.fromEntries(
      Object.entries(request.body.stringData ?? {}).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
    );
    const stored: V1Secret = {
      metadata: {
        name: request.body.metadata?.name ?? "",
        namespace: request.namespace,
        labels: request.body.metadata?.labels ?? {},
        creationTimestamp: new Date(this.now),
      },
      data,
    };
    this.secrets.set(key, stored);
    return Promise.resolve(structuredClone(stored));
  };

  readNamespacedSecret = (request: { name: string; namespace: string }): Promise<V1Secret> => {
    const stored = this.secrets.get(`${request.namespace}/${request.name}`);
    return stored === undefined ? reject(404) : Promise.resolve(structuredClone(stored));
  };

  deleteNamespacedSecret = (request: { name: string; namespace: string }): Promise<object> => {
    this.secrets.delete(`${request.namespace}/${request.name}`);
    return Promise.resolve({});
  };

  listNamespacedSecret = (request: {
    namespace: string;
    labelSelector: string;
  }): Promise<{ items: V1Secret[] }> => {
    const items = [...this.secrets.values()].filter(
      (item) => item.metadata?.namespace === request.namespace && matches(request.labelSelector, item),
    );
    return Promise.resolve({ items: items.map((item) => structuredClone(item)) });
  };

  deleteNamespacedConfigMap = (request: {
    name: string;
    namespace: string;
    body?: { preconditions?: { resourceVersion?: string } };
  }): Promise<object> => {
    const key = `${request.namespace}/${request.name}`;
    const stored = this.configMaps.get(key);
    if (stored === undefined) return reject(404);
    const expected = request.body?.preconditions?.resourceVersion;
    if (expected !== undefined && expected !== stored.metadata?.resourceVersion) return reject(409);
    this.configMaps.delete(key);
    return Promise.resolve({});
  };

  createNamespace = (request: { body: V1Namespace }): Promise<V1Namespace> => {
    this.namespaces.set(request.body.metadata?.name ?? "", request.body);
    return Promise.resolve(request.body);
  };

  createNamespacedConfigMap = (request: { namespace: string; body: V1ConfigMap }): Promise<V1ConfigMap> => {
    if (!this.namespaces.has(request.namespace)) return reject(404);
    if (this.failConfigMapCreate !== undefined) return reject(this.failConfigMapCreate);
    const key = `${request.namespace}/${request.body.metadata?.name ?? ""}`;
    if (this.configMaps.has(key)) return reject(409);
    return Promise.resolve(this.store(key, request.body));
  };

  replaceNamespacedConfigMap = (request: {
    name: string;
    namespace: string;
    body: V1ConfigMap;
  }): Promise<V1ConfigMap> => {
    const key = `${request.namespace}/${request.name}`;
    const stored = this.configMaps.get(key);
    if (stored === undefined) return reject(404);
    const expected = request.body.metadata?.resourceVersion;
    if (expected !== undefined && expected !== stored.metadata?.resourceVersion) return reject(409);
    return Promise.resolve(this.store(key, request.body));
  };

  readNamespacedConfigMap = (request: { name: string; namespace: string }): Promise<V1ConfigMap> => {
    const stored = this.configMaps.get(`${request.namespace}/${request.name}`);
    return stored === undefined ? reject(404) : Promise.resolve(structuredClone(stored));
  };

  listNamespacedConfigMap = (request: {
    namespace: string;
    labelSelector: string;
    limit: number;
    _continue?: string;
  }): Promise<{ items: V1ConfigMap[]; metadata: { _continue?: string } }> => {
    const matching = [...this.configMaps.values()].filter(
      (item) => item.metadata?.namespace === request.namespace && matches(request.labelSelector, item),
    );
    const start = Number(request._continue ?? "0");
    const end = start + request.limit;
    const items = matching.slice(start, end).map((item) => structuredClone(item));
    return Promise.resolve({ items, metadata: end < matching.length ? { _continue: String(end) } : {} });
  };

  kube(): KubeClients {
    return { core: this } as unknown as KubeClients;
  }

  private store(key: string, body: V1ConfigMap): V1ConfigMap {
    this.revision += 1;
    const stored = structuredClone(body);
    stored.metadata ??= {};
    stored.metadata.resourceVersion = String(this.revision);
    this.configMaps.set(key, stored);
    return structuredClone(stored);
  }
}

function reject(code: number): Promise<never> {
  return Promise.reject(new ApiException(code, `HTTP ${code}`, {}, {}));
}

/** Just the two selector forms the store writes: "k=v" and "k in (a,b)". */
function matches(selector: string, item: V1ConfigMap | V1Secret): boolean {
  const labels = item.metadata?.labels ?? {};
  return selector.split(/,(?![^(]*\))/).every((term) => {
    const set = /^(\S+) in \((.*)\)$/.exec(term);
    if (set) return set[2]?.split(",").includes(labels[set[1] ?? ""] ?? "") ?? false;
    const [key = "", value] = term.split("=");
    return labels[key] === value;
  });
}

function draft(id: string, createdAt: number): LedgerDraft {
  return {
    id,
    faultKind: "scale",
    target: { apiVersion: "apps/v1", kind: "Deployment", namespace: "demo", name: "web", uid: "u1" },
    path: "/spec/replicas",
    original: 3,
    injected: 1,
    sensitive: false,
    createdAt,
    deadline: createdAt + 60_000,
    actor: { user: "ada", host: "laptop", pid: 42 },
    state: "pending",
  };
}

describe("ConfigMapLedgerStore", () => {
  it("creates its namespace on the first write and stores the record without its version", async () => {
    const core = new FakeCore();
    const store = new ConfigMapLedgerStore(core.kube());
    const created = await store.create(draft("20260101t000000-000001", 1000));
    expect(core.namespaces.get(broadsideNamespace)?.metadata?.labels).toEqual({
      "app.kubernetes.io/managed-by": "broadside",
    });
    const stored = core.configMaps.get(`${broadsideNamespace}/ledger-20260101t000000-000001`);
    expect(stored?.metadata?.labels).toEqual({
      "app.kubernetes.io/managed-by": "broadside",
      "broadside.dev/ledger": "record",
      "broadside.dev/state": "pending",
      "broadside.dev/fault-kind": "scale",
    });
    const json = JSON.parse(stored?.data?.["record.json"] ?? "{}") as Record<string, unknown>;
    expect(json).not.toHaveProperty("version");
    expect(json).toEqual({ ...draft("20260101t000000-000001", 1000) });
    expect(created).toEqual({
      ...draft("20260101t000000-000001", 1000),
      version: stored?.metadata?.resourceVersion,
    });
  });

  it("refuses a taken id with ConflictError", async () => {
    const store = new ConfigMapLedgerStore(new FakeCore().kube(), "ledger-ns");
    await store.create(draft("20260101t000000-000001", 1000));
    await expect(store.create(draft("20260101t000000-000001", 2000))).rejects.toThrow(ConflictError);
  });

  it("updates only from the current version, and moves the state label along", async () => {
    const core = new FakeCore();
    const store = new ConfigMapLedgerStore(core.kube());
    const pending = await store.create(draft("20260101t000000-000001", 1000));
    const active = await store.update(markApplied(pending));
    expect(active.version).not.toBe(pending.version);
    expect(core.configMaps.get(`${broadsideNamespace}/ledger-${pending.id}`)?.metadata?.labels).toMatchObject(
      {
        "broadside.dev/state": "active",
      },
    );
    await expect(store.update(markApplied(pending))).rejects.toThrow(ConflictError);
    await expect(store.update({ ...active, version: "" })).rejects.toThrow(BroadsideError);
    expect(await store.get(pending.id)).toEqual(active);
  });

  it("answers ConflictError for an update of a record that is gone, and undefined for get", async () => {
    const store = new ConfigMapLedgerStore(new FakeCore().kube());
    const missing = { ...draft("20260101t000000-000009", 1), version: "5" };
    await expect(store.update(missing)).rejects.toThrow(ConflictError);
    expect(await store.get(missing.id)).toBeUndefined();
  });

  it("lists oldest first across pages, filtered by state", async () => {
    const core = new FakeCore();
    const store = new ConfigMapLedgerStore(core.kube());
    const ids = Array.from({ length: 503 }, (_, i) => `20260101t000000-${String(i).padStart(6, "0")}`);
    for (const [i, id] of ids.entries()) await store.create(draft(id, 10_000 - (i % 7)));
    const first = await store.get(ids[0] ?? "");
    if (first === undefined) throw new Error("record 0 missing");
    await store.update(closeRecord(markApplied(first), { kind: "reverted", at: 5 }));
    const all = await store.list();
    expect(all).toHaveLength(503);
    const order = all.map((record) => [record.createdAt, record.id] as const);
    const sorted = [...order].sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
    expect(order).toEqual(sorted);
    expect(await store.list({ state: "open" })).toHaveLength(502);
    expect((await store.list({ state: "closed" })).map((record) => record.id)).toEqual([ids[0]]);
    expect(await store.list({ state: "active" })).toHaveLength(0);
  });

  it("refuses stored records that are not records, naming the ConfigMap", async () => {
    const core = new FakeCore();
    const store = new ConfigMapLedgerStore(core.kube());
    await store.create(draft("20260101t000000-000001", 1000));
    const key = `${broadsideNamespace}/ledger-20260101t000000-000001`;
    const stored = core.configMaps.get(key);
    if (stored?.data === undefined) throw new Error("not stored");
    stored.data["record.json"] = "{not json";
    await expect(store.get("20260101t000000-000001")).rejects.toThrow(LedgerFormatError);
    stored.data["record.json"] = JSON.stringify({ ...draft("20260101t000000-000002", 1) });
    await expect(store.list()).rejects.toThrow(/ledger-20260101t000000-000001 holds record/);
    stored.data["record.json"] = JSON.stringify({ id: "20260101t000000-000001" });
    await expect(store.list()).rejects.toThrow(LedgerFormatError);
  });

  describe("sensitive records", () => {
    const secretDraft = (id: string): LedgerDraft => ({
      ...draft(id, 1000),
      faultKind: "config-drift",
      target: { apiVersion: "v1", kind: "Secret", namespace: "demo", name: "creds", uid: "u2" },
      path: "/data/PASSWORD",
      original: "aHVudGVyMg==",
      injected: ABSENT,
      sensitive: true,
    });

    it("keep their values in a Secret, never in the ConfigMap, and get them back on read", async () => {
      const core = new FakeCore();
      const store = new ConfigMapLedgerStore(core.kube());
      const created = await store.create(secretDraft("20260101t000000-00000a"));
      expect(created).toMatchObject({ original: "aHVudGVyMg==", injected: ABSENT });
      const name = `${broadsideNamespace}/ledger-20260101t000000-00000a`;
      const text = core.configMaps.get(name)?.data?.["record.json"] ?? "";
      expect(text).not.toContain("aHVudGVyMg");
      expect(text).toContain("<redacted>");
      expect(core.secrets.get(name)?.metadata?.labels).toMatchObject({ "broadside.dev/ledger": "values" });
      const active = await store.update(markApplied(created));
      expect(core.configMaps.get(name)?.data?.["record.json"]).not.toContain("aHVudGVyMg");
      expect(await store.get(created.id)).toEqual(active);
      expect(await store.list()).toEqual([active]);
    });

    it("refuse a record whose values Secret is gone", async () => {
      const core = new FakeCore();
      const store = new ConfigMapLedgerStore(core.kube());
      await store.create(secretDraft("20260101t000000-00000b"));
      core.secrets.clear();
      await expect(store.get("20260101t000000-00000b")).rejects.toThrow(/values Secret .* is missing/);
    });

    it("remove the values Secret again when the ConfigMap cannot be created", async () => {
      const core = new FakeCore();
      const store = new ConfigMapLedgerStore(core.kube());
      core.failConfigMapCreate = 403;
      await expect(store.create(secretDraft("20260101t000000-00000c"))).rejects.toThrow(ApiException);
      expect(core.secrets.size).toBe(0);
    });

    it("lose their values when they close: the Secret is deleted, the record reads them as redacted", async () => {
      const core = new FakeCore();
      const store = new ConfigMapLedgerStore(core.kube());
      const created = await store.create(secretDraft("20260101t000000-00000d"));
      const closed = await store.update(closeRecord(markApplied(created), { kind: "reverted", at: 2000 }));
      expect(closed.state).toBe("closed");
      expect(core.secrets.size).toBe(0);
      expect(await store.get(created.id)).toMatchObject({
        state: "closed",
        original: "<redacted>",
        injected: "<redacted>",
      });
    });
  });

  describe("prune", () => {
    const hour = 3_600_000;

    it("deletes closed records older than the retention, and leaves newer and open ones", async () => {
      const core = new FakeCore();
      const store = new ConfigMapLedgerStore(core.kube());
      const old = await store.create(draft("20260101t000000-000001", 1000));
      const recent = await store.create(draft("20260101t000000-000002", 1000));
      const open = await store.create(draft("20260101t000000-000003", 1000));
      await store.update(closeRecord(markApplied(old), { kind: "reverted", at: 10 * hour }));
      await store.update(closeRecord(markApplied(recent), { kind: "reverted", at: 200 * hour }));
      const result = await store.prune({ closedBefore: 100 * hour, now: 300 * hour });
      expect(result).toEqual({ records: [old.id], orphanValues: 0 });
      expect((await store.list()).map((record) => record.id)).toEqual([recent.id, open.id]);
    });

    it("deletes values Secrets no open record needs once they are past a grace, and never an open record's", async () => {
      const core = new FakeCore();
      const store = new ConfigMapLedgerStore(core.kube());
      const secretOf = (id: string): LedgerDraft => ({ ...draft(id, 1000), sensitive: true });
      core.now = 0;
      await store.create(secretOf("20260101t000000-00000e"));
      const orphan = await store.create(secretOf("20260101t000000-00000f"));
      // A crash between the ConfigMap's delete and its Secret's leaves the Secret alone.
      core.configMaps.delete(`${broadsideNamespace}/ledger-${orphan.id}`);
      core.now = 20 * 60_000;
      await store.create(secretOf("20260101t000000-000010"));
      core.configMaps.delete(`${broadsideNamespace}/ledger-20260101t000000-000010`);
      const result = await store.prune({ closedBefore: 0, now: 25 * 60_000 });
      expect(result.orphanValues).toBe(1);
      expect([...core.secrets.keys()].sort()).toEqual([
        `${broadsideNamespace}/ledger-20260101t000000-00000e`,
        `${broadsideNamespace}/ledger-20260101t000000-000010`,
      ]);
    });

    it("leaves a record that changed since it was listed for the next prune", async () => {
      const core = new FakeCore();
      const store = new ConfigMapLedgerStore(core.kube());
      const record = await store.create(draft("20260101t000000-000011", 1000));
      await store.update(closeRecord(markApplied(record), { kind: "reverted", at: 1 }));
      const realDelete = core.deleteNamespacedConfigMap;
      core.deleteNamespacedConfigMap = () => reject(409);
      expect((await store.prune({ closedBefore: 100, now: 100 })).records).toEqual([]);
      core.deleteNamespacedConfigMap = realDelete;
      expect((await store.prune({ closedBefore: 100, now: 100 })).records).toEqual([record.id]);
    });
  });
});

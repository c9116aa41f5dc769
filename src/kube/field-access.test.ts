import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import type { JsonObject, TargetRef } from "../core/ledger/record.js";
import { ABSENT } from "../core/ledger/record.js";
import { ConflictError } from "../core/ledger/store.js";
import type { KubeClients } from "./client.js";
import type { FieldChange } from "./field-access.js";
import {
  escapePointerToken,
  FieldAccess,
  formatPointer,
  getAtPointer,
  JsonPointerError,
  parsePointer,
} from "./field-access.js";
import { ClusterObjects, toKubeObject, type JsonPatchOperation } from "./objects.js";

describe("JSON pointers", () => {
  it("escapes ~ before / so that the round trip is exact", () => {
    expect(escapePointerToken("a/b~c")).toBe("a~1b~0c");
    expect(parsePointer(formatPointer(["data", "a/b~1c", "~"]))).toEqual(["data", "a/b~1c", "~"]);
    expect(formatPointer(["spec", "replicas"])).toBe("/spec/replicas");
  });

  it("parses the empty pointer as the whole document and refuses one without a leading slash", () => {
    expect(parsePointer("")).toEqual([]);
    expect(() => parsePointer("data/x")).toThrow(JsonPointerError);
  });

  const document: JsonObject = {
    data: { "a/b": "slash", "": "empty", nil: null },
    spec: { containers: [{ name: "app" }, { name: "sidecar" }] },
  };

  it("reads values, including null and empty keys, through objects and arrays", () => {
    expect(getAtPointer(document, "/data/a~1b")).toBe("slash");
    expect(getAtPointer(document, "/data/")).toBe("empty");
    expect(getAtPointer(document, "/data/nil")).toBeNull();
    expect(getAtPointer(document, "/spec/containers/1/name")).toBe("sidecar");
    expect(getAtPointer(document, "")).toBe(document);
  });

  it("answers ABSENT for anything missing on the way", () => {
    for (const pointer of [
      "/data/missing",
      "/nope/deeper",
      "/spec/containers/2",
      "/spec/containers/01",
      "/spec/containers/-",
      "/spec/containers/name",
      "/data/a~1b/further",
      "/data/toString",
    ]) {
      expect(getAtPointer(document, pointer)).toBe(ABSENT);
    }
  });
});

describe("toKubeObject", () => {
  it("turns model instances into plain JSON, Dates into strings and undefined members away", () => {
    class Model {
      created = new Date(Date.UTC(2025, 0, 1));
      missing = undefined;
      data = { key: "value" };
    }
    expect(toKubeObject(new Model())).toEqual({
      created: "2025-01-01T00:00:00.000Z",
      data: { key: "value" },
    });
  });
});

const target: TargetRef = {
  apiVersion: "v1",
  kind: "ConfigMap",
  namespace: "demo",
  name: "app",
  uid: "uid-1",
};

/**
 * A ConfigMap API that records patch bodies; tests script what reads return and whether patches fail.
 * FieldAccess reaches it through ClusterObjects, as it reaches the cluster.
 */
class FakeConfigMaps {
  objects: object[] = [];
  patches: (readonly JsonPatchOperation[])[] = [];
  patchError: Error | undefined;

  readNamespacedConfigMap = (): Promise<object> => {
    const next = this.objects.length > 1 ? this.objects.shift() : this.objects[0];
    if (next === undefined) return Promise.reject(new ApiException(404, "not found", {}, {}));
    return Promise.resolve(next);
  };

  patchNamespacedConfigMap = (request: { body: readonly JsonPatchOperation[] }): Promise<object> => {
    this.patches.push(request.body);
    if (this.patchError !== undefined) return Promise.reject(this.patchError);
    return Promise.resolve({});
  };

  cluster(): ClusterObjects {
    return new ClusterObjects({ core: this } as unknown as KubeClients);
  }
}

function configMap(data: Record<string, string> | undefined, uid = "uid-1", resourceVersion = "7"): object {
  return { metadata: { name: "app", namespace: "demo", uid, resourceVersion }, ...(data ? { data } : {}) };
}

function change(overrides: Partial<FieldChange> = {}): FieldChange {
  return { target, path: "/data/LEVEL", original: "info", injected: "debug", sensitive: false, ...overrides };
}

describe("FieldAccess.read", () => {
  it("reports a missing object, and else its uid and the value at the path", async () => {
    const api = new FakeConfigMaps();
    const access = new FieldAccess(api.cluster());
    expect(await access.read(change())).toEqual({ exists: false });
    api.objects = [configMap({ LEVEL: "debug" }, "uid-2")];
    expect(await access.read(change())).toEqual({ exists: true, uid: "uid-2", value: "debug" });
    expect(await access.read(change({ path: "/data/OTHER" }))).toEqual({
      exists: true,
      uid: "uid-2",
      value: ABSENT,
    });
  });

  it("names who owns the field now, from managedFields, for a heal no watch saw (the agent's resync)", async () => {
    const api = new FakeConfigMaps();
    const access = new FieldAccess(api.cluster());
    const owned = (manager: string) => ({
      manager,
      operation: "Update",
      time: "2026-12-07T20:00:00Z",
      fieldsType: "FieldsV1",
      fieldsV1: { "f:data": { "f:LEVEL": {} } },
    });
    api.objects = [
      { metadata: { uid: "uid-1", managedFields: [owned("kubectl-edit")] }, data: { LEVEL: "info" } },
    ];
    expect(await access.read(change())).toEqual({
      exists: true,
      uid: "uid-1",
      value: "info",
      lastChange: { by: "kubectl-edit" },
    });
    // Broadside's own write is never named: the field still holds what it injected, nobody healed it.
    api.objects = [
      { metadata: { uid: "uid-1", managedFields: [owned("broadside")] }, data: { LEVEL: "debug" } },
    ];
    expect(await access.read(change())).toEqual({ exists: true, uid: "uid-1", value: "debug" });
  });

  it("refuses kinds and apiVersions it does not know", async () => {
    const access = new FieldAccess(new FakeConfigMaps().cluster());
    const job = { ...target, apiVersion: "batch/v1", kind: "Job" };
    await expect(access.read(change({ target: job }))).rejects.toThrow(BroadsideError);
    const oldApps = { ...target, apiVersion: "extensions/v1beta1", kind: "Deployment" };
    await expect(access.read(change({ target: oldApps }))).rejects.toThrow(/cannot read or write/);
  });
});

describe("FieldAccess writes", () => {
  it("applies with tests of the uid and the original value, then a replace", async () => {
    const api = new FakeConfigMaps();
    await new FieldAccess(api.cluster()).apply(change());
    expect(api.patches).toEqual([
      [
        { op: "test", path: "/metadata/uid", value: "uid-1" },
        { op: "test", path: "/data/LEVEL", value: "info" },
        { op: "replace", path: "/data/LEVEL", value: "debug" },
      ],
    ]);
  });

  it("reverts with a test of the injected value, so a value someone else restored is never overwritten", async () => {
    const api = new FakeConfigMaps();
    await new FieldAccess(api.cluster()).revert(change());
    expect(api.patches[0]).toEqual([
      { op: "test", path: "/metadata/uid", value: "uid-1" },
      { op: "test", path: "/data/LEVEL", value: "debug" },
      { op: "replace", path: "/data/LEVEL", value: "info" },
    ]);
  });

  it("removes a field whose target value is absent", async () => {
    const api = new FakeConfigMaps();
    await new FieldAccess(api.cluster()).apply(change({ injected: ABSENT }));
    expect(api.patches[0]?.at(-1)).toEqual({ op: "remove", path: "/data/LEVEL" });
  });

  it("adds a field that was absent, pinned by the resourceVersion of a fresh read, with missing parents", async () => {
    const api = new FakeConfigMaps();
    api.objects = [configMap(undefined, "uid-1", "42")];
    await new FieldAccess(api.cluster()).apply(change({ original: ABSENT }));
    expect(api.patches[0]).toEqual([
      { op: "test", path: "/metadata/uid", value: "uid-1" },
      { op: "test", path: "/metadata/resourceVersion", value: "42" },
      { op: "add", path: "/data", value: {} },
      { op: "add", path: "/data/LEVEL", value: "debug" },
    ]);
  });

  it("reverts a removed key by adding it back after the same fresh-read checks", async () => {
    const api = new FakeConfigMaps();
    api.objects = [configMap({ OTHER: "x" }, "uid-1", "9")];
    await new FieldAccess(api.cluster()).revert(change({ injected: ABSENT }));
    expect(api.patches[0]).toEqual([
      { op: "test", path: "/metadata/uid", value: "uid-1" },
      { op: "test", path: "/metadata/resourceVersion", value: "9" },
      { op: "add", path: "/data/LEVEL", value: "info" },
    ]);
  });

  it("writes nothing and throws ConflictError when the fresh read shows the field set, or another object", async () => {
    const api = new FakeConfigMaps();
    const access = new FieldAccess(api.cluster());
    api.objects = [configMap({ LEVEL: "warn" })];
    await expect(access.apply(change({ original: ABSENT }))).rejects.toThrow(ConflictError);
    api.objects = [configMap({}, "uid-other")];
    await expect(access.apply(change({ original: ABSENT }))).rejects.toThrow(/recreated/);
    api.objects = [];
    await expect(access.apply(change({ original: ABSENT }))).rejects.toThrow(/no longer exists/);
    expect(api.patches).toEqual([]);
  });

  it("turns 404 and 409 into ConflictError", async () => {
    const api = new FakeConfigMaps();
    const access = new FieldAccess(api.cluster());
    api.patchError = new ApiException(404, "gone", {}, {});
    await expect(access.revert(change())).rejects.toThrow(ConflictError);
    api.patchError = new ApiException(409, "conflict", {}, {});
    await expect(access.revert(change())).rejects.toThrow(ConflictError);
  });

  it("turns a 422 into ConflictError when the object no longer holds what the test expected", async () => {
    const api = new FakeConfigMaps();
    api.patchError = new ApiException(422, "test failed", {}, {});
    api.objects = [configMap({ LEVEL: "someone-else" })];
    await expect(new FieldAccess(api.cluster()).revert(change())).rejects.toThrow(ConflictError);
  });

  it("reports a 422 on an unchanged object as the API's refusal, hiding its message for secrets", async () => {
    const api = new FakeConfigMaps();
    const access = new FieldAccess(api.cluster());
    api.patchError = new ApiException(422, 'Invalid value: "c2VjcmV0"', {}, {});
    api.objects = [configMap({ LEVEL: "info" })];
    const plain = await access.apply(change()).catch((error: unknown) => error);
    expect(plain).toBeInstanceOf(BroadsideError);
    expect(String(plain)).toContain("c2VjcmV0");
    const hidden = await access.apply(change({ sensitive: true })).catch((error: unknown) => error);
    expect(hidden).toBeInstanceOf(BroadsideError);
    expect(String(hidden)).not.toContain("c2VjcmV0");
  });

  it("refuses a change from absent to absent, which would be a bug in a fault", async () => {
    const api = new FakeConfigMaps();
    await expect(
      new FieldAccess(api.cluster()).apply(change({ original: ABSENT, injected: ABSENT })),
    ).rejects.toThrow(BroadsideError);
  });
});

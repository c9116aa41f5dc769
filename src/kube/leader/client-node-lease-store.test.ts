import { ApiException, type V1Lease } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../../core/errors.js";
import {
  ClientNodeLeaseStore,
  leaseOfRecord,
  leaseTime,
  recordOfLease,
  type LeaseApi,
} from "./client-node-lease-store.js";
import { LeaseConflictError, type LeaseRecord } from "./lease-store.js";

/*
 * The store against a small in-memory coordination API that answers as the API server does: a new
 * resourceVersion on each write, 409 on create over an existing Lease or on a stale resourceVersion,
 * 404 for a missing one, and MicroTimes back as the strings client-node leaves them as.
 */

function refused(status: number, message: string): ApiException<string> {
  return new ApiException(status, message, JSON.stringify({ kind: "Status", code: status, message }), {});
}

class MemoryLeaseApi implements LeaseApi {
  stored: V1Lease | undefined;
  private version = 40;
  /** Bodies sent, as JSON, the way they go over the wire. */
  readonly sent: Record<string, unknown>[] = [];
  refuseWith: ApiException<string> | undefined;

  readNamespacedLease(): Promise<V1Lease> {
    if (this.refuseWith !== undefined) return Promise.reject(this.refuseWith);
    if (this.stored === undefined) return Promise.reject(refused(404, "not found"));
    return Promise.resolve(this.wire(this.stored));
  }

  createNamespacedLease(request: { body: V1Lease }): Promise<V1Lease> {
    if (this.stored !== undefined) return Promise.reject(refused(409, "already exists"));
    return Promise.resolve(this.store(request.body));
  }

  replaceNamespacedLease(request: { body: V1Lease }): Promise<V1Lease> {
    if (this.stored === undefined) return Promise.reject(refused(404, "not found"));
    if (request.body.metadata?.resourceVersion !== this.stored.metadata?.resourceVersion) {
      return Promise.reject(refused(409, "the object has been modified"));
    }
    return Promise.resolve(this.store(request.body));
  }

  private store(body: V1Lease): V1Lease {
    const json = this.wire(body);
    this.sent.push(this.wire(json) as Record<string, unknown>);
    this.version += 1;
    json.metadata ??= {};
    json.metadata.resourceVersion = String(this.version);
    this.stored = json;
    return this.wire(json);
  }

  private wire<T extends object>(value: T): T {
    return JSON.parse(JSON.stringify(value)) as T;
  }
}

const renewedAt = Date.UTC(2026, 11, 6, 18, 0, 4, 567);
const held: LeaseRecord = {
  holderIdentity: "agent-7f9c_1a2b",
  leaseDurationSeconds: 15,
  acquireTime: Date.UTC(2026, 11, 6, 18, 0, 0, 123),
  renewTime: renewedAt,
  leaseTransitions: 3,
};

describe("the Lease as leader election reads and writes it", () => {
  it("writes MicroTimes with six fractional digits, as the API server parses them", () => {
    const body = JSON.parse(JSON.stringify(leaseOfRecord(held, { name: "n", namespace: "ns" }))) as {
      spec: Record<string, unknown>;
    };
    expect(body.spec).toEqual({
      holderIdentity: "agent-7f9c_1a2b",
      leaseDurationSeconds: 15,
      leaseTransitions: 3,
      acquireTime: "2026-12-06T18:00:00.123000Z",
      renewTime: "2026-12-06T18:00:04.567000Z",
    });
  });

  it("reads the fields back, and a Lease nobody holds as an empty holder", () => {
    const written = JSON.parse(
      JSON.stringify(leaseOfRecord(held, { name: "n", namespace: "ns" })),
    ) as V1Lease;
    written.metadata = { resourceVersion: "9" };
    expect(recordOfLease(written)).toEqual({
      record: held,
      version: "9",
    });
    expect(recordOfLease({ metadata: { resourceVersion: "1" } })).toEqual({
      record: {
        holderIdentity: "",
        leaseDurationSeconds: 0,
        acquireTime: undefined,
        renewTime: undefined,
        leaseTransitions: 0,
      },
      version: "1",
    });
  });

  it("takes a time as a string or a Date, and nothing else", () => {
    expect(leaseTime("2026-12-06T18:00:00.123456Z")).toBe(Date.UTC(2026, 11, 6, 18, 0, 0, 123));
    expect(leaseTime(new Date(5))).toBe(5);
    expect(leaseTime("yesterday")).toBeUndefined();
    expect(leaseTime(42)).toBeUndefined();
  });
});

describe("ClientNodeLeaseStore", () => {
  it("says the Lease is absent, creates it labelled as Broadside's, and refuses a second create", async () => {
    const api = new MemoryLeaseApi();
    const store = new ClientNodeLeaseStore(api, "broadside-system");

    expect(await store.get()).toBeUndefined();
    const created = await store.create(held);

    expect(created).toEqual({ record: held, version: "41" });
    expect(api.sent[0]).toMatchObject({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: "broadside-agent",
        namespace: "broadside-system",
        labels: { "app.kubernetes.io/managed-by": "broadside" },
      },
    });
    await expect(store.create(held)).rejects.toThrow(LeaseConflictError);
  });

  it("updates only at the version it names, keeping the labels and annotations others put on", async () => {
    const api = new MemoryLeaseApi();
    const store = new ClientNodeLeaseStore(api, "agents", "lock");
    await store.create(held);
    const stored = api.stored;
    if (stored?.metadata === undefined) throw new Error("no lease");
    stored.metadata.annotations = { team: "sre" };
    const read = await store.get();
    if (read === undefined) throw new Error("no lease");

    const renewed = await store.update({ ...held, renewTime: renewedAt + 2000 }, read.version);

    expect(renewed.record.renewTime).toBe(renewedAt + 2000);
    expect(api.sent[1]?.metadata).toEqual({
      name: "lock",
      namespace: "agents",
      resourceVersion: "41",
      labels: { "app.kubernetes.io/managed-by": "broadside" },
      annotations: { team: "sre" },
    });
    await expect(store.update(held, read.version)).rejects.toThrow(LeaseConflictError);
  });

  it("turns a Lease deleted under it into a conflict, and other refusals into errors that name it", async () => {
    const api = new MemoryLeaseApi();
    const store = new ClientNodeLeaseStore(api, "agents");
    await expect(store.update(held, "41")).rejects.toThrow(LeaseConflictError);

    api.refuseWith = refused(403, 'leases.coordination.k8s.io "broadside-agent" is forbidden');
    const failure = await store.get().catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(BroadsideError);
    expect((failure as BroadsideError).code).toBe("BRD_KUBE_FORBIDDEN");
    expect((failure as BroadsideError).message).toMatch(/^reading lease agents\/broadside-agent: /);
    expect((failure as BroadsideError).message).toContain(
      'leases.coordination.k8s.io "broadside-agent" is forbidden',
    );
    expect(store.describe).toBe("agents/broadside-agent");
  });
});

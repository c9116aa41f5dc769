import { describe, expect, it } from "vitest";
import { systemClock } from "../../core/clock.js";
import { FakeClock } from "../../core/fake-clock.js";
import { apiErrorMessage, apiStatus, KubeApiError } from "../api-errors.js";
import { defaultApiRateLimits } from "../rate-limits.js";
import { trimPod } from "../trimmed.js";
import { wireEngineKube, withMetadataDates } from "./clients.js";
import { WireTransport, type WireAnswer, type WireRequest } from "./transport.js";

/*
 * The engine's API calls over the wire client: each typed call becomes the REST request client-node would
 * send (method, path, query, body, content type), and its answer comes back as the typed call's would:
 * the JSON, metadata timestamps as Dates, a refusal as an error carrying the status and the Status.
 */

interface Recorded {
  readonly requests: WireRequest[];
  readonly transport: WireTransport;
}

/** A transport whose exchange records each request and answers with `answer(request)`. */
function recording(answer: (request: WireRequest) => WireAnswer, clock = systemClock): Recorded {
  const requests: WireRequest[] = [];
  const transport = new WireTransport(
    (request) => {
      requests.push(request);
      return Promise.resolve(answer(request));
    },
    defaultApiRateLimits,
    clock,
    { requests: 0 },
  );
  return { requests, transport };
}

const ok = (body: unknown): WireAnswer => ({ status: 200, headers: {}, text: JSON.stringify(body) });

describe("the engine's calls as REST requests", () => {
  it("reads, lists, creates, replaces and deletes ConfigMaps under the namespace's path", async () => {
    const { requests, transport } = recording(() => ok({ items: [] }));
    const kube = wireEngineKube(transport);
    await kube.core.readNamespacedConfigMap({ namespace: "broadside-system", name: "halt" });
    await kube.core.listNamespacedConfigMap({
      namespace: "broadside-system",
      labelSelector: "broadside.dev/ledger=record,broadside.dev/state=open",
      limit: 500,
      _continue: "abc",
    });
    await kube.core.createNamespacedConfigMap({ namespace: "broadside-system", body: { data: { a: "1" } } });
    await kube.core.replaceNamespacedConfigMap({
      namespace: "broadside-system",
      name: "ledger-x",
      body: { data: { a: "2" } },
    });
    await kube.core.deleteNamespacedConfigMap({
      namespace: "broadside-system",
      name: "ledger-x",
      body: { preconditions: { resourceVersion: "7" } },
    });
    expect(requests).toEqual([
      { method: "GET", path: "/api/v1/namespaces/broadside-system/configmaps/halt" },
      {
        method: "GET",
        path: "/api/v1/namespaces/broadside-system/configmaps?labelSelector=broadside.dev%2Fledger%3Drecord%2Cbroadside.dev%2Fstate%3Dopen&limit=500&continue=abc",
      },
      { method: "POST", path: "/api/v1/namespaces/broadside-system/configmaps", body: { data: { a: "1" } } },
      {
        method: "PUT",
        path: "/api/v1/namespaces/broadside-system/configmaps/ledger-x",
        body: { data: { a: "2" } },
      },
      {
        method: "DELETE",
        path: "/api/v1/namespaces/broadside-system/configmaps/ledger-x",
        body: { preconditions: { resourceVersion: "7" } },
      },
    ]);
  });

  it("shoots a pod by DELETE with its uid, or by an Eviction, and patches as a JSON Patch", async () => {
    const { requests, transport } = recording(() => ok({}));
    const kube = wireEngineKube(transport);
    await kube.core.deleteNamespacedPod({
      namespace: "shop",
      name: "web-1",
      body: { preconditions: { uid: "u-1" }, gracePeriodSeconds: 0 },
    });
    await kube.core.createNamespacedPodEviction({
      namespace: "shop",
      name: "web-1",
      body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web-1", namespace: "shop" } },
    });
    await kube.apps.patchNamespacedDeployment({
      namespace: "shop",
      name: "web",
      fieldManager: "broadside",
      body: [{ op: "test", path: "/spec/replicas", value: 3 }],
    });
    expect(requests.map(({ method, path, contentType }) => ({ method, path, contentType }))).toEqual([
      { method: "DELETE", path: "/api/v1/namespaces/shop/pods/web-1", contentType: undefined },
      { method: "POST", path: "/api/v1/namespaces/shop/pods/web-1/eviction", contentType: undefined },
      {
        method: "PATCH",
        path: "/apis/apps/v1/namespaces/shop/deployments/web?fieldManager=broadside",
        contentType: "application/json-patch+json",
      },
    ]);
    expect(requests[0]?.body).toEqual({ preconditions: { uid: "u-1" }, gracePeriodSeconds: 0 });
  });

  it("reaches the other kinds at their group's paths", async () => {
    const { requests, transport } = recording(() => ok({ items: [] }));
    const kube = wireEngineKube(transport);
    await kube.core.readNamespace({ name: "shop" });
    await kube.core.listNamespace();
    await kube.core.createNamespace({ body: { metadata: { name: "broadside-system" } } });
    await kube.apps.listReplicaSetForAllNamespaces();
    await kube.apps.readNamespacedStatefulSet({ namespace: "shop", name: "db" });
    await kube.policy.listNamespacedPodDisruptionBudget({ namespace: "shop" });
    await kube.wire.pods("/api/v1/namespaces/shop/pods");
    expect(requests.map(({ method, path }) => `${method} ${path}`)).toEqual([
      "GET /api/v1/namespaces/shop",
      "GET /api/v1/namespaces",
      "POST /api/v1/namespaces",
      "GET /apis/apps/v1/replicasets",
      "GET /apis/apps/v1/namespaces/shop/statefulsets/db",
      "GET /apis/policy/v1/namespaces/shop/poddisruptionbudgets",
      "GET /api/v1/namespaces/shop/pods",
    ]);
  });

  it("escapes names into path segments, so a name never reaches another path", async () => {
    const { requests, transport } = recording(() => ok({}));
    await wireEngineKube(transport).core.readNamespacedSecret({ namespace: "shop", name: "../../nodes/x?y" });
    expect(requests[0]?.path).toBe("/api/v1/namespaces/shop/secrets/..%2F..%2Fnodes%2Fx%3Fy");
  });
});

describe("answers as the typed calls give them", () => {
  it("turns metadata timestamps into Dates, on an object and on each item of a list, and nothing else", async () => {
    const made = "2026-12-07T10:00:00Z";
    const object = {
      metadata: { name: "halt", creationTimestamp: made, deletionTimestamp: made },
      data: { creationTimestamp: made },
    };
    const read = withMetadataDates(structuredClone(object));
    expect(read.metadata.creationTimestamp).toEqual(new Date(made));
    expect(read.metadata.deletionTimestamp).toEqual(new Date(made));
    expect(read.data.creationTimestamp).toBe(made);
    const list = withMetadataDates({ items: [structuredClone(object)] });
    expect(list.items[0]?.metadata.creationTimestamp).toEqual(new Date(made));

    const { transport } = recording(() => ok(object));
    const configMap = await wireEngineKube(transport).core.readNamespacedConfigMap({
      namespace: "broadside-system",
      name: "halt",
    });
    expect(configMap.metadata?.creationTimestamp?.getTime()).toBe(Date.parse(made));
  });

  it("rejects a refusal with its status and the server's own words", async () => {
    const status = {
      kind: "Status",
      code: 403,
      message: 'pods "web-1" is forbidden: User "x" cannot delete',
    };
    const { transport } = recording(() => ({ status: 403, headers: {}, text: JSON.stringify(status) }));
    const refused = await wireEngineKube(transport)
      .core.deleteNamespacedPod({ namespace: "shop", name: "web-1" })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect(apiStatus(refused)).toBe(403);
    expect(apiErrorMessage(refused)).toContain('pods "web-1" is forbidden: User "x" cannot delete');
  });

  it("lists pods from a JSON answer trimmed as the cache trims them, and an empty list for items: null", async () => {
    const { transport } = recording(() => ok({ items: null }));
    await expect(wireEngineKube(transport).wire.pods("/api/v1/pods")).resolves.toEqual([]);
    const pod = {
      metadata: { name: "web-1", namespace: "shop", uid: "u", managedFields: [{ manager: "kubelet" }] },
      spec: { nodeName: "n1", containers: [{ name: "app", image: "x" }] },
      status: { phase: "Running", hostIP: "10.0.0.1" },
    };
    const { transport: json } = recording(() => ok({ items: [pod] }));
    await expect(wireEngineKube(json).wire.pods("/api/v1/pods")).resolves.toEqual([trimPod(pod)]);
  });
});

describe("the transport's throttle", () => {
  it("waits as long as a 429's Retry-After asks, counts every attempt and gives the final answer", async () => {
    const clock = new FakeClock(1_000);
    let calls = 0;
    const { transport } = recording(() => {
      calls += 1;
      return calls === 1 ? { status: 429, headers: { "retry-after": "2" }, text: "{}" } : ok({ name: "x" });
    }, clock);
    const answer = transport.json<{ name: string }>({ method: "GET", path: "/api/v1/namespaces/x" });
    await clock.advance(2_000);
    await expect(answer).resolves.toEqual({ name: "x" });
    expect(clock.sleeps).toContain(2_000);
    expect(transport.counter.requests).toBe(2);
  });
});

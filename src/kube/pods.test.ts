import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { KubeClients } from "./client.js";
import { ClusterPods } from "./pods.js";

const victim = { namespace: "shop", name: "web-1", uid: "u1" };

/** The typed clients ClusterPods calls, recording each request as client-node would send it. */
function fakeKube(answer: () => Promise<unknown> = () => Promise.resolve({})) {
  const requests: { call: string; request: unknown }[] = [];
  const record = (call: string) => (request: unknown) => {
    requests.push({ call, request });
    return answer();
  };
  const kube = {
    core: {
      deleteNamespacedPod: record("delete"),
      createNamespacedPodEviction: record("evict"),
      readNamespacedPod: record("read"),
    },
    policy: { listNamespacedPodDisruptionBudget: record("budgets") },
  } as unknown as KubeClients;
  return { pods: new ClusterPods(kube), requests };
}

describe("shots at pods through client-node", () => {
  it("deletes with a uid precondition and the pod's own grace period", async () => {
    const { pods, requests } = fakeKube();
    await pods.delete(victim, {});
    expect(requests).toEqual([
      {
        call: "delete",
        request: { name: "web-1", namespace: "shop", body: { preconditions: { uid: "u1" } } },
      },
    ]);
  });

  it("passes a grace period when the shot sets one, zero included", async () => {
    const { pods, requests } = fakeKube();
    await pods.delete(victim, { gracePeriodSeconds: 0 });
    expect(requests[0]?.request).toEqual({
      name: "web-1",
      namespace: "shop",
      body: { preconditions: { uid: "u1" }, gracePeriodSeconds: 0 },
    });
  });

  it("evicts through the Eviction API with the same uid precondition and grace period", async () => {
    const { pods, requests } = fakeKube();
    await pods.evict(victim, { gracePeriodSeconds: 3 });
    expect(requests).toEqual([
      {
        call: "evict",
        request: {
          name: "web-1",
          namespace: "shop",
          body: {
            apiVersion: "policy/v1",
            kind: "Eviction",
            metadata: { name: "web-1", namespace: "shop" },
            deleteOptions: { preconditions: { uid: "u1" }, gracePeriodSeconds: 3 },
          },
        },
      },
    ]);
  });

  it("passes the API's refusal on untouched, for the fault to read its status", async () => {
    const refusal = new ApiException(409, "Conflict", "{}", {});
    const { pods } = fakeKube(() => Promise.reject(refusal));
    await expect(pods.delete(victim, {})).rejects.toBe(refusal);
  });

  it("reads a pod that is gone as undefined, and other failures as failures", async () => {
    expect(
      await fakeKube(() => Promise.reject(new ApiException(404, "", "{}", {}))).pods.read("shop", "x"),
    ).toBe(undefined);
    const forbidden = fakeKube(() => Promise.reject(new ApiException(403, "", "{}", {})));
    await expect(forbidden.pods.read("shop", "x")).rejects.toThrow();
  });
});

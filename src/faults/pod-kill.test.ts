import { ApiException, type V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import type { KubeClients } from "../kube/client.js";
import { podKill } from "./pod-kill.js";

const victim: V1Pod = { metadata: { namespace: "shop", name: "web-1", uid: "u1" } };

function fakeKube(answer: () => Promise<unknown>) {
  const requests: unknown[] = [];
  const kube = {
    core: {
      deleteNamespacedPod: (request: unknown) => {
        requests.push(request);
        return answer();
      },
    },
  } as unknown as KubeClients;
  return { kube, requests };
}

const failWith = (code: number) => () => Promise.reject(new ApiException(code, "refused", "{}", {}));

describe("pod-kill", () => {
  it("deletes the pod with a uid precondition and the pod's own grace period", async () => {
    const { kube, requests } = fakeKube(() => Promise.resolve({}));
    const before = Date.now();
    const outcome = await podKill.fire(kube, victim, {});
    expect(outcome.accepted).toBe(true);
    expect(outcome.at).toBeGreaterThanOrEqual(before);
    expect(requests).toEqual([{ name: "web-1", namespace: "shop", body: { preconditions: { uid: "u1" } } }]);
  });

  it("passes a grace period when the shot sets one, zero included", async () => {
    const { kube, requests } = fakeKube(() => Promise.resolve({}));
    await podKill.fire(kube, victim, { gracePeriodSeconds: 0 });
    expect(requests).toEqual([
      { name: "web-1", namespace: "shop", body: { preconditions: { uid: "u1" }, gracePeriodSeconds: 0 } },
    ]);
  });

  it("reports a pod already deleted, or replaced under the same name, as not accepted", async () => {
    expect(await podKill.fire(fakeKube(failWith(404)).kube, victim, {})).toMatchObject({
      accepted: false,
      reason: "already gone",
    });
    expect(await podKill.fire(fakeKube(failWith(409)).kube, victim, {})).toMatchObject({
      accepted: false,
      reason: "already gone: a newer pod now has its name",
    });
  });

  it("throws other API failures as BRD_KUBE_API naming the pod", async () => {
    const failure = await podKill.fire(fakeKube(failWith(403)).kube, victim, {}).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(BroadsideError);
    expect((failure as BroadsideError).code).toBe("BRD_KUBE_API");
    expect((failure as BroadsideError).message).toContain("deleting pod shop/web-1");
  });

  it("refuses a pod without a uid, which could not be aimed at safely", async () => {
    const { kube, requests } = fakeKube(() => Promise.resolve({}));
    const unnamed: V1Pod = { metadata: { namespace: "shop", name: "web-1" } };
    await expect(podKill.fire(kube, unnamed, {})).rejects.toThrow(/without namespace, name or uid/);
    expect(requests).toEqual([]);
  });
});

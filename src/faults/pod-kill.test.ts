import { ApiException, type V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { FakeClock } from "../core/fake-clock.js";
import type { PodIdentity, PodShotOptions } from "../core/shot.js";
import type { PodShots } from "../kube/pods.js";
import { podKill } from "./pod-kill.js";
import type { PodShotContext } from "./types.js";

const victim: V1Pod = { metadata: { namespace: "shop", name: "web-1", uid: "u1" } };
const answeredAt = 1_700_000_000_000;

/** The pod API as pod-kill sees it: records each delete and answers as the test says. */
function fakePods(answer: () => Promise<void>) {
  const deletes: { pod: PodIdentity; options: PodShotOptions }[] = [];
  const pods: PodShots = {
    delete: (pod, options) => {
      deletes.push({ pod, options });
      return answer();
    },
    evict: () => Promise.reject(new Error("pod-kill never evicts")),
    disruptionBudgets: () => Promise.reject(new Error("pod-kill never reads budgets")),
  };
  const ctx: PodShotContext = { pods, clock: new FakeClock(answeredAt) };
  return { ctx, deletes };
}

const failWith = (code: number) => () => Promise.reject(new ApiException(code, "refused", "{}", {}));

describe("pod-kill", () => {
  it("deletes the pod by its uid with the pod's own grace period, stamped by the clock", async () => {
    const { ctx, deletes } = fakePods(() => Promise.resolve());
    const outcome = await podKill.fire(ctx, victim, {});
    expect(outcome).toEqual({ accepted: true, at: answeredAt });
    expect(deletes).toEqual([{ pod: { namespace: "shop", name: "web-1", uid: "u1" }, options: {} }]);
  });

  it("passes a grace period when the shot sets one, zero included", async () => {
    const { ctx, deletes } = fakePods(() => Promise.resolve());
    await podKill.fire(ctx, victim, { gracePeriodSeconds: 0 });
    expect(deletes).toEqual([
      { pod: { namespace: "shop", name: "web-1", uid: "u1" }, options: { gracePeriodSeconds: 0 } },
    ]);
  });

  it("reports a pod already deleted, or replaced under the same name, as not accepted", async () => {
    expect(await podKill.fire(fakePods(failWith(404)).ctx, victim, {})).toMatchObject({
      accepted: false,
      reason: "already gone",
    });
    expect(await podKill.fire(fakePods(failWith(409)).ctx, victim, {})).toMatchObject({
      accepted: false,
      reason: "already gone: a newer pod now has its name",
    });
  });

  it("throws other API failures as BRD_KUBE_API naming the pod", async () => {
    const failure = await podKill.fire(fakePods(failWith(403)).ctx, victim, {}).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(BroadsideError);
    expect((failure as BroadsideError).code).toBe("BRD_KUBE_API");
    expect((failure as BroadsideError).message).toContain("deleting pod shop/web-1");
  });

  it("refuses a pod without a uid, which could not be aimed at safely", async () => {
    const { ctx, deletes } = fakePods(() => Promise.resolve());
    const unnamed: V1Pod = { metadata: { namespace: "shop", name: "web-1" } };
    await expect(podKill.fire(ctx, unnamed, {})).rejects.toThrow(/without namespace, name or uid/);
    expect(deletes).toEqual([]);
  });
});

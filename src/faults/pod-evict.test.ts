import {
  ApiException,
  type V1Pod,
  type V1PodDisruptionBudget,
  type V1PodDisruptionBudgetSpec,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { FakeClock } from "../core/fake-clock.js";
import type { PodIdentity, PodShotOptions } from "../core/shot.js";
import type { PodShots } from "../kube/pods.js";
import { podEvict } from "./pod-evict.js";
import type { PodShotContext } from "./types.js";

const victim: V1Pod = {
  metadata: { namespace: "shop", name: "web-1", uid: "u1", labels: { app: "web", tier: "front" } },
};

function budget(name: string, selector: V1PodDisruptionBudgetSpec): V1PodDisruptionBudget {
  return { metadata: { name }, spec: selector };
}

/** The pod API as pod-evict sees it: records each eviction, answers and lists budgets as told. */
function fakeKube(answer: () => Promise<void>, budgets: () => Promise<V1PodDisruptionBudget[]>) {
  const requests: { pod: PodIdentity; options: PodShotOptions }[] = [];
  const pods: PodShots = {
    delete: () => Promise.reject(new Error("pod-evict never deletes")),
    evict: (pod, options) => {
      requests.push({ pod, options });
      return answer();
    },
    disruptionBudgets: budgets,
  };
  const kube: PodShotContext = { pods, clock: new FakeClock(1_700_000_000_000) };
  return { kube, requests };
}

const status = (message: string) => JSON.stringify({ kind: "Status", message });
const failWith =
  (code: number, message = "refused") =>
  () =>
    Promise.reject(new ApiException(code, "refused", status(message), {}));

const budgets = () =>
  Promise.resolve([
    budget("web-min", { selector: { matchLabels: { app: "web" } } }),
    budget("db-min", { selector: { matchLabels: { app: "db" } } }),
    budget("front", { selector: { matchExpressions: [{ key: "tier", operator: "In", values: ["front"] }] } }),
  ]);

describe("pod-evict", () => {
  it("asks the Eviction API for the pod by its uid, with the shot's grace period", async () => {
    const { kube, requests } = fakeKube(() => Promise.resolve(), budgets);
    expect(await podEvict.fire(kube, victim, { gracePeriodSeconds: 3 })).toEqual({
      accepted: true,
      at: 1_700_000_000_000,
    });
    expect(requests).toEqual([
      { pod: { namespace: "shop", name: "web-1", uid: "u1" }, options: { gracePeriodSeconds: 3 } },
    ]);
  });

  it("reports a 429 as blocked by the budgets whose selector matches the pod, and does not retry", async () => {
    const { kube, requests } = fakeKube(failWith(429), () =>
      budgets().then((all) => all.filter((b) => b.metadata?.name === "web-min")),
    );
    expect(await podEvict.fire(kube, victim, {})).toMatchObject({
      accepted: false,
      reason: "blocked by PDB web-min",
      budgets: ["web-min"],
    });
    expect(requests).toHaveLength(1);
  });

  it("names every covering budget when the API refuses a pod covered by several", async () => {
    const several =
      "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.";
    const outcome = await podEvict.fire(fakeKube(failWith(500, several), budgets).kube, victim, {});
    expect(outcome.accepted).toBe(false);
    expect(outcome.accepted ? "" : outcome.reason).toMatch(/^blocked by PDB front, web-min \(/);
    expect(outcome.accepted ? [] : outcome.budgets).toEqual(["front", "web-min"]);
  });

  it("says so when no budget can be found for a 429", async () => {
    const outcome = await podEvict.fire(
      fakeKube(failWith(429, "slow down"), () => Promise.resolve([])).kube,
      victim,
      {},
    );
    expect(outcome).toMatchObject({ accepted: false, reason: "eviction refused with HTTP 429: slow down" });
    expect(outcome).not.toHaveProperty("budgets");
  });

  it("still reports the refusal when the budgets cannot be listed", async () => {
    const outcome = await podEvict.fire(
      fakeKube(failWith(429), () => Promise.reject(new ApiException(403, "Forbidden", "{}", {}))).kube,
      victim,
      {},
    );
    expect(outcome.accepted ? "" : outcome.reason).toMatch(
      /^blocked by a PodDisruptionBudget \(could not list/,
    );
  });

  it("reports a gone or replaced pod as not accepted and throws other failures", async () => {
    expect(await podEvict.fire(fakeKube(failWith(404), budgets).kube, victim, {})).toMatchObject({
      accepted: false,
      reason: "already gone",
    });
    expect(await podEvict.fire(fakeKube(failWith(409), budgets).kube, victim, {})).toMatchObject({
      accepted: false,
      reason: "already gone: a newer pod now has its name",
    });
    const failure = await podEvict
      .fire(fakeKube(failWith(500), budgets).kube, victim, {})
      .catch((e: unknown) => e);
    expect((failure as BroadsideError).code).toBe("BRD_KUBE_API");
  });
});

import {
  ApiException,
  type V1Pod,
  type V1PodDisruptionBudget,
  type V1PodDisruptionBudgetSpec,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import type { KubeClients } from "../kube/client.js";
import { podEvict, selectorMatches, statusMessage } from "./pod-evict.js";

const victim: V1Pod = {
  metadata: { namespace: "shop", name: "web-1", uid: "u1", labels: { app: "web", tier: "front" } },
};

function budget(name: string, selector: V1PodDisruptionBudgetSpec): V1PodDisruptionBudget {
  return { metadata: { name }, spec: selector };
}

function fakeKube(answer: () => Promise<unknown>, budgets: () => Promise<V1PodDisruptionBudget[]>) {
  const requests: unknown[] = [];
  const kube = {
    core: {
      createNamespacedPodEviction: (request: unknown) => {
        requests.push(request);
        return answer();
      },
    },
    policy: {
      listNamespacedPodDisruptionBudget: async () => ({ items: await budgets() }),
    },
  } as unknown as KubeClients;
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

describe("which PodDisruptionBudgets cover a pod", () => {
  const labels = { app: "web", tier: "front" };

  it("matches matchLabels and matchExpressions together", () => {
    expect(selectorMatches({ matchLabels: { app: "web" } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: "db" } }, labels)).toBe(false);
    expect(
      selectorMatches(
        { matchLabels: { app: "web" }, matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] },
        labels,
      ),
    ).toBe(true);
    expect(
      selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["front"] }] }, labels),
    ).toBe(false);
  });

  it("reads an empty selector as every pod and an absent one as none, as policy/v1 does", () => {
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches(undefined, labels)).toBe(false);
  });

  it("matches nothing with an operator Kubernetes does not know", () => {
    expect(
      selectorMatches({ matchExpressions: [{ key: "app", operator: "Gt", values: ["1"] }] }, labels),
    ).toBe(false);
  });
});

describe("the message of an API error", () => {
  it("comes from the Status in the body, as text or as an object", () => {
    expect(statusMessage(new ApiException(429, "x", status("too many"), {}))).toBe("too many");
    expect(statusMessage(new ApiException(429, "x", { message: "parsed" }, {}))).toBe("parsed");
    expect(statusMessage(new ApiException(429, "x", "not json", {}))).toBeUndefined();
    expect(statusMessage(new Error("plain"))).toBeUndefined();
  });
});

describe("pod-evict", () => {
  it("asks the Eviction API with a uid precondition and the shot's grace period", async () => {
    const { kube, requests } = fakeKube(() => Promise.resolve({}), budgets);
    expect((await podEvict.fire(kube, victim, { gracePeriodSeconds: 3 })).accepted).toBe(true);
    expect(requests).toEqual([
      {
        name: "web-1",
        namespace: "shop",
        body: {
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name: "web-1", namespace: "shop" },
          deleteOptions: { preconditions: { uid: "u1" }, gracePeriodSeconds: 3 },
        },
      },
    ]);
  });

  it("reports a 429 as blocked by the budgets whose selector matches the pod, and does not retry", async () => {
    const { kube, requests } = fakeKube(failWith(429), () =>
      budgets().then((all) => all.filter((b) => b.metadata?.name === "web-min")),
    );
    expect(await podEvict.fire(kube, victim, {})).toMatchObject({
      accepted: false,
      reason: "blocked by PDB web-min",
    });
    expect(requests).toHaveLength(1);
  });

  it("names every covering budget when the API refuses a pod covered by several", async () => {
    const several =
      "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.";
    const outcome = await podEvict.fire(fakeKube(failWith(500, several), budgets).kube, victim, {});
    expect(outcome.accepted).toBe(false);
    expect(outcome.accepted ? "" : outcome.reason).toMatch(/^blocked by PDB front, web-min \(/);
  });

  it("says so when no budget can be found for a 429", async () => {
    const outcome = await podEvict.fire(
      fakeKube(failWith(429, "slow down"), () => Promise.resolve([])).kube,
      victim,
      {},
    );
    expect(outcome).toMatchObject({ accepted: false, reason: "eviction refused with HTTP 429: slow down" });
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

import { cliParamNames } from "./plan-support.js";
import { describe, expect, it } from "vitest";
import { toKubeObject, type ObjectReader } from "../kube/objects.js";
import type { ScaleParams } from "./scale.js";
import { scale } from "./scale.js";

/** A cluster holding at most this workload, behind the reader the fault plans from. */
function objectsWith(deployment: object | undefined): ObjectReader {
  return { read: () => Promise.resolve(deployment === undefined ? undefined : toKubeObject(deployment)) };
}

const web = { metadata: { name: "web", namespace: "demo", uid: "uid-1" }, spec: { replicas: 3 } };

function params(overrides: Partial<ScaleParams>): ScaleParams {
  return { namespace: "demo", kind: "deployment", name: "web", replicas: 1, ...overrides };
}

describe("scale plan", () => {
  it("plans /spec/replicas from the current count to the new one", async () => {
    expect(await scale.plan(objectsWith(web), params({}), cliParamNames)).toEqual([
      {
        faultKind: "scale",
        target: { apiVersion: "apps/v1", kind: "Deployment", namespace: "demo", name: "web", uid: "uid-1" },
        path: "/spec/replicas",
        original: 3,
        injected: 1,
        sensitive: false,
        description: "deployment demo/web spec.replicas: 3 -> 1",
      },
    ]);
  });

  it("scales a StatefulSet to zero only with unsafe", async () => {
    const [change] = await scale.plan(
      objectsWith(web),
      params({ kind: "statefulset", replicas: 0, unsafe: true }),
      cliParamNames,
    );
    expect(change).toMatchObject({ target: { kind: "StatefulSet" }, injected: 0 });
  });

  it.each([
    [{ replicas: 0 }, "--replicas: scaling to 0 takes the workload down entirely; add --unsafe to do it"],
    [{ replicas: -1 }, "--replicas: must not be negative"],
    [{ replicas: 1.5 }, "--replicas: must be a whole number"],
    [{ replicas: Number.NaN }, "--replicas: must be a whole number"],
    [{ replicas: 99_999_999_999 }, "--replicas: must be at most 1000"],
    [{ replicas: 3 }, "--replicas: deployment demo/web already has 3 replicas; nothing would change"],
    [{ kind: "daemonset" as "deployment" }, /^TARGET: /],
  ])("refuses %j", async (overrides, message) => {
    await expect(scale.plan(objectsWith(web), params(overrides), cliParamNames)).rejects.toThrow(message);
  });

  it("names the TARGET when the workload does not exist", async () => {
    await expect(scale.plan(objectsWith(undefined), params({}), cliParamNames)).rejects.toThrow(
      "TARGET: deployment demo/web not found",
    );
  });
});

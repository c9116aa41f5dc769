import { cliParamNames } from "./plan-support.js";
import { describe, expect, it } from "vitest";
import { ABSENT } from "../core/ledger/record.js";
import { toKubeObject, type ObjectReader } from "../kube/objects.js";
import type { ResourceSqueezeParams } from "./resource-squeeze.js";
import { describeResourceChange, resourceSqueeze, squeezeResources } from "./resource-squeeze.js";

describe("squeezeResources", () => {
  const limits = { cpu: "200m", memory: "64Mi" };

  it("sets the limits and keeps other resources and fields", () => {
    const original = { limits: { cpu: "1", "ephemeral-storage": "1Gi" }, claims: [{ name: "gpu" }] };
    expect(squeezeResources(original, limits)).toEqual({
      limits: { cpu: "200m", memory: "64Mi", "ephemeral-storage": "1Gi" },
      claims: [{ name: "gpu" }],
    });
  });

  it("clamps requests above the new limits, keeps those below, and leaves absent requests absent", () => {
    const original = { requests: { cpu: "500m", memory: "32Mi", "nvidia.com/gpu": "1" } };
    expect(squeezeResources(original, limits)).toEqual({
      limits: { cpu: "200m", memory: "64Mi" },
      requests: { cpu: "200m", memory: "32Mi", "nvidia.com/gpu": "1" },
    });
    expect(squeezeResources({}, limits)).toEqual({ limits });
    expect(squeezeResources(ABSENT, limits)).toEqual({ limits });
  });

  it("compares quantities by value, not by text", () => {
    const original = { requests: { cpu: "0.2", memory: "1G" } };
    expect(squeezeResources(original, limits)).toEqual({
      limits,
      requests: { cpu: "0.2", memory: "64Mi" },
    });
  });
});

describe("describeResourceChange", () => {
  it("lists what changed, with (none) for what was not set", () => {
    const original = { limits: { memory: "256Mi" }, requests: { cpu: "250m", memory: "32Mi" } };
    const injected = squeezeResources(original, { cpu: "100m", memory: "64Mi" });
    expect(describeResourceChange(original, injected)).toBe(
      "limits.cpu (none) -> 100m, limits.memory 256Mi -> 64Mi, requests.cpu 250m -> 100m",
    );
  });
});

/** A cluster holding at most this workload, behind the reader the fault plans from. */
function objectsWith(workload: object | undefined): ObjectReader {
  return { read: () => Promise.resolve(workload === undefined ? undefined : toKubeObject(workload)) };
}

const web = {
  metadata: { name: "web", namespace: "demo", uid: "uid-1" },
  spec: {
    template: {
      spec: {
        containers: [
          { name: "app", resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m" } } },
          { name: "sidecar", resources: {} },
        ],
      },
    },
  },
};

function params(overrides: Partial<ResourceSqueezeParams>): ResourceSqueezeParams {
  return { namespace: "demo", kind: "deployment", name: "web", cpu: "0.1", memory: "64Mi", ...overrides };
}

describe("resource-squeeze plan", () => {
  it("plans one change per container, in canonical quantities", async () => {
    const changes = await resourceSqueeze.plan(
      objectsWith(web),
      params({ memory: "65536Ki" }),
      cliParamNames,
    );
    expect(changes).toHaveLength(2);
    expect(changes[0]).toEqual({
      faultKind: "resource-squeeze",
      target: { apiVersion: "apps/v1", kind: "Deployment", namespace: "demo", name: "web", uid: "uid-1" },
      path: "/spec/template/spec/containers/0/resources",
      original: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m" } },
      injected: { limits: { cpu: "100m", memory: "64Mi" }, requests: { cpu: "100m" } },
      sensitive: false,
      description:
        "deployment demo/web container app: limits.cpu 1 -> 100m, limits.memory 1Gi -> 64Mi, requests.cpu 500m -> 100m",
    });
    expect(changes[1]).toMatchObject({
      path: "/spec/template/spec/containers/1/resources",
      original: {},
      injected: { limits: { cpu: "100m", memory: "64Mi" } },
    });
  });

  it("plans only the named container, for every workload kind", async () => {
    for (const kind of ["deployment", "statefulset", "daemonset"] as const) {
      const changes = await resourceSqueeze.plan(
        objectsWith(web),
        params({ kind, container: "sidecar" }),
        cliParamNames,
      );
      expect(changes.map((change) => change.path)).toEqual(["/spec/template/spec/containers/1/resources"]);
    }
  });

  it.each([
    [{ container: "db" }, '--container: deployment demo/web has no container "db"; it has: app, sidecar'],
    [{ cpu: "0" }, /^--cpu: must be more than zero/],
    [{ cpu: "-1" }, /^--cpu: must be more than zero/],
    [{ cpu: "fast" }, /^--cpu: "fast" is not a CPU quantity/],
    [{ memory: "64MB" }, /^--memory: "64MB" is not a memory quantity/],
    [{ memory: "0Mi" }, /^--memory: must be more than zero/],
    [{ kind: "pod" as "deployment" }, /^TARGET: /],
  ])("refuses %j", async (overrides, message) => {
    await expect(resourceSqueeze.plan(objectsWith(web), params(overrides), cliParamNames)).rejects.toThrow(
      message,
    );
  });

  it("refuses a squeeze that changes nothing", async () => {
    await expect(
      resourceSqueeze.plan(
        objectsWith(web),
        params({ cpu: "1", memory: "1Gi", container: "app" }),
        cliParamNames,
      ),
    ).rejects.toThrow(/nothing would change/);
  });

  it("names the TARGET when the workload does not exist", async () => {
    await expect(resourceSqueeze.plan(objectsWith(undefined), params({}), cliParamNames)).rejects.toThrow(
      /^TARGET: /,
    );
  });
});

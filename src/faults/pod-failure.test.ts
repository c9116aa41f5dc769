import { describe, expect, it } from "vitest";
import { FakeClock } from "../core/fake-clock.js";
import { MemoryCluster } from "../kube/memory-cluster.js";
import { cliParamNames } from "./plan-support.js";
import { defaultPauseImage, podFailure, podFailureChanges } from "./pod-failure.js";

const digest = "ghcr.io/shop/web:1.4@sha256:" + "a".repeat(64);

function shopPod(containers: object[], initContainers?: object[]) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: "shop", name: "web-1" },
    spec: { containers, ...(initContainers === undefined ? {} : { initContainers }) },
  };
}

function clusterWith(pod: object): MemoryCluster {
  const cluster = new MemoryCluster(new FakeClock(0));
  cluster.put(pod);
  return cluster;
}

describe("pod-failure plans one image change per container, init containers included", () => {
  it("swaps every image for the pause image and keeps the original exactly, digest and all", async () => {
    const cluster = clusterWith(
      shopPod(
        [
          { name: "web", image: digest },
          { name: "sidecar", image: "envoy:v1.30" },
        ],
        [{ name: "migrate", image: "shop/migrate:7" }],
      ),
    );
    const changes = await podFailure.plan(cluster, { namespace: "shop", name: "web-1" }, cliParamNames);
    expect(changes.map((change) => [change.path, change.original, change.injected])).toEqual([
      ["/spec/initContainers/0/image", "shop/migrate:7", defaultPauseImage],
      ["/spec/containers/0/image", digest, defaultPauseImage],
      ["/spec/containers/1/image", "envoy:v1.30", defaultPauseImage],
    ]);
    expect(changes[1]).toMatchObject({
      faultKind: "pod-failure",
      target: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-1", uid: "uid-1" },
      sensitive: false,
      description: `pod shop/web-1 container web: "${digest}" -> "${defaultPauseImage}"`,
    });
    expect(changes[0]?.description).toMatch(/^pod shop\/web-1 init container migrate: /);
  });

  it("uses the pause image given, and leaves a container that already runs it alone", () => {
    const cluster = clusterWith(
      shopPod([
        { name: "web", image: "shop/web:1" },
        { name: "idle", image: "mirror.local:5000/pause:3.9" },
      ]),
    );
    const pod = cluster.get("Pod", "shop", "web-1") ?? {};
    expect(podFailureChanges(pod, "mirror.local:5000/pause:3.9").map((change) => change.path)).toEqual([
      "/spec/containers/0/image",
    ]);
  });

  it("refuses a pod whose every container runs the pause image already: nothing would change", async () => {
    const cluster = clusterWith(shopPod([{ name: "web", image: defaultPauseImage }]));
    const refusal = podFailure.plan(cluster, { namespace: "shop", name: "web-1" }, cliParamNames);
    await expect(refusal).rejects.toMatchObject({ code: "BRD_USAGE" });
    await expect(refusal).rejects.toThrow(/^--pause-image: every container of pod shop\/web-1 runs/);
  });

  it.each([
    ["an image that is not a reference", { pauseImage: "Pause Image" }, /^--pause-image: must be an image/],
    ["a tag that is too long", { pauseImage: `pause:${"x".repeat(600)}` }, /^--pause-image: must be at most/],
    ["an unknown parameter", { image: "pause" }, /^parameters: /],
  ])("refuses %s before reading anything", async (_, extra, message) => {
    const cluster = clusterWith(shopPod([{ name: "web", image: "shop/web:1" }]));
    const reads = cluster.requests;
    const refusal = podFailure.plan(cluster, { namespace: "shop", name: "web-1", ...extra }, cliParamNames);
    await expect(refusal).rejects.toMatchObject({ code: "BRD_USAGE" });
    await expect(refusal).rejects.toThrow(message);
    expect(cluster.requests).toBe(reads);
  });

  it("names the pod that does not exist", async () => {
    const cluster = clusterWith(shopPod([{ name: "web", image: "shop/web:1" }]));
    await expect(
      podFailure.plan(cluster, { namespace: "shop", name: "web-9" }, cliParamNames),
    ).rejects.toMatchObject({ code: "BRD_USAGE", message: "TARGET: pod shop/web-9 not found" });
  });
});

import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import { recoverExpired } from "../core/ledger/recovery.js";
import { defaultPauseImage } from "../faults/pod-failure.js";
import { memoryEngine, memoryEpoch as t0, type MemoryEngine } from "./memory-engine.js";
import { runPodFailure, type PodFailureRequest } from "./pod-failure.js";
import { putShop, webPod } from "./shop-fixture.js";

const minute = 60_000;
const webImage = "ghcr.io/shop/web:1.4@sha256:" + "b".repeat(64);

/** The shop, its pods running web (and an init container) as a real Deployment's would. */
function shop(): MemoryEngine {
  const engine = memoryEngine();
  putShop(engine);
  for (const n of [1, 2, 3, 4]) {
    const pod = webPod(`web-abc-${String(n)}`);
    pod.spec = {
      nodeName: "kwok-node-0",
      initContainers: [{ name: "migrate", image: "shop/migrate:7" }],
      containers: [{ name: "web", image: webImage }],
    };
    engine.cluster.put(pod);
  }
  return engine;
}

function request(overrides: Partial<PodFailureRequest> = {}): PodFailureRequest {
  return {
    scope: ["shop"],
    selector: { labelSelector: "app=web" },
    mode: { kind: "one" },
    pauseImage: defaultPauseImage,
    duration: Duration.parse("5m", "--duration"),
    dryRun: false,
    wait: false,
    stop: new Promise<void>(() => undefined),
    ...overrides,
  };
}

/** Pod name -> [init image, container image], for every web pod. */
function images(engine: MemoryEngine): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const n of [1, 2, 3, 4]) {
    const name = `web-abc-${String(n)}`;
    const spec = engine.cluster.get("Pod", "shop", name)?.spec as
      { initContainers: { image: string }[]; containers: { image: string }[] } | undefined;
    result[name] = [spec?.initContainers[0]?.image ?? "", spec?.containers[0]?.image ?? ""];
  }
  return result;
}

const untouched = ["web-abc-1", "web-abc-2", "web-abc-3", "web-abc-4"].reduce<Record<string, string[]>>(
  (all, name) => ({ ...all, [name]: ["shop/migrate:7", webImage] }),
  {},
);

describe("pod-failure: pods chosen as pod-kill chooses them, paused as an object fault", () => {
  it("pauses every container of the chosen pod, each change recorded before its patch", async () => {
    const engine = shop();
    const atPatch: string[][] = [];
    engine.cluster.beforeWrite = async () => {
      atPatch.push((await engine.ledger.list()).map((record) => `${record.path} ${record.state}`).sort());
    };
    const result = await runPodFailure(engine.ctx, request());

    expect(result.plan.selected.map((pod) => pod.name)).toEqual(["web-abc-1"]);
    expect(atPatch).toEqual([
      ["/spec/initContainers/0/image pending"],
      ["/spec/containers/0/image pending", "/spec/initContainers/0/image active"],
    ]);
    expect(images(engine)).toEqual({ ...untouched, "web-abc-1": [defaultPauseImage, defaultPauseImage] });
    expect(result.records.map((record) => [record.faultKind, record.state, record.original])).toEqual([
      ["pod-failure", "active", "shop/migrate:7"],
      ["pod-failure", "active", webImage],
    ]);
  });

  it("puts the exact images back at the deadline", async () => {
    const engine = shop();
    const running = runPodFailure(engine.ctx, request({ wait: true, mode: { kind: "fixed", count: 2 } }));
    await engine.clock.advance(5 * minute - 1);
    expect(images(engine)["web-abc-2"]).toEqual([defaultPauseImage, defaultPauseImage]);
    await engine.clock.advance(1);
    const result = await running;
    expect(result.recovery.map((summary) => [summary.result, summary.at])).toEqual(
      Array.from({ length: 4 }, () => ["reverted", t0 + 5 * minute]),
    );
    expect(images(engine)).toEqual(untouched);
  });

  it("is put back by the ledger's recovery when the process that paused it is gone", async () => {
    const engine = shop();
    // wait: false is the process ending after the injection; any later command recovers expired records.
    await runPodFailure(engine.ctx, request());
    await engine.clock.advance(5 * minute);
    const recovered = await recoverExpired(engine.ledger, engine.ctx.targets, engine.clock, {
      includeUnexpired: false,
    });
    expect(recovered.map((summary) => summary.result)).toEqual(["reverted", "reverted"]);
    expect(images(engine)).toEqual(untouched);
    expect((await engine.ledger.list()).every((record) => record.state === "closed")).toBe(true);
  });

  it("leaves an image someone else changed meanwhile, and says so", async () => {
    const engine = shop();
    const running = runPodFailure(engine.ctx, request({ wait: true }));
    await engine.clock.advance(minute);
    const pod = engine.cluster.get("Pod", "shop", "web-abc-1") ?? {};
    const spec = pod.spec as { containers: { name: string; image: string }[] };
    // A person rolls the pod forward by hand while it is paused.
    engine.cluster.put({ ...pod, spec: { ...spec, containers: [{ name: "web", image: "shop/web:1.5" }] } });
    await engine.clock.advance(4 * minute);
    const result = await running;
    expect(result.recovery.map((summary) => summary.result).sort()).toEqual([
      "healed-externally",
      "reverted",
    ]);
    expect(images(engine)["web-abc-1"]).toEqual(["shop/migrate:7", "shop/web:1.5"]);
  });

  it("writes nothing on a dry run, and still shows the plan", async () => {
    const engine = shop();
    const result = await runPodFailure(engine.ctx, request({ dryRun: true, mode: { kind: "all" } }));
    // The blast-radius cap holds as for pod-kill: at most half the ready pods of the workload.
    expect(result.plan.selected).toHaveLength(2);
    expect(result.changes).toHaveLength(4);
    expect(engine.cluster.writes).toEqual([]);
    expect(await engine.ledger.list()).toEqual([]);
  });

  it("refuses a protected namespace before reading anything", async () => {
    const engine = shop();
    const reads = engine.cluster.requests;
    await expect(runPodFailure(engine.ctx, request({ scope: ["kube-system"] }))).rejects.toMatchObject({
      code: "BRD_REFUSED_BY_RAIL",
    });
    expect(engine.cluster.requests).toBe(reads);
  });

  it("refuses while the kill switch is held, before any record", async () => {
    const engine = shop();
    await engine.halt.hold({ by: "oncall@laptop", reason: "" });
    await expect(runPodFailure(engine.ctx, request())).rejects.toMatchObject({ code: "BRD_HALTED" });
    expect(engine.cluster.writes).toEqual([]);
    expect(await engine.ledger.list()).toEqual([]);
  });

  it("times what the pod went through from its watch events: paused, Ready lost, images back, Ready regained", async () => {
    const engine = shop();
    /** The kubelet's answer to an image change: the container restarted from `image`, Ready or not. */
    const kubelet = (image: string, ready: boolean, restartCount: number) => {
      const pod = engine.cluster.get("Pod", "shop", "web-abc-1") ?? {};
      engine.cluster.put({
        ...pod,
        status: {
          phase: "Running",
          conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
          containerStatuses: [{ name: "web", image, ready, restartCount }],
        },
      });
    };
    const running = runPodFailure(engine.ctx, request({ wait: true }));
    await engine.clock.advance(1000);
    kubelet(defaultPauseImage, false, 1);
    await engine.clock.advance(5 * minute - 1000);
    // Reverted at the deadline; the run waits for the kubelet to bring the pod back.
    await engine.clock.advance(2000);
    kubelet(webImage, true, 2);
    const result = await running;

    const [uid] = result.records.map((record) => record.target.uid);
    expect(result.timelines).toEqual([
      {
        pod: { namespace: "shop", name: "web-abc-1", uid, node: "kwok-node-0" },
        injectedAt: t0,
        pausedMs: 1000,
        readyLostMs: 1000,
        imagesBackMs: 5 * minute + 2000,
        readyRegainedMs: 5 * minute + 2000,
        restartsBefore: 0,
        restartsAfter: 2,
        gone: false,
      },
    ]);
  });

  it("gives up waiting for a pod that does not come back after the timeout, its milestones as seen", async () => {
    const engine = shop();
    const running = runPodFailure(engine.ctx, request({ wait: true, backTimeoutMs: 10_000 }));
    await engine.clock.advance(1000);
    const pod = engine.cluster.get("Pod", "shop", "web-abc-1") ?? {};
    engine.cluster.put({
      ...pod,
      status: { phase: "Running", conditions: [{ type: "Ready", status: "False" }] },
    });
    await engine.clock.advance(5 * minute);
    await engine.clock.advance(10_000);
    const result = await running;
    expect(result.timelines[0]).toMatchObject({ readyLostMs: 1000, restartsAfter: 0, gone: false });
    expect(result.timelines[0]?.readyRegainedMs).toBeUndefined();
    expect(images(engine)).toEqual(untouched);
  });

  it("leaves out a pod still paused by an earlier pod-failure, saying why, and writes nothing for it", async () => {
    const engine = shop();
    await runPodFailure(engine.ctx, request());
    const writes = engine.cluster.writes.length;
    const again = await runPodFailure(
      engine.ctx,
      request({ selector: { pods: [{ namespace: "shop", name: "web-abc-1" }] } }),
    );
    expect(again.plan.selected).toEqual([]);
    expect(again.plan.excluded.map((exclusion) => [exclusion.pod.name, exclusion.reason])).toContainEqual([
      "web-abc-1",
      `still failed by an earlier pod-failure: it runs ${defaultPauseImage}`,
    ]);
    expect(again.records).toEqual([]);
    expect(engine.cluster.writes).toHaveLength(writes);
  });
});

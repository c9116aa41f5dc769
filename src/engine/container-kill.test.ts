import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import { MemoryNodeWork } from "../core/memory-node-work.js";
import { runContainerKill } from "./container-kill.js";
import type { ContainerKillRequest } from "./container-kill.js";
import { memoryEngine } from "./memory-engine.js";
import { putShop, webPod } from "./shop-fixture.js";

function shopWithContainers() {
  const engine = memoryEngine();
  putShop(engine);
  for (const n of [1, 2, 3, 4]) {
    const pod = webPod(`web-abc-${String(n)}`);
    pod.spec = { nodeName: "kwok-node-0", containers: [{ name: "web" }, { name: "proxy" }] };
    engine.cluster.put(pod);
  }
  const nodeWork = new MemoryNodeWork();
  return { engine, nodeWork, ctx: { ...engine.ctx, nodeWork } };
}

function request(containers: string[], dryRun = false): ContainerKillRequest {
  return {
    scope: ["shop"],
    selector: { labelSelector: "app=web" },
    mode: { kind: "all" },
    containers,
    containersField: "--container",
    dryRun,
    wait: false,
    timeout: Duration.parse("1m", "timeout"),
  };
}

describe("container-kill in the engine: everything checked before the first write", () => {
  it("refuses a container name a chosen pod lacks, with the pod and its containers, and writes nothing", async () => {
    const { engine, nodeWork, ctx } = shopWithContainers();
    await expect(runContainerKill(ctx, request(["sidecar"]))).rejects.toThrow(
      /^--container: pod shop\/web-abc-\d has no container "sidecar"; its containers: web, proxy$/,
    );
    expect(await engine.ledger.list()).toEqual([]);
    expect(nodeWork.works.size).toBe(0);
  });

  it("plans every pod and container on a dry run, and writes nothing", async () => {
    const { engine, nodeWork, ctx } = shopWithContainers();
    const result = await runContainerKill(ctx, request(["web", "proxy"], true));
    // The blast-radius cap holds for container kills too: half of web's four ready pods.
    expect(result.plan.selected).toHaveLength(2);
    expect(result.targets.map((t) => t.container)).toEqual(["web", "proxy", "web", "proxy"]);
    expect(new Set(result.targets.map((t) => t.node))).toEqual(new Set(["kwok-node-0"]));
    expect(result.kills).toEqual([]);
    expect(await engine.ledger.list()).toEqual([]);
    expect(nodeWork.works.size).toBe(0);
  });

  it("refuses while chaos is halted, before any record or work", async () => {
    const { engine, nodeWork, ctx } = shopWithContainers();
    await engine.halt.hold({ by: "ops", reason: "incident" });
    await expect(runContainerKill(ctx, request(["web"]))).rejects.toThrow(/halted/);
    expect(await engine.ledger.list()).toEqual([]);
    expect(nodeWork.works.size).toBe(0);
  });
});

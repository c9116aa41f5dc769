import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import { podEvict } from "../faults/pod-evict.js";
import { podKill } from "../faults/pod-kill.js";
import type { PodFault } from "../faults/types.js";
import type { MemoryCluster } from "../kube/memory-cluster.js";
import { memoryEngine, memoryEpoch as t0, type MemoryEngine } from "./memory-engine.js";
import { runPodChaos, type PodChaosRequest } from "./pod-chaos.js";
import { putShop, webDeployment, webPod } from "./shop-fixture.js";

function request(fault: PodFault, overrides: Partial<PodChaosRequest> = {}): PodChaosRequest {
  return {
    fault,
    scope: ["shop"],
    selector: { labelSelector: "app=web" },
    mode: { kind: "one" },
    dryRun: false,
    wait: false,
    timeout: Duration.parse("30s", "--timeout"),
    ...overrides,
  };
}

/** Three of the four web pods killed, one shot per 10 s (the cap lifted so three may go). */
function pacedKillOfThree() {
  const engine = memoryEngine({ unsafe: true });
  putShop(engine);
  const running = runPodChaos(
    engine.ctx,
    request(podKill, {
      mode: { kind: "fixed", count: 3 },
      pace: { maxShots: 1, interval: Duration.parse("10s", "--interval") },
    }),
  );
  return { engine, running };
}

/** The ledger as it stood each time the cluster was asked to write. */
function ledgerAtEachWrite(engine: MemoryEngine): LedgerRecord[][] {
  const seen: LedgerRecord[][] = [];
  engine.cluster.beforeWrite = async () => {
    seen.push([...(await engine.ledger.list())]);
  };
  return seen;
}

function podNames(cluster: MemoryCluster): string[] {
  return ["web-abc-1", "web-abc-2", "web-abc-3", "web-abc-4"].filter(
    (name) => cluster.get("Pod", "shop", name) !== undefined,
  );
}

describe("the life of a pod fault", () => {
  it("writes a pending ledger record before the shot, then closes it with the outcome", async () => {
    const engine = memoryEngine();
    putShop(engine);
    const atWrite = ledgerAtEachWrite(engine);
    const result = await runPodChaos(engine.ctx, request(podKill));

    const [shot] = result.shots;
    if (shot === undefined) throw new Error("no shot");
    expect(engine.cluster.writes).toEqual([`delete shop/${shot.pod.name}`]);
    expect(atWrite).toEqual([
      [
        expect.objectContaining({
          id: shot.ledgerId,
          state: "pending",
          faultKind: "pod-kill",
          target: expect.objectContaining({ kind: "Pod", name: shot.pod.name, uid: shot.pod.uid }) as unknown,
          path: "/metadata/uid",
        }),
      ],
    ]);
    expect(shot.outcome).toEqual({ accepted: true, at: t0 });
    expect(await engine.ledger.get(shot.ledgerId)).toMatchObject({
      state: "closed",
      outcome: { kind: "target-gone", at: t0, detail: "deleted by pod-kill" },
    });
    expect(podNames(engine.cluster)).toHaveLength(3);
    expect(result.recovery).toBeUndefined();
    expect(result.apiRequests).toBe(engine.cluster.requests);
  });

  it("plans on a dry run and writes nothing, neither to the cluster nor to the ledger", async () => {
    const engine = memoryEngine();
    putShop(engine);
    const result = await runPodChaos(engine.ctx, request(podKill, { dryRun: true, mode: { kind: "all" } }));
    // All four chosen, the blast-radius cap keeps half of the Deployment's Ready pods.
    expect(result.plan.selected).toHaveLength(2);
    expect(result.plan.excluded.map((e) => e.reason)).toEqual([
      expect.stringMatching(/^blast-radius cap: at most 2 of 4 ready pods of Deployment shop\/web/),
      expect.stringMatching(/^blast-radius cap/),
    ]);
    expect(result.shots).toEqual([]);
    expect(engine.cluster.writes).toEqual([]);
    expect(await engine.ledger.list()).toEqual([]);
  });

  it("closes the record of a refused shot as never applied, with the reason, and leaves the pod", async () => {
    const engine = memoryEngine();
    putShop(engine);
    engine.cluster.put({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { namespace: "shop", name: "web-pdb" },
      spec: { minAvailable: 4, selector: { matchLabels: { app: "web" } } },
    });
    const budgetSays = new ApiException(429, "Too Many Requests", JSON.stringify({ message: "budget" }), {});
    for (const n of [1, 2, 3, 4]) engine.cluster.refusals.set(`evict shop/web-abc-${String(n)}`, budgetSays);

    const result = await runPodChaos(engine.ctx, request(podEvict));
    const [shot] = result.shots;
    expect(shot?.outcome).toEqual({
      accepted: false,
      at: t0,
      reason: "blocked by PDB web-pdb",
      budgets: ["web-pdb"],
    });
    expect(await engine.ledger.get(shot?.ledgerId ?? "")).toMatchObject({
      state: "closed",
      outcome: { kind: "never-applied", detail: "blocked by PDB web-pdb" },
    });
    expect(podNames(engine.cluster)).toHaveLength(4);
  });

  it("records a shot that failed outright as refused, with the error, and still closes its record", async () => {
    const engine = memoryEngine();
    putShop(engine);
    const forbidden = new ApiException(403, "Forbidden", "{}", {});
    for (const n of [1, 2, 3, 4]) engine.cluster.refusals.set(`delete shop/web-abc-${String(n)}`, forbidden);
    const [shot] = (await runPodChaos(engine.ctx, request(podKill))).shots;
    expect(shot?.outcome).toMatchObject({
      accepted: false,
      reason: expect.stringMatching(/^the shot failed: deleting pod shop\/web-abc-\d: /) as unknown,
    });
    expect(await engine.ledger.get(shot?.ledgerId ?? "")).toMatchObject({ state: "closed" });
  });

  it("paces the shots: one per interval, the others waiting their turn on the clock", async () => {
    const { engine, running } = pacedKillOfThree();
    await engine.clock.advance(0);
    expect(engine.cluster.writes).toHaveLength(1);
    await engine.clock.advance(9_999);
    expect(engine.cluster.writes).toHaveLength(1);
    await engine.clock.advance(1);
    expect(engine.cluster.writes).toHaveLength(2);
    await engine.clock.advance(10_000);
    const result = await running;
    expect(result.shots.map((shot) => shot.outcome.at)).toEqual([t0, t0 + 10_000, t0 + 20_000]);
    expect(engine.progress.filter((line) => line.includes("pacing: rate limit"))).toHaveLength(2);
  });

  it("waits for recovery and reports the replacement's milestones from the watches", async () => {
    const engine = memoryEngine();
    putShop(engine);
    const running = runPodChaos(engine.ctx, request(podKill, { wait: true }));
    await engine.clock.advance(0);
    expect(engine.cluster.writes).toHaveLength(1);
    // The ReplicaSet controller and the kubelet, played by the test.
    engine.cluster.put(webDeployment(3));
    await engine.clock.advance(20);
    engine.cluster.put(webPod("web-abc-5", false));
    await engine.clock.advance(2000);
    engine.cluster.put(webPod("web-abc-5"));
    engine.cluster.put(webDeployment(4));
    const { recovery } = await running;

    expect(recovery?.complete).toBe(true);
    expect(recovery?.victims[0]).toMatchObject({
      acceptedMs: 0,
      replacement: { pod: { name: "web-abc-5" }, createdMs: 20, readyMs: 2020 },
    });
    expect(recovery?.workloads).toMatchObject([{ status: "restored", restoredMs: 2020 }]);
  });

  it("refuses a protected namespace named outright, before anything is read or written", async () => {
    const engine = memoryEngine();
    putShop(engine);
    const refused = await runPodChaos(engine.ctx, request(podKill, { scope: ["kube-system"] })).catch(
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: "BRD_REFUSED_BY_RAIL" });
    expect(engine.cluster.requests).toBe(0);
    expect(await engine.ledger.list()).toEqual([]);
  });
});

describe("an agent in namespaced mode (--watch-namespaces)", () => {
  /** shop, and a twin pod in billing that the same selector matches. */
  function twoNamespaces(watched: readonly string[]): MemoryEngine {
    const engine = memoryEngine({ watchedNamespaces: watched, unsafe: true });
    putShop(engine);
    engine.cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "billing" } });
    const twin = webPod("web-billing");
    if (twin.metadata !== undefined) {
      twin.metadata.namespace = "billing";
      twin.metadata.ownerReferences = [];
    }
    engine.cluster.put(twin);
    return engine;
  }

  it('reads "all namespaces" as its own list: a pod elsewhere is never even planned', async () => {
    const engine = twoNamespaces(["shop"]);
    const result = await runPodChaos(engine.ctx, request(podKill, { scope: "all", mode: { kind: "all" } }));
    const planned = [...result.plan.selected, ...result.plan.excluded.map((exclusion) => exclusion.pod)];
    expect(new Set(planned.map((pod) => pod.namespace))).toEqual(new Set(["shop"]));
    expect(engine.cluster.get("Pod", "billing", "web-billing")).toBeDefined();
  });

  it("refuses a namespace outside its list named outright, before anything is read or written", async () => {
    const engine = twoNamespaces(["shop"]);
    const refused = await runPodChaos(engine.ctx, request(podKill, { scope: ["billing"] })).catch(
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({
      code: "BRD_REFUSED_BY_RAIL",
      message: expect.stringContaining("namespace billing is outside this agent's namespaces") as unknown,
    });
    expect(engine.cluster.requests).toBe(0);
    expect(await engine.ledger.list()).toEqual([]);
  });
});

describe("the kill switch: while it is held, no pod is shot", () => {
  const hold = { since: t0, by: "oncall@laptop", reason: "incident 42" };

  it("refuses the fault with BRD_HALTED, naming who held it and why, before any record or shot", async () => {
    const engine = memoryEngine();
    putShop(engine);
    await engine.halt.hold(hold);
    await expect(runPodChaos(engine.ctx, request(podKill))).rejects.toMatchObject({
      code: "BRD_HALTED",
      message: expect.stringContaining("by oncall@laptop: incident 42") as unknown,
    });
    expect(engine.cluster.writes).toEqual([]);
    expect(await engine.ledger.list()).toEqual([]);
  });

  it("still plans a dry run, which changes nothing anyway", async () => {
    const engine = memoryEngine();
    putShop(engine);
    await engine.halt.hold(hold);
    const result = await runPodChaos(engine.ctx, request(podKill, { dryRun: true }));
    expect(result.plan.selected).toHaveLength(1);
  });

  it("stops a paced fault between shots once the switch is held", async () => {
    const { engine, running } = pacedKillOfThree();
    const refused = expect(running).rejects.toMatchObject({ code: "BRD_HALTED" });
    await engine.clock.advance(0);
    expect(engine.cluster.writes).toHaveLength(1);
    await engine.halt.hold(hold);
    await engine.clock.advance(30_000);
    await refused;
    expect(engine.cluster.writes).toHaveLength(1);
  });

  it("shoots again once the switch is released", async () => {
    const engine = memoryEngine();
    putShop(engine);
    await engine.halt.hold(hold);
    expect(await engine.halt.release()).toBe(true);
    const result = await runPodChaos(engine.ctx, request(podKill));
    expect(result.shots).toHaveLength(1);
  });
});

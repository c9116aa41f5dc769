import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import { podKill } from "../faults/pod-kill.js";
import { memoryEngine, type MemoryEngine } from "./memory-engine.js";
import { runPodChaos, type PodChaosRequest } from "./pod-chaos.js";
import { putShop } from "./shop-fixture.js";

/**
 * The blast-radius cap across runs (EngineContext.downCap): two PodChaos at the same Deployment, run side
 * by side in one agent, take down no more of it than one may.
 */

/** Namespace shop: Deployment web with four Ready pods, none of which comes back during the test. */
function shop(): MemoryEngine {
  const engine = memoryEngine();
  putShop(engine);
  return engine;
}

/** Half of web (the cap: floor(0.5 × 4 ready) = 2), watching recovery for 30 s. */
const killHalf: PodChaosRequest = {
  fault: podKill,
  scope: ["shop"],
  selector: { labelSelector: "app=web" },
  mode: { kind: "fixed", count: 2 },
  dryRun: false,
  wait: true,
  timeout: Duration.parse("30s", "--timeout"),
};

const deletes = (engine: MemoryEngine) => engine.cluster.writes.filter((write) => write.startsWith("delete"));

describe("the per-workload cap holds across concurrent runs, not only within one", () => {
  it("two PodChaos started together at the same Deployment: the second gets nothing while the first's pods are down", async () => {
    const engine = shop();
    const both = Promise.all([runPodChaos(engine.ctx, killHalf), runPodChaos(engine.ctx, killHalf)]);
    // Nobody brings the pods back: each run waits its 30 s for recovery, then gives up.
    await engine.clock.advance(31_000);
    const [first, second] = await both;
    expect(deletes(engine)).toHaveLength(2);
    expect(first.shots).toHaveLength(2);
    expect(second.shots).toHaveLength(0);
    const acrossRuns = second.plan.excluded.filter((exclusion) =>
      exclusion.reason.startsWith("blast-radius cap across runs"),
    );
    expect(acrossRuns).toHaveLength(2);
    expect(acrossRuns[0]?.reason).toContain("2 pods of Deployment shop/web already down from other shots");
    // Every hold was given back when its run ended.
    expect(engine.ctx.downCap.downCount("Deployment shop/web")).toBe(0);
  });

  it("a run that starts while another still waits for its victims' recovery sees them as down, though they are gone", async () => {
    const engine = shop();
    const first = runPodChaos(engine.ctx, killHalf);
    await engine.clock.advance(1_000);
    expect(deletes(engine)).toHaveLength(2);
    // Two Ready pods are left: on its own, the second run's cap would be floor(0.5 × 2) = 1 more pod.
    const second = runPodChaos(engine.ctx, { ...killHalf, mode: { kind: "one" } });
    await engine.clock.advance(31_000);
    expect((await second).shots).toHaveLength(0);
    expect((await first).shots).toHaveLength(2);
    expect(deletes(engine)).toHaveLength(2);
  });

  it("once the first run is over, its holds are released and the next run may shoot", async () => {
    const engine = shop();
    const first = runPodChaos(engine.ctx, { ...killHalf, mode: { kind: "one" } });
    await engine.clock.advance(31_000);
    await first;
    const second = runPodChaos(engine.ctx, { ...killHalf, mode: { kind: "one" } });
    await engine.clock.advance(31_000);
    expect((await second).shots).toHaveLength(1);
    expect(deletes(engine)).toHaveLength(2);
  });
});

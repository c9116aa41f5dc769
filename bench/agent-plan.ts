// The agent's pick in memory: gather and plan over a synced pod cache of --pods trimmed pods, no cluster.
//
//   npx tsx bench/agent-plan.ts [--pods 10000] [--rounds 30]
//
// The PodCache (src/kube/pod-cache.ts) syncs from the in-memory cluster (src/kube/memory-cluster.ts): one
// opted-in namespace of pods shaped as bench/agent/fleet.ts makes them (label app=bench-agent, each
// controlled by one of 120 ConfigMaps, Ready). Each round gathers the namespace from the cache, plans mode
// one with the warm-shot benchmark's selector and admits the pick through the cross-run cap, as
// runPodChaos does before its first request, then replaces the victim (untimed). Prints min, p50 and
// max in ms; not part of `npm test`.
import type { V1Pod } from "@kubernetes/client-node";
import { parseArgs } from "node:util";
import { systemClock } from "../src/core/clock.js";
import { WorkloadDownCap } from "../src/core/limits/down-cap.js";
import { planTargets } from "../src/core/targeting/plan.js";
import { defaultRails } from "../src/core/targeting/rails.js";
import { MemoryCluster } from "../src/kube/memory-cluster.js";
import { PodCache } from "../src/kube/pod-cache.js";

const namespace = "bench-agent";
const workloads = 120;

function fleetPod(index: number): V1Pod {
  const workload = index % workloads;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace,
      name: `pod-${index}`,
      labels: { app: "bench-agent", ...(index < 6000 ? { fanout: "yes" } : {}) },
      ownerReferences: [
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          name: `w-${workload}`,
          uid: `w-${workload}`,
          controller: true,
        },
      ],
    },
    spec: {
      nodeName: `kwok-node-${index % 100}`,
      containers: [{ name: "app", image: "registry.example/app" }],
    },
    status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { pods: { type: "string", default: "10000" }, rounds: { type: "string", default: "30" } },
  });
  const pods = Number(values.pods);
  const rounds = Number(values.rounds);
  const cluster = new MemoryCluster(systemClock);
  cluster.put({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: namespace, annotations: { "broadside.dev/chaos": "enabled" } },
  });
  for (let index = 0; index < pods; index += 1) cluster.put(fleetPod(index));
  const cache = new PodCache({ watches: cluster.watches, clock: systemClock, fallback: cluster });
  await cache.start();
  const rails = defaultRails("broadside-system", { optIn: true });
  const downCap = new WorkloadDownCap();
  const selector = { labelSelector: "app=bench-agent" };
  const times: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const started = performance.now();
    const gathered = await cache.gather([namespace]);
    const plan = planTargets(gathered.facts, selector, { kind: "one" }, rails, Math.random, gathered.index);
    const admission = downCap.admit(plan.selected, gathered.facts, rails, gathered.index);
    times.push(performance.now() - started);
    if (admission.admitted.length !== 1) throw new Error(`picked ${admission.admitted.length}, not 1`);
    admission.release();
    // As in the warm-shot benchmark, the victim is replaced before the next round, outside the timing:
    // the next gather then has one pod gone and one new to compute, as a real cache would.
    const [victim] = admission.admitted;
    if (victim !== undefined) {
      cluster.remove("Pod", namespace, victim.name);
      cluster.put(fleetPod(pods + round));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await cache.stop();
  const sorted = [...times].sort((a, b) => a - b);
  const ms = (value: number): string => `${value.toFixed(2)} ms`;
  process.stdout.write(
    `gather + plan + admit over ${pods} cached pods, ${rounds} rounds: min ${ms(sorted[0] ?? Number.NaN)}, ` +
      `p50 ${ms(percentile(sorted, 50))}, max ${ms(sorted[sorted.length - 1] ?? Number.NaN)}\n`,
  );
}

await main();

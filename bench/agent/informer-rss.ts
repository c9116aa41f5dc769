// A child of bench/agent.ts: syncs the agent's pod cache (kube/pod-cache.ts) in a process of its own,
// trimmed or with whole objects, and prints its resident set as one JSON line on stdout. So the benchmark
// can compare the transform's effect on the same cluster, in processes that differ in nothing else.
//
//   node --expose-gc --import tsx bench/agent/informer-rss.ts KUBECONFIG trim|full
import { setTimeout as sleep } from "node:timers/promises";
import { systemClock } from "../../src/core/clock.js";
import { clusterPodFacts } from "../../src/kube/pod-facts.js";
import { connect } from "../../src/kube/client.js";
import { PodCache } from "../../src/kube/pod-cache.js";
import { clientNodeSources } from "../../src/kube/watch/client-node-source.js";
import { residentMiB } from "./rss.js";

/** Node's gc(), exposed by --expose-gc: the heap then holds only what is still referenced. */
function collectGarbage(): void {
  const gc: unknown = Reflect.get(globalThis, "gc");
  if (typeof gc === "function") (gc as () => void)();
}

async function main(kubeconfigPath: string, mode: string): Promise<void> {
  const kube = connect({ kubeconfigPath });
  const cache = new PodCache({
    watches: clientNodeSources(kube.config, kube.counter),
    clock: systemClock,
    fallback: clusterPodFacts(kube),
    trim: mode === "trim",
  });
  collectGarbage();
  const before = await residentMiB("self");
  const heapBefore = process.memoryUsage().heapUsed;
  await cache.start();
  // Let the LIST's buffers go, as they would in a long-running agent.
  await sleep(5_000);
  collectGarbage();
  const pods = cache.pods.list().length;
  const after = await residentMiB("self");
  const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  const figures = { mode, pods, rssBeforeMiB: before, rssSyncedMiB: after, cacheHeapMiB: heapMiB };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  await cache.stop();
}

const [kubeconfig, mode] = process.argv.slice(2);
if (kubeconfig === undefined || (mode !== "trim" && mode !== "full")) {
  throw new Error("usage: informer-rss.ts KUBECONFIG trim|full");
}
await main(kubeconfig, mode);

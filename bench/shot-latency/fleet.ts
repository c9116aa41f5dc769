import type { V1Pod } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { apiStatus, createIfMissing } from "../../src/kube/api-errors.js";
import type { KubeClients } from "../../src/kube/client.js";
import { systemClock } from "../../src/core/clock.js";
import { waitFor as waitForOn } from "../../src/sandbox/bootstrap.js";

/** The benchmark times against the wall clock. */
function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  return waitForOn(what, timeoutMs, check, systemClock);
}

/**
 * The pods one size of the benchmark shoots at: a namespace `bench-N` (opted in to chaos) holding N bare
 * pods labelled app=bench-N, bound straight to kwok nodes (spec.nodeName, no scheduler). Bare pods are
 * not replaced by anything, so the benchmark recreates each victim itself to keep N constant.
 */
export interface Fleet {
  readonly namespace: string;
  /** The label selector both tools are given: app=bench-N. */
  readonly selector: string;
  /** Pod name -> the node it is bound to; a replacement goes to its victim's node. */
  readonly nodes: Map<string, string>;
  /** Replacements made so far, for unique names. */
  replacements: number;
}

export interface FleetTimings {
  /** Creating the N pods (all POSTs answered). */
  readonly createMs: number;
  /** From then until kwok had made every pod Running, so its status writes no longer load the API. */
  readonly settleMs: number;
}

/** Concurrent creates; the client's token bucket (qps 500) sets the pace. */
const createConcurrency = 64;
const settleTimeoutMs = 15 * 60_000;

/** A bare pod; grace 1 s so a victim is gone within a second of its DELETE (kwok honours the grace). */
export function benchPod(namespace: string, name: string, nodeName: string): V1Pod {
  return {
    metadata: { name, namespace, labels: { app: namespace } },
    spec: {
      nodeName,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "app", image: "registry.invalid/broadside-bench:1" }],
    },
  };
}

/** Creates the namespace and its N pods, pod i on node place(i), and waits until kwok has run them all. */
export async function createFleet(
  kube: KubeClients,
  size: number,
  place: (index: number) => string,
  progress: (message: string) => void,
  namespace = `bench-${size}`,
): Promise<{ fleet: Fleet; timings: FleetTimings }> {
  await createIfMissing(() =>
    kube.core.createNamespace({
      body: {
        metadata: {
          name: namespace,
          labels: { "broadside.dev/bench": "shot-latency" },
          annotations: { "broadside.dev/chaos": "enabled" },
        },
      },
    }),
  );
  // The ServiceAccount admission plugin refuses pods until the namespace's `default` ServiceAccount exists.
  await waitFor(`ServiceAccount ${namespace}/default`, 60_000, () =>
    exists(() => kube.core.readNamespacedServiceAccount({ name: "default", namespace })),
  );
  const pods = Array.from({ length: size }, (_, index) =>
    benchPod(namespace, `${namespace}-${index}`, place(index)),
  );
  const started = Date.now();
  await createAll(kube, namespace, pods);
  const createMs = Date.now() - started;
  progress(
    `  ${namespace}: ${size} pods created in ${createMs} ms (${Math.round((size * 1000) / Math.max(createMs, 1))}/s)`,
  );
  await checkCount(kube, namespace, size);
  await waitAllRunning(kube, namespace);
  const settleMs = Date.now() - started - createMs;
  progress(`  ${namespace}: all ${size} pods Running ${settleMs} ms later`);
  const nodes = new Map(pods.map((pod) => [pod.metadata?.name ?? "", pod.spec?.nodeName ?? ""]));
  return {
    fleet: { namespace, selector: `app=${namespace}`, nodes, replacements: 0 },
    timings: { createMs, settleMs },
  };
}

async function createAll(kube: KubeClients, namespace: string, pods: readonly V1Pod[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let pod = pods[next++]; pod !== undefined; pod = pods[next++]) {
      const body = pod;
      await createIfMissing(() => kube.core.createNamespacedPod({ namespace, body }));
    }
  };
  await Promise.all(Array.from({ length: createConcurrency }, worker));
}

/** Counts the namespace's pods in pages of 500, as a check that every create landed. */
async function checkCount(kube: KubeClients, namespace: string, size: number): Promise<void> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await kube.core.listNamespacedPod({
      namespace,
      limit: 500,
      ...(token === undefined ? {} : { _continue: token }),
    });
    count += page.items.length;
    token = page.metadata?._continue === "" ? undefined : page.metadata?._continue;
  } while (token !== undefined);
  if (count !== size) throw new Error(`${namespace} holds ${count} pods, expected ${size}`);
}

/** Until no pod of the namespace is anything but Running (one small list per second). */
async function waitAllRunning(kube: KubeClients, namespace: string): Promise<void> {
  await waitFor(`every pod of ${namespace} to be Running`, settleTimeoutMs, async () => {
    const page = await kube.core.listNamespacedPod({
      namespace,
      fieldSelector: "status.phase!=Running",
      limit: 1,
    });
    if (page.items.length === 0) return true;
    await sleep(800);
    return false;
  });
}

/**
 * After a shot: waits until the victim is gone (its grace is 1 s), then creates a replacement on the
 * same node and waits until kwok has it Running, so the next shot sees N Running pods and a quiet API.
 */
export async function replaceVictim(kube: KubeClients, fleet: Fleet, victim: string): Promise<void> {
  const nodeName = fleet.nodes.get(victim);
  if (nodeName === undefined) throw new Error(`the shot hit ${fleet.namespace}/${victim}, which is not ours`);
  const { namespace } = fleet;
  await waitFor(`${namespace}/${victim} to be gone`, 60_000, async () => {
    await sleep(50);
    return !(await exists(() => kube.core.readNamespacedPod({ name: victim, namespace })));
  });
  fleet.nodes.delete(victim);
  fleet.replacements += 1;
  const name = `${namespace}-r${fleet.replacements}`;
  await kube.core.createNamespacedPod({ namespace, body: benchPod(namespace, name, nodeName) });
  fleet.nodes.set(name, nodeName);
  await waitFor(`${namespace}/${name} to be Running`, 60_000, async () => {
    await sleep(50);
    const pod = await kube.core.readNamespacedPod({ name, namespace });
    return pod.status?.phase === "Running";
  });
}

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error: unknown) {
    if (apiStatus(error) === 404) return false;
    throw error;
  }
}

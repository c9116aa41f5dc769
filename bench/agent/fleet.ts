import type { V1Pod } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { apiStatus, createIfMissing } from "../../src/kube/api-errors.js";
import type { KubeClients } from "../../src/kube/client.js";
import { nodeName } from "../../src/sandbox/bootstrap.js";

/**
 * The pods the agent benchmarks shoot at: one namespace, opted in to chaos, holding pods bound straight to
 * kwok nodes (spec.nodeName, no scheduler). Each pod is controlled by one of `workloads` ConfigMaps: a
 * workload the garbage collector sees exists (so it keeps the pods) and no controller manages (so nothing
 * replaces or adopts them), and the blast-radius cap counts every pod against its ConfigMap. A bare pod
 * would be its own one-pod workload, which the cap spares: the agent has no --unsafe.
 */
export interface AgentFleet {
  readonly namespace: string;
  readonly workloads: number;
  /** Pod name -> the pod as created (labels, owner, node): a replacement copies its victim. */
  readonly pods: Map<string, V1Pod>;
  /** Replacements made so far, for unique names. */
  replacements: number;
}

/** Label of every fleet pod; the fan-out's pods also carry fanout=yes. */
export const fleetLabel = { key: "app", value: "bench-agent" } as const;

const createConcurrency = 32;

export async function createNamespace(kube: KubeClients, namespace: string): Promise<void> {
  await createIfMissing(() =>
    kube.core.createNamespace({
      body: {
        metadata: {
          name: namespace,
          labels: { "broadside.dev/bench": "agent" },
          annotations: { "broadside.dev/chaos": "enabled" },
        },
      },
    }),
  );
  // The ServiceAccount admission plugin refuses pods until the namespace's `default` ServiceAccount exists.
  for (let tries = 0; tries < 600; tries += 1) {
    if (await exists(() => kube.core.readNamespacedServiceAccount({ name: "default", namespace }))) return;
    await sleep(100);
  }
  throw new Error(`no ServiceAccount ${namespace}/default after 60 s`);
}

/** The namespace and its workload ConfigMaps; pods come with addPods. */
export async function createFleet(
  kube: KubeClients,
  namespace: string,
  workloads: number,
): Promise<AgentFleet> {
  await createNamespace(kube, namespace);
  const uids: string[] = [];
  for (let index = 0; index < workloads; index += 1) {
    const name = `w-${index}`;
    await createIfMissing(() =>
      kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name, namespace } } }),
    );
    const read = await kube.core.readNamespacedConfigMap({ name, namespace });
    uids.push(read.metadata?.uid ?? "");
  }
  ownerUids.set(namespace, uids);
  return { namespace, workloads, pods: new Map(), replacements: 0 };
}

const ownerUids = new Map<string, string[]>();

export interface PodPlacement {
  readonly index: number;
  readonly nodes: number;
  readonly fanout: boolean;
}

/** Pod `index` of the fleet: on node index % nodes, controlled by ConfigMap w-(index % workloads). */
export function fleetPod(fleet: AgentFleet, placement: PodPlacement): V1Pod {
  const workload = placement.index % fleet.workloads;
  const uid = ownerUids.get(fleet.namespace)?.[workload] ?? "";
  const labels: Record<string, string> = { [fleetLabel.key]: fleetLabel.value };
  if (placement.fanout) labels.fanout = "yes";
  return {
    metadata: {
      name: `p-${placement.index}`,
      namespace: fleet.namespace,
      labels,
      ownerReferences: [
        { apiVersion: "v1", kind: "ConfigMap", name: `w-${workload}`, uid, controller: true },
      ],
    },
    spec: {
      nodeName: nodeName(placement.index % placement.nodes),
      terminationGracePeriodSeconds: 0,
      containers: [{ name: "app", image: "registry.invalid/broadside-bench:1" }],
    },
  };
}

/** Creates the pods with a bounded concurrency (the client's token bucket sets the pace). */
export async function addPods(kube: KubeClients, fleet: AgentFleet, pods: readonly V1Pod[]): Promise<void> {
  let next = 0;
  const namespace = fleet.namespace;
  const worker = async (): Promise<void> => {
    for (let pod = pods[next++]; pod !== undefined; pod = pods[next++]) {
      const body = pod;
      await createIfMissing(() => kube.core.createNamespacedPod({ namespace, body }));
      fleet.pods.set(body.metadata?.name ?? "", body);
    }
  };
  await Promise.all(Array.from({ length: createConcurrency }, worker));
}

/**
 * Until every pod of the namespace is Running and Ready (one paged list every 2 s). Gives up only when the
 * count of pods not Ready has not fallen for `stallMs`: under load kwok makes pods Ready at 8-18 per second
 * instead of 60, and a fixed deadline cut the 50,000-pod step short while it was still progressing.
 */
export async function waitAllReady(kube: KubeClients, namespace: string, stallMs: number): Promise<void> {
  let fewest = Number.POSITIVE_INFINITY;
  let progressAt = Date.now();
  while (Date.now() - progressAt < stallMs) {
    const waiting = await notReady(kube, namespace);
    if (waiting === 0) return;
    if (waiting < fewest) [fewest, progressAt] = [waiting, Date.now()];
    await sleep(2_000);
  }
  throw new Error(
    `pods of ${namespace}: ${fewest} still not Ready, none made Ready in the last ${stallMs} ms`,
  );
}

async function notReady(kube: KubeClients, namespace: string): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await kube.core.listNamespacedPod({
      namespace,
      limit: 1000,
      ...(token === undefined ? {} : { _continue: token }),
    });
    count += page.items.filter((pod) => !isReady(pod)).length;
    token = page.metadata?._continue === "" ? undefined : page.metadata?._continue;
  } while (token !== undefined);
  return count;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** After a shot: waits for the victim to be gone, then creates its twin under a new name. */
export async function replaceVictim(kube: KubeClients, fleet: AgentFleet, victim: string): Promise<void> {
  const original = fleet.pods.get(victim);
  if (original === undefined) throw new Error(`the shot hit ${fleet.namespace}/${victim}, which is not ours`);
  const { namespace } = fleet;
  for (let tries = 0; await exists(() => kube.core.readNamespacedPod({ name: victim, namespace })); tries++) {
    if (tries > 600) throw new Error(`${namespace}/${victim} still there after 60 s`);
    await sleep(100);
  }
  fleet.pods.delete(victim);
  fleet.replacements += 1;
  const name = `r-${fleet.replacements}`;
  const body: V1Pod = structuredClone(original);
  body.metadata = structuredClone(original.metadata) ?? {};
  body.metadata.name = name;
  await kube.core.createNamespacedPod({ namespace, body });
  fleet.pods.set(name, body);
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

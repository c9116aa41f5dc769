import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { createIfMissing } from "../../src/kube/api-errors.js";
import type { KubeClients } from "../../src/kube/client.js";

/**
 * The board benchmark's fleet: one opted-in namespace of Deployments (`ship-000`, `ship-001`, ...), each of
 * `perShip` pods, so the board draws each as a ship of that length. Pods come from the ReplicaSet
 * controller and the scheduler as in any cluster, and kwok makes them Ready; no resources are requested,
 * so only kwok's 110 pods per node bound them.
 */

export const boardNamespace = "board-bench";

export function shipName(index: number): string {
  return `ship-${String(index).padStart(3, "0")}`;
}

function shipDeployment(name: string, replicas: number): V1Deployment {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, fleet: "board-bench" } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: "app", image: "registry.invalid/broadside-bench:1" }],
        },
      },
    },
  };
}

/** Creates the Deployments `from` (inclusive) to `to` (exclusive), each of `perShip` replicas. */
export async function addShips(
  kube: KubeClients,
  range: { readonly from: number; readonly to: number; readonly perShip: number },
): Promise<void> {
  for (let index = range.from; index < range.to; index += 1) {
    const body = shipDeployment(shipName(index), range.perShip);
    await createIfMissing(() => kube.apps.createNamespacedDeployment({ namespace: boardNamespace, body }));
  }
}

export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** The namespace's pods that are Ready and not terminating (paged LIST). */
export async function readyPods(kube: KubeClients): Promise<V1Pod[]> {
  const ready: V1Pod[] = [];
  let token: string | undefined;
  do {
    const page = await kube.core.listNamespacedPod({
      namespace: boardNamespace,
      limit: 1000,
      ...(token === undefined ? {} : { _continue: token }),
    });
    ready.push(...page.items.filter((pod) => isReady(pod) && pod.metadata?.deletionTimestamp === undefined));
    token = page.metadata?._continue === "" ? undefined : page.metadata?._continue;
  } while (token !== undefined);
  return ready;
}

/** Until `count` pods of the namespace are Ready (a paged LIST every 3 s); progress through `log`. */
export async function waitReady(
  kube: KubeClients,
  count: number,
  timeoutMs: number,
  log: (message: string) => void,
): Promise<void> {
  const started = Date.now();
  let last = -1;
  while (Date.now() - started < timeoutMs) {
    const ready = (await readyPods(kube)).length;
    if (ready >= count) return;
    if (ready !== last)
      log(`  ${ready} of ${count} pods Ready after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    last = ready;
    await sleep(3_000);
  }
  throw new Error(`fewer than ${count} pods of ${boardNamespace} Ready after ${timeoutMs / 1000} s`);
}

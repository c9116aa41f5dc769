import type { KubeClients } from "../../src/kube/client.js";
import { apiStatus } from "../../src/kube/api-errors.js";
import { setTimeout as sleep } from "node:timers/promises";

const api = { group: "broadside.dev", version: "v1alpha1", plural: "podchaos" } as const;

/** A PodChaos as a Chaos Mesh user writes it: pod-kill, grace 0, pods of one namespace by labels. */
export interface PodChaosSpec {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly mode: "one" | "all";
}

/** Creates it through the API, as `kubectl create` does. */
export async function createPodChaos(kube: KubeClients, spec: PodChaosSpec): Promise<void> {
  await kube.custom.createNamespacedCustomObject({
    ...api,
    namespace: spec.namespace,
    body: {
      apiVersion: `${api.group}/${api.version}`,
      kind: "PodChaos",
      metadata: { name: spec.name, namespace: spec.namespace },
      spec: {
        action: "pod-kill",
        mode: spec.mode,
        gracePeriod: 0,
        selector: { namespaces: [spec.namespace], labelSelectors: spec.labels },
      },
    },
  });
}

/** Deletes it and waits until it is gone (its finalizer, if any, released by the agent). */
export async function deletePodChaos(kube: KubeClients, namespace: string, name: string): Promise<void> {
  try {
    await kube.custom.deleteNamespacedCustomObject({ ...api, namespace, name });
  } catch (error: unknown) {
    if (apiStatus(error) === 404) return;
    throw error;
  }
  for (let tries = 0; tries < 600; tries += 1) {
    try {
      await kube.custom.getNamespacedCustomObject({ ...api, namespace, name });
    } catch (error: unknown) {
      if (apiStatus(error) === 404) return;
      throw error;
    }
    await sleep(100);
  }
  throw new Error(`PodChaos ${namespace}/${name} still there after 60 s`);
}

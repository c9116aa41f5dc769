import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { apiStatus } from "./api-errors.js";
import type { KubeClients } from "./client.js";

/**
 * One label on the pods of one namespace, read and written: the agent's board puts it on the leader's own
 * pod so that the board's Service reaches the leader only (board/leader-pod-label.ts). ClusterPodLabels
 * implements it over @kubernetes/client-node; unit tests implement it in memory.
 */
export interface PodLabels {
  /** The names of the pods of `namespace` that carry `key=value`. */
  carrying(namespace: string, key: string, value: string): Promise<string[]>;
  /** Sets `key` on one pod to `value`, or removes it (null). A pod that is gone is no error. */
  label(namespace: string, name: string, key: string, value: string | null): Promise<void>;
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export class ClusterPodLabels implements PodLabels {
  constructor(private readonly kube: Pick<KubeClients, "core">) {}

  async carrying(namespace: string, key: string, value: string): Promise<string[]> {
    const pods = await this.kube.core.listNamespacedPod({ namespace, labelSelector: `${key}=${value}` });
    return pods.items.flatMap((pod) => (pod.metadata?.name === undefined ? [] : [pod.metadata.name]));
  }

  async label(namespace: string, name: string, key: string, value: string | null): Promise<void> {
    // A merge patch touches this one label: null removes it, and removing a label that is absent is no change.
    const body = { metadata: { labels: { [key]: value } } };
    try {
      await this.kube.core.patchNamespacedPod({ namespace, name, body }, mergePatch);
    } catch (error: unknown) {
      if (apiStatus(error) === 404) return;
      throw error;
    }
  }
}

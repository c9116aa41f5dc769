import type { V1DeleteOptions, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { optional } from "../core/objects.js";
import type { PodIdentity, PodShotOptions } from "../core/shot.js";
import type { EngineKube } from "./engine-kube.js";
import { apiStatus } from "./api-errors.js";
import { listPods, type NamespaceScope } from "./pod-facts.js";

/**
 * The small interfaces pod faults and the engine use instead of the whole client, as controller-runtime's
 * client interfaces do: shots at one pod, and reads of pods. ClusterPods implements them over
 * @kubernetes/client-node; unit tests implement them in memory.
 */

/**
 * Shots at one pod, each conditional on the pod's uid: the API refuses (409) when the name now belongs to
 * a newer pod, such as a StatefulSet's replacement, so a shot never hits a pod nobody aimed at. A refusal
 * rejects with the API's own error (client-node's ApiException, its HTTP status and Status body).
 */
export interface PodShots {
  /** DELETE, gracefully unless the options shorten the grace period. PodDisruptionBudgets do not apply. */
  delete(pod: PodIdentity, options: PodShotOptions): Promise<void>;
  /** An Eviction with the same delete options: the API refuses (429) what a PodDisruptionBudget forbids. */
  evict(pod: PodIdentity, options: PodShotOptions): Promise<void>;
  /** The PodDisruptionBudgets of a namespace, to name those behind a refused eviction. */
  disruptionBudgets(namespace: string): Promise<readonly V1PodDisruptionBudget[]>;
}

export interface PodReader {
  /** The pod of that name as it is now, or undefined when there is none. */
  read(namespace: string, name: string): Promise<V1Pod | undefined>;
  /** The pods of the namespaces, or of the cluster for "all". */
  list(scope: NamespaceScope): Promise<V1Pod[]>;
}

/**
 * Delete options for one shot: the uid precondition, and the grace period only when the shot sets one
 * (without it the API applies the pod's own terminationGracePeriodSeconds).
 */
export function shotDeleteOptions(uid: string, options: PodShotOptions): V1DeleteOptions {
  return {
    preconditions: { uid },
    ...optional("gracePeriodSeconds", options.gracePeriodSeconds),
  };
}

export class ClusterPods implements PodShots, PodReader {
  constructor(private readonly kube: EngineKube) {}

  async delete(pod: PodIdentity, options: PodShotOptions): Promise<void> {
    await this.kube.core.deleteNamespacedPod({
      name: pod.name,
      namespace: pod.namespace,
      body: shotDeleteOptions(pod.uid, options),
    });
  }

  async evict(pod: PodIdentity, options: PodShotOptions): Promise<void> {
    await this.kube.core.createNamespacedPodEviction({
      name: pod.name,
      namespace: pod.namespace,
      body: {
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name: pod.name, namespace: pod.namespace },
        deleteOptions: shotDeleteOptions(pod.uid, options),
      },
    });
  }

  async disruptionBudgets(namespace: string): Promise<readonly V1PodDisruptionBudget[]> {
    return (await this.kube.policy.listNamespacedPodDisruptionBudget({ namespace })).items;
  }

  async read(namespace: string, name: string): Promise<V1Pod | undefined> {
    try {
      return await this.kube.core.readNamespacedPod({ name, namespace });
    } catch (error: unknown) {
      if (apiStatus(error) === 404) return undefined;
      throw error;
    }
  }

  list(scope: NamespaceScope): Promise<V1Pod[]> {
    return listPods(this.kube, scope);
  }
}

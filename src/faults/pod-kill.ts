import type { V1DeleteOptions, V1Pod } from "@kubernetes/client-node";
import { BroadsideError, describeError } from "../core/errors.js";
import { apiStatus, type KubeClients } from "../kube/client.js";
import type { ShotOutcome } from "../core/shot.js";
import type { PodFault, PodShotOptions } from "./types.js";

/** The pod a shot aims at: a pod without namespace, name or uid is a bug in the caller. */
export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export function podIdentity(pod: V1Pod): PodIdentity {
  const namespace = pod.metadata?.namespace;
  const name = pod.metadata?.name;
  const uid = pod.metadata?.uid;
  if (namespace === undefined || name === undefined || uid === undefined) {
    throw new BroadsideError("BRD_INTERNAL", "a pod fault was given a pod without namespace, name or uid");
  }
  return { namespace, name, uid };
}

/**
 * Delete options for one shot. The uid precondition makes the API refuse (409) when the name now belongs
 * to a newer pod, such as a StatefulSet's replacement, so a shot never hits a pod nobody aimed at. Without
 * a grace period the API applies the pod's own terminationGracePeriodSeconds.
 */
export function shotDeleteOptions(uid: string, options: PodShotOptions): V1DeleteOptions {
  return {
    preconditions: { uid },
    ...(options.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: options.gracePeriodSeconds }),
  };
}

/** Refusals every pod fault shares: the pod is gone (404), or its name now belongs to another pod (409). */
export function goneRefusal(status: number | undefined): string | undefined {
  if (status === 404) return "already gone";
  if (status === 409) return "already gone: a newer pod now has its name";
  return undefined;
}

export function kubeApiError(action: string, pod: PodIdentity, error: unknown): BroadsideError {
  return new BroadsideError(
    "BRD_KUBE_API",
    `${action} pod ${pod.namespace}/${pod.name}: ${describeError(error)}`,
    { cause: error },
  );
}

async function fire(kube: KubeClients, pod: V1Pod, options: PodShotOptions): Promise<ShotOutcome> {
  const target = podIdentity(pod);
  try {
    await kube.core.deleteNamespacedPod({
      name: target.name,
      namespace: target.namespace,
      body: shotDeleteOptions(target.uid, options),
    });
    return { accepted: true, at: Date.now() };
  } catch (error: unknown) {
    const reason = goneRefusal(apiStatus(error));
    if (reason === undefined) throw kubeApiError("deleting", target, error);
    return { accepted: false, at: Date.now(), reason };
  }
}

/** Deletes the pod, gracefully unless the shot asks for a shorter grace period. PDBs do not apply. */
export const podKill: PodFault = { kind: "pod-kill", fire };

import type { V1Pod } from "@kubernetes/client-node";
import { BroadsideError, describeError } from "../core/errors.js";
import type { PodIdentity } from "../core/shot.js";

/** What the pod faults share: the pod a shot aims at, and how the API's refusals read. */

/** The pod a shot aims at: a pod without namespace, name or uid is a bug in the caller. */
export function podIdentity(pod: V1Pod): PodIdentity {
  const namespace = pod.metadata?.namespace;
  const name = pod.metadata?.name;
  const uid = pod.metadata?.uid;
  if (namespace === undefined || name === undefined || uid === undefined) {
    throw new BroadsideError("BRD_INTERNAL", "a pod fault was given a pod without namespace, name or uid");
  }
  return { namespace, name, uid };
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

/** The `message` of the Status object the API sent with an error, when there is one. */
export function statusMessage(error: unknown): string | undefined {
  const body: unknown =
    typeof error === "object" && error !== null && "body" in error ? error.body : undefined;
  const parsed = typeof body === "string" ? parseJson(body) : body;
  if (typeof parsed !== "object" || parsed === null || !("message" in parsed)) return undefined;
  return typeof parsed.message === "string" ? parsed.message : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

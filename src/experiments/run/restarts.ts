import { optional } from "../../core/objects.js";
import { podRestarts } from "../../kube/pod-facts.js";
import type { PodReader } from "../../kube/pods.js";
import type { RestartObservation } from "../report/restarts.js";

/**
 * Restart counts of every pod, read once before the method and once at the end, so the report can say
 * whether the targets' node-mates restarted (the "isolation held" check).
 */

export interface PodRestarts {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly node?: string;
  readonly restarts: number;
}

export async function snapshotRestarts(pods: PodReader): Promise<Map<string, PodRestarts>> {
  const byUid = new Map<string, PodRestarts>();
  for (const pod of await pods.list("all")) {
    const uid = pod.metadata?.uid;
    if (uid === undefined) continue;
    const node = pod.spec?.nodeName;
    byUid.set(uid, {
      uid,
      namespace: pod.metadata?.namespace ?? "",
      name: pod.metadata?.name ?? "",
      ...optional("node", node),
      restarts: podRestarts(pod),
    });
  }
  return byUid;
}

/**
 * The targets (pods shot) and their node-mates (pods that were on a target's node before the method and
 * were not targets), with their counts before and, when still there, after.
 */
export function restartObservationsOf(
  before: ReadonlyMap<string, PodRestarts>,
  after: ReadonlyMap<string, PodRestarts>,
  targetUids: ReadonlySet<string>,
): RestartObservation[] {
  const targetNodes = new Set(
    [...targetUids].flatMap((uid) => {
      const node = before.get(uid)?.node;
      return node === undefined ? [] : [node];
    }),
  );
  return [...before.values()]
    .filter((pod) => targetUids.has(pod.uid) || (pod.node !== undefined && targetNodes.has(pod.node)))
    .map((pod) => {
      const later = after.get(pod.uid);
      return {
        namespace: pod.namespace,
        name: pod.name,
        ...optional("node", pod.node),
        role: targetUids.has(pod.uid) ? ("target" as const) : ("node-mate" as const),
        before: pod.restarts,
        ...optional("after", later?.restarts),
      };
    });
}

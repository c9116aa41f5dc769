import type { V1Namespace, V1ObjectMeta, V1Pod, V1PodCondition, V1ReplicaSet } from "@kubernetes/client-node";
import { optional } from "../core/objects.js";

/*
 * Objects trimmed to the fields the engine reads (client-go's SetTransform): the agent's informers keep
 * them (pod-cache.ts), and a cold shot decodes the pods' LIST to exactly these (wire/protobuf.ts).
 */

/** The metadata every cached object keeps: its key, its uid and where a watch resumes. */
function identityOf(
  metadata: V1ObjectMeta | undefined,
): Pick<V1ObjectMeta, "name" | "namespace" | "uid" | "resourceVersion"> {
  return {
    ...optional("name", metadata?.name),
    ...optional("namespace", metadata?.namespace),
    ...optional("uid", metadata?.uid),
    ...optional("resourceVersion", metadata?.resourceVersion),
  };
}

/**
 * A pod with only what the engine reads: identity, labels and annotations (selectors, rails), owner
 * references (the workload and its blast-radius cap), deletion and creation times, the node (selectors,
 * recovery), the phase (selectors) and the conditions' type and status (readiness). Dropped: the spec's
 * containers and volumes, managedFields, container statuses and the rest, most of a pod's bytes.
 */
export function trimPod(pod: V1Pod): V1Pod {
  const metadata = pod.metadata;
  const status = pod.status;
  return {
    metadata: {
      ...identityOf(metadata),
      ...optional("labels", metadata?.labels),
      ...optional("annotations", metadata?.annotations),
      ...optional("ownerReferences", metadata?.ownerReferences),
      ...optional("deletionTimestamp", metadata?.deletionTimestamp),
      ...optional("creationTimestamp", metadata?.creationTimestamp),
    },
    ...optional("spec", pod.spec?.nodeName, (nodeName) => ({ nodeName, containers: [] })),
    ...optional("status", status, (kept) => ({
      ...optional("phase", kept.phase),
      ...optional("conditions", kept.conditions, (conditions) => conditions.map(conditionCore)),
    })),
  };
}

function conditionCore(condition: V1PodCondition): V1PodCondition {
  return { type: condition.type, status: condition.status };
}

/** A namespace keeps its annotations: the opt-in and the rails read them. */
export function trimNamespace(namespace: V1Namespace): V1Namespace {
  const metadata = namespace.metadata;
  return { metadata: { ...identityOf(metadata), ...optional("annotations", metadata?.annotations) } };
}

/** A ReplicaSet keeps its owner references: the Deployment a pod's blast radius is counted against. */
export function trimReplicaSet(replicaSet: V1ReplicaSet): V1ReplicaSet {
  const metadata = replicaSet.metadata;
  return {
    metadata: { ...identityOf(metadata), ...optional("ownerReferences", metadata?.ownerReferences) },
  };
}

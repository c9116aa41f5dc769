import type { V1ObjectMeta, V1OwnerReference, V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
import { usageError } from "../core/errors.js";
import {
  podPhases,
  type Owner,
  type PodFacts,
  type PodIndex,
  type PodPhase,
} from "../core/targeting/types.js";
import type { EngineKube } from "./engine-kube.js";
import { apiStatus } from "./api-errors.js";

/**
 * Reads what planning needs to know about pods: the pods themselves, their namespaces' annotations and the
 * workload behind each pod. The number of API requests does not grow with the number of pods: per
 * namespace (or once for all namespaces) one pod list, one namespace read and, when any pod there belongs
 * to a ReplicaSet, one ReplicaSet list.
 */
export interface GatheredPods {
  /** The pods as listed; facts[i] describes pods[i]. */
  readonly pods: V1Pod[];
  readonly facts: PodFacts[];
  /** Kept by a cache (the agent's PodCache) for exactly `facts`; planning walks the pods without it. */
  readonly index?: PodIndex;
}

/** Pods, ReplicaSets and namespaces are listed in `namespaces`, or cluster-wide for "all". */
export type NamespaceScope = readonly string[] | "all";

/** One change of a pod, as an informer delivers it, stamped when it arrived. */
export interface PodChange {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly object: V1Pod;
  readonly receivedAt: number;
}

/**
 * Pod changes from a cache that is already synced and watching (the agent's PodCache): recovery timing
 * follows these instead of listing and watching the pods again (kube/recovery/session.ts).
 */
export interface PodChangeFeed {
  /** Calls `listener` for every pod change from now on; undefined while the cache is not synced. */
  subscribe(listener: (change: PodChange) => void): (() => void) | undefined;
}

/** What the engine plans pod faults from; clusterPodFacts reads it from the cluster. */
export interface PodFactsSource {
  gather(scope: NamespaceScope): Promise<GatheredPods>;
  /** Present when the source is a cache that watches pods: see PodChangeFeed. */
  readonly podChanges?: PodChangeFeed;
}

export function clusterPodFacts(kube: EngineKube): PodFactsSource {
  return { gather: (scope) => gatherPodFacts(kube, scope) };
}

export async function gatherPodFacts(kube: EngineKube, namespaces: NamespaceScope): Promise<GatheredPods> {
  const scope = namespaces === "all" ? "all" : [...new Set(namespaces)];
  const [pods, annotations] = await Promise.all([listPods(kube, scope), namespaceAnnotations(kube, scope)]);
  const replicaSetOwners = await resolveReplicaSetOwners(kube, scope, pods);
  const facts = pods.map((pod) => {
    const namespace = pod.metadata?.namespace ?? "";
    return podFactsOf(pod, workloadOwner(pod, replicaSetOwners), annotations.get(namespace) ?? {});
  });
  return { pods, facts };
}

/** The owner reference that says which controller manages the object (Kubernetes' GetControllerOf). */
export function controllerRef(metadata: V1ObjectMeta | undefined): V1OwnerReference | undefined {
  return metadata?.ownerReferences?.find((reference) => reference.controller === true);
}

/** The key of a namespaced object in maps: "namespace/name". */
function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function isReplicaSetRef(reference: V1OwnerReference): boolean {
  return reference.kind === "ReplicaSet" && reference.apiVersion.startsWith("apps/");
}

/** What a pod's own fields say, given the workload owner and namespace annotations the caller resolved. */
export function podFactsOf(
  pod: V1Pod,
  owner: Owner | undefined,
  namespaceAnnotations: Readonly<Record<string, string>>,
): PodFacts {
  const metadata = pod.metadata ?? {};
  // One object literal, its optional fields added after: every PodFacts then has one of a few compact
  // shapes, so the planner's per-pod reads over 10,000 of them stay fast. Spreading parts together
  // gave objects V8 reads far more slowly (measured: gather and plan 2-3 times slower).
  const facts: MutableFacts = {
    namespace: metadata.namespace ?? "",
    name: metadata.name ?? "",
    uid: metadata.uid ?? "",
    labels: metadata.labels ?? {},
    annotations: metadata.annotations ?? {},
    deleting: metadata.deletionTimestamp !== undefined,
    phase: phaseOf(pod.status?.phase),
    ready: isPodReady(pod),
    namespaceAnnotations,
  };
  return withOptionalFacts(facts, pod.spec?.nodeName, owner);
}

type MutableFacts = { -readonly [K in keyof PodFacts]: PodFacts[K] };

function withOptionalFacts(
  facts: MutableFacts,
  nodeName: string | undefined,
  owner: Owner | undefined,
): PodFacts {
  if (nodeName !== undefined) facts.nodeName = nodeName;
  if (owner !== undefined) facts.owner = owner;
  return facts;
}

/** A pod the API has not given a phase yet is Pending (the API's own default); an unknown word is Unknown. */
function phaseOf(phase: string | undefined): PodPhase {
  if (phase === undefined) return "Pending";
  return podPhases.find((known) => known === phase) ?? "Unknown";
}

/**
 * The workload a pod belongs to: its controller, except that a ReplicaSet stands for the controller that
 * owns it (a Deployment, normally). Pods without a controller have no owner.
 */
export function workloadOwner(pod: V1Pod, replicaSetOwners: ReadonlyMap<string, Owner>): Owner | undefined {
  const reference = controllerRef(pod.metadata);
  if (reference === undefined) return undefined;
  if (isReplicaSetRef(reference)) {
    const key = keyOf(pod.metadata?.namespace ?? "", reference.name);
    return replicaSetOwners.get(key) ?? { kind: "ReplicaSet", name: reference.name };
  }
  return { kind: reference.kind, name: reference.name };
}

/** The workload a ReplicaSet stands for: its controller (a Deployment), or itself when it has none. */
export function replicaSetOwner(replicaSet: V1ReplicaSet): Owner {
  const reference = controllerRef(replicaSet.metadata);
  if (reference === undefined) return { kind: "ReplicaSet", name: replicaSet.metadata?.name ?? "" };
  return { kind: reference.kind, name: reference.name };
}

/** The pods of the namespaces, or of the cluster: one LIST per namespace, or one for "all". */
export async function listPods(kube: EngineKube, scope: NamespaceScope): Promise<V1Pod[]> {
  // Not client-node's model classes: the pods' LIST is the one that grows with the fleet (ADR 0035).
  if (scope === "all") return kube.wire.pods("/api/v1/pods");
  const lists = await Promise.all(
    scope.map((namespace) => kube.wire.pods(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`)),
  );
  return lists.flat();
}

/** Annotations per namespace name. A namespace named explicitly that does not exist is a usage error. */
async function namespaceAnnotations(
  kube: EngineKube,
  scope: NamespaceScope,
): Promise<Map<string, Record<string, string>>> {
  const namespaces =
    scope === "all"
      ? (await kube.core.listNamespace()).items
      : await Promise.all(scope.map((name) => readNamespace(kube, name)));
  return new Map(
    namespaces.map((namespace) => [namespace.metadata?.name ?? "", namespace.metadata?.annotations ?? {}]),
  );
}

async function readNamespace(kube: EngineKube, name: string) {
  try {
    return await kube.core.readNamespace({ name });
  } catch (error: unknown) {
    // Listing pods in a namespace that does not exist just returns nothing, which would hide a typo.
    if (apiStatus(error) === 404) throw usageError("namespace", `namespace "${name}" does not exist`);
    throw error;
  }
}

/**
 * The workload behind every ReplicaSet that owns one of `pods`, keyed "namespace/name". ReplicaSets are
 * listed (per namespace that needs it, or once cluster-wide), never read one per pod; a ReplicaSet created
 * after the list was taken is read once.
 */
async function resolveReplicaSetOwners(
  kube: EngineKube,
  scope: NamespaceScope,
  pods: readonly V1Pod[],
): Promise<Map<string, Owner>> {
  const wanted = replicaSetsOwningPods(pods);
  if (wanted.size === 0) return new Map();
  const listed = await listReplicaSets(kube, scope, wanted);
  const owners = new Map(
    listed.map((replicaSet) => [
      keyOf(replicaSet.metadata?.namespace ?? "", replicaSet.metadata?.name ?? ""),
      replicaSetOwner(replicaSet),
    ]),
  );
  const missing = [...wanted.entries()].filter(([key]) => !owners.has(key));
  const late = await Promise.all(
    missing.map(
      async ([key, { namespace, name }]) => [key, await readReplicaSetOwner(kube, namespace, name)] as const,
    ),
  );
  for (const [key, owner] of late) owners.set(key, owner);
  return owners;
}

function replicaSetsOwningPods(pods: readonly V1Pod[]): Map<string, { namespace: string; name: string }> {
  const wanted = new Map<string, { namespace: string; name: string }>();
  for (const pod of pods) {
    const reference = controllerRef(pod.metadata);
    if (reference === undefined || !isReplicaSetRef(reference)) continue;
    const namespace = pod.metadata?.namespace ?? "";
    wanted.set(keyOf(namespace, reference.name), { namespace, name: reference.name });
  }
  return wanted;
}

async function listReplicaSets(
  kube: EngineKube,
  scope: NamespaceScope,
  wanted: ReadonlyMap<string, { namespace: string }>,
): Promise<V1ReplicaSet[]> {
  if (scope === "all") return (await kube.apps.listReplicaSetForAllNamespaces()).items;
  const namespaces = [...new Set([...wanted.values()].map((replicaSet) => replicaSet.namespace))];
  const lists = await Promise.all(
    namespaces.map((namespace) => kube.apps.listNamespacedReplicaSet({ namespace })),
  );
  return lists.flatMap((list) => list.items);
}

async function readReplicaSetOwner(kube: EngineKube, namespace: string, name: string): Promise<Owner> {
  try {
    return replicaSetOwner(await kube.apps.readNamespacedReplicaSet({ name, namespace }));
  } catch (error: unknown) {
    // Gone since the pod was listed: the pod is on its way out too, and the ReplicaSet is all we know.
    if (apiStatus(error) === 404) return { kind: "ReplicaSet", name };
    throw error;
  }
}

/** The pod's Ready condition is True: what kubectl's READY column and the endpoints controller go by. */
export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** Container restarts summed over the pod's containers, as kubectl's RESTARTS column counts them. */
export function podRestarts(pod: V1Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, status) => sum + status.restartCount, 0);
}

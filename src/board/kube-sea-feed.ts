import type {
  KubernetesObject,
  V1DaemonSet,
  V1Deployment,
  V1Pod,
  V1ReplicaSet,
  V1StatefulSet,
} from "@kubernetes/client-node";
import type { Clock } from "../core/clock.js";
import { BroadsideError } from "../core/errors.js";
import {
  shipKeyOf,
  type PodFacts,
  type SeaState,
  type WorkloadFacts,
  type WorkloadKind,
  type WorkloadRef,
} from "../core/board/sea.js";
import { optional } from "../core/objects.js";
import { trimPod } from "../kube/trimmed.js";
import { controllerRef } from "../kube/pod-facts.js";
import { collectionPath } from "../kube/watch/source.js";
import { Informer, type InformerEvent } from "../kube/watch/informer.js";
import type { WatchSources } from "../kube/watch/source.js";
import type { FollowedSea, RestartSample, SeaFeed } from "./ports.js";

/**
 * The sea kept from the cluster: per namespace of the game, supervised informers over its pods,
 * ReplicaSets (a Deployment's pods belong to it through them), Deployments, StatefulSets and DaemonSets.
 * Once all five have listed, the namespace goes on the board (SeaState.syncNamespace); from then on every
 * watch event is applied as it arrives, stamped with its arrival, so a cell burns and is repaired in the
 * ms the watch events give.
 */

export interface KubeSeaFeedOptions {
  readonly watches: WatchSources;
  readonly clock: Clock;
  /** How long a namespace's first lists may take before the game fails to open. */
  readonly listTimeoutMs?: number;
  readonly onError?: (error: BroadsideError) => void;
}

const defaultListTimeoutMs = 30_000;

export function kubeSeaFeed(options: KubeSeaFeedOptions): SeaFeed {
  return {
    follow: async (namespaces, sea, onRestarts) => {
      const followed = namespaces.map(
        (namespace) => new NamespaceFeed(namespace, sea, options, onRestarts ?? (() => undefined)),
      );
      const stop = async (): Promise<void> => {
        await Promise.all(followed.map((feed) => feed.stop()));
      };
      try {
        await Promise.all(followed.map((feed) => feed.start(options.listTimeoutMs ?? defaultListTimeoutMs)));
      } catch (error: unknown) {
        await stop();
        throw error;
      }
      return { stop } satisfies FollowedSea;
    },
  };
}

class NamespaceFeed {
  private readonly pods: Informer<V1Pod>;
  private readonly replicaSets: Informer<V1ReplicaSet>;
  private readonly workloads: readonly {
    readonly kind: WorkloadKind;
    readonly informer: Informer<KubernetesObject>;
  }[];
  private listed = false;

  constructor(
    private readonly namespace: string,
    private readonly sea: SeaState,
    private readonly options: KubeSeaFeedOptions,
    private readonly onRestarts: (sample: RestartSample) => void,
  ) {
    this.pods = this.informer<V1Pod>("v1", "pods", trimSeaPod);
    this.replicaSets = this.informer<V1ReplicaSet>("apps/v1", "replicasets");
    this.workloads = (["Deployment", "StatefulSet", "DaemonSet"] as const).map((kind) => ({
      kind,
      informer: this.informer<KubernetesObject>("apps/v1", `${kind.toLowerCase()}s`),
    }));
    this.pods.subscribe((event) => {
      if (this.listed) this.onPod(event);
    });
    this.replicaSets.subscribe((event) => {
      if (this.listed && event.type !== "DELETED") this.adoptPodsOf(event.object);
    });
    for (const { kind, informer } of this.workloads) {
      informer.subscribe((event) => {
        if (this.listed) this.onWorkload(kind, event);
      });
    }
  }

  async start(timeoutMs: number): Promise<void> {
    const all = [this.pods, this.replicaSets, ...this.workloads.map((workload) => workload.informer)];
    const abandon = new AbortController();
    const timeout = this.options.clock.sleep(timeoutMs, abandon.signal).then(() => {
      throw new BroadsideError(
        "BRD_TIMEOUT",
        `the pods and workloads of namespace ${this.namespace} were not listed within ${timeoutMs} ms`,
      );
    });
    try {
      await Promise.race([Promise.all(all.map((informer) => informer.start())), timeout]);
    } finally {
      abandon.abort();
    }
    // Synchronous from here: no event can come between the lists read and `listed` set.
    this.sea.syncNamespace({
      namespace: this.namespace,
      workloads: this.workloads.flatMap(({ kind, informer }) =>
        informer.list().flatMap((object) => workloadFacts(kind, object) ?? []),
      ),
      pods: this.pods.list().flatMap((pod) => this.podFacts(pod) ?? []),
    });
    for (const pod of this.pods.list()) this.tellRestarts(pod, true);
    this.listed = true;
  }

  async stop(): Promise<void> {
    const all = [this.pods, this.replicaSets, ...this.workloads.map((workload) => workload.informer)];
    await Promise.all(all.map((informer) => informer.stop()));
  }

  private informer<T extends KubernetesObject>(
    apiVersion: string,
    plural: string,
    transform?: (object: T) => T,
  ): Informer<T> {
    return new Informer<T>({
      source: this.options.watches({ path: collectionPath(apiVersion, plural, this.namespace) }),
      description: `${plural} in namespace ${this.namespace} (the board's sea)`,
      clock: this.options.clock,
      ...(transform === undefined ? {} : { transform }),
      ...(this.options.onError === undefined ? {} : { onError: this.options.onError }),
    });
  }

  private onPod(event: InformerEvent<V1Pod>): void {
    if (event.type === "DELETED") {
      this.sea.deletePod(this.namespace, event.object.metadata?.uid ?? "", event.receivedAt);
      return;
    }
    const facts = this.podFacts(event.object);
    if (facts !== undefined) this.sea.upsertPod(this.namespace, facts, event.receivedAt);
    this.tellRestarts(event.object, false);
  }

  /** A ship's pod's restarts, for the scoreboard: told for every pod listed, and after when they change. */
  private tellRestarts(pod: V1Pod, initial: boolean): void {
    const uid = pod.metadata?.uid;
    const workload = this.workloadOf(pod);
    if (uid === undefined || workload === undefined) return;
    const restarts = restartsOf(pod);
    if (!initial && restarts === 0) return;
    this.onRestarts({ namespace: this.namespace, ship: shipKeyOf(workload), podUid: uid, restarts, initial });
  }

  private onWorkload(kind: WorkloadKind, event: InformerEvent<KubernetesObject>): void {
    const name = event.object.metadata?.name ?? "";
    if (event.type === "DELETED") {
      this.sea.removeWorkload(this.namespace, { kind, name });
      return;
    }
    const facts = workloadFacts(kind, event.object);
    if (facts !== undefined) this.sea.upsertWorkload(this.namespace, facts, event.receivedAt);
  }

  /** A ReplicaSet seen after its pods: the pods that could not be placed before now can. */
  private adoptPodsOf(replicaSet: V1ReplicaSet): void {
    const name = replicaSet.metadata?.name;
    for (const pod of this.pods.list()) {
      if (controllerRef(pod.metadata)?.name !== name) continue;
      const facts = this.podFacts(pod);
      if (facts !== undefined) this.sea.upsertPod(this.namespace, facts);
    }
  }

  private podFacts(pod: V1Pod): PodFacts | undefined {
    const workload = this.workloadOf(pod);
    const metadata = pod.metadata;
    if (workload === undefined || metadata?.uid === undefined || metadata.name === undefined)
      return undefined;
    return {
      name: metadata.name,
      uid: metadata.uid,
      workload,
      phase: pod.status?.phase ?? "Unknown",
      ready: isReady(pod),
      deleting: metadata.deletionTimestamp !== undefined,
      createdAt: epochMs(metadata.creationTimestamp),
    };
  }

  /** The ship a pod belongs to: its StatefulSet or DaemonSet, or the Deployment behind its ReplicaSet. */
  private workloadOf(pod: V1Pod): WorkloadRef | undefined {
    const owner = controllerRef(pod.metadata);
    if (owner?.kind === "StatefulSet" || owner?.kind === "DaemonSet")
      return { kind: owner.kind, name: owner.name };
    if (owner?.kind !== "ReplicaSet") return undefined;
    const deployment = controllerRef(this.replicaSets.get(this.namespace, owner.name)?.metadata);
    return deployment?.kind === "Deployment" ? { kind: "Deployment", name: deployment.name } : undefined;
  }
}

/**
 * The sea's pods keep what the pod cache keeps (kube/trimmed.ts trimPod) and each container's restart
 * count, for the scoreboard: nothing else of the container statuses.
 */
export function trimSeaPod(pod: V1Pod): V1Pod {
  const trimmed = trimPod(pod);
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  if (statuses.length === 0) return trimmed;
  const containerStatuses = statuses.map((status) => ({
    name: status.name,
    restartCount: status.restartCount,
    ready: status.ready,
    image: "",
    imageID: "",
  }));
  const status = {
    ...optional("phase", trimmed.status?.phase),
    ...optional("conditions", trimmed.status?.conditions),
    containerStatuses,
  };
  return { ...optional("metadata", trimmed.metadata), ...optional("spec", trimmed.spec), status };
}

/** The sum of the pod's containers' (and init containers') restart counts. */
export function restartsOf(pod: V1Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, status) => sum + (status.restartCount || 0), 0);
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** A ship's length: desired replicas (a DaemonSet's desiredNumberScheduled). */
function workloadFacts(kind: WorkloadKind, object: KubernetesObject): WorkloadFacts | undefined {
  const name = object.metadata?.name;
  if (name === undefined) return undefined;
  if (kind === "DaemonSet") {
    return { kind, name, replicas: (object as V1DaemonSet).status?.desiredNumberScheduled ?? 0 };
  }
  const replicas = (object as V1Deployment | V1StatefulSet).spec?.replicas;
  return { kind, name, replicas: replicas ?? 1 };
}

/** A timestamp as the wire gives it (a string) or as client-node types it (a Date), in epoch ms. */
function epochMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  const parsed = typeof value === "string" ? Date.parse(value) : Number.NaN;
  return Number.isNaN(parsed) ? 0 : parsed;
}

import type { V1Namespace, V1ObjectMeta, V1Pod, V1PodCondition, V1ReplicaSet } from "@kubernetes/client-node";
import type { Clock } from "../core/clock.js";
import type { BroadsideError } from "../core/errors.js";
import { optional } from "../core/objects.js";
import { readyWorkloadLookup, workloadOf } from "../core/targeting/rails.js";
import type { Owner, PodFacts } from "../core/targeting/types.js";
import {
  podFactsOf,
  replicaSetOwner,
  workloadOwner,
  type GatheredPods,
  type NamespaceScope,
  type PodChangeFeed,
  type PodFactsSource,
} from "./pod-facts.js";
import { collectionPath } from "./watch/client-node-source.js";
import { Informer, type InformerEvent } from "./watch/informer.js";
import { objectKey } from "./watch/object-cache.js";
import type { WatchSources } from "./watch/source.js";

/*
 * The agent's view of pods (issue 10, Speed): informers over pods, namespaces and ReplicaSets, so a shot
 * picks its targets from memory instead of listing the cluster each time. Every object is trimmed on
 * arrival (client-go's SetTransform) to the fields planning, the rails and recovery timing read: what
 * podFactsOf, workloadOwner, replicaSetOwner and recovery's victimSpec/advance use. 10,000 pods then fit
 * in a small resident set (docs/benchmarks.md).
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

export interface PodCacheOptions {
  readonly watches: WatchSources;
  readonly clock: Clock;
  /** Asked when a named namespace is not (yet) in the cache: it may have been created a moment ago. */
  readonly fallback: PodFactsSource;
  /** false keeps whole objects: only the memory benchmark's comparison wants that. Default true. */
  readonly trim?: boolean;
  readonly onError?: (error: BroadsideError) => void;
}

/**
 * A PodFactsSource answered from informers: the same facts as clusterPodFacts for the same cluster, and
 * no API request per shot. A cache may lag the cluster by a watch event; that is safe, since every shot is
 * conditional on the pod's uid and a pod already gone is reported as such.
 */
export class PodCache implements PodFactsSource {
  readonly pods: Informer<V1Pod>;
  readonly namespaces: Informer<V1Namespace>;
  readonly replicaSets: Informer<V1ReplicaSet>;
  private started: Promise<void> | undefined;
  /** Per namespace, its pods by name with their facts, computed once per pod change (see factsOf). */
  private readonly entries = new Map<string, Map<string, CachedPod>>();
  /** Namespaces whose pods' facts are out of date: its annotations or a ReplicaSet's owner changed. */
  private readonly staleNamespaces = new Set<string>();
  /** What each namespace's annotations and each ReplicaSet's owner were, to tell a change from an echo. */
  private readonly seenNamespaces = new Map<string, string>();
  private readonly replicaSetOwnerKeys = new Map<string, Owner>();

  constructor(private readonly options: PodCacheOptions) {
    const trim = options.trim ?? true;
    const common = { clock: options.clock, ...optional("onError", options.onError) };
    this.pods = new Informer<V1Pod>({
      ...common,
      source: options.watches({ path: collectionPath("v1", "pods") }),
      description: "pods (the agent's pod cache)",
      ...optional("transform", trim ? trimPod : undefined),
    });
    this.namespaces = new Informer<V1Namespace>({
      ...common,
      source: options.watches({ path: collectionPath("v1", "namespaces") }),
      description: "namespaces (the agent's pod cache)",
      ...optional("transform", trim ? trimNamespace : undefined),
    });
    this.replicaSets = new Informer<V1ReplicaSet>({
      ...common,
      source: options.watches({ path: collectionPath("apps/v1", "replicasets") }),
      description: "ReplicaSets (the agent's pod cache)",
      ...optional("transform", trim ? trimReplicaSet : undefined),
    });
    this.pods.subscribe((event) => {
      this.onPod(event);
    });
    this.namespaces.subscribe((event) => {
      this.onNamespace(event);
    });
    this.replicaSets.subscribe((event) => {
      this.onReplicaSet(event);
    });
  }

  /** The informers, for the agent's readiness check. */
  get informers(): readonly { readonly stats: { readonly synced: boolean } }[] {
    return [this.pods, this.namespaces, this.replicaSets];
  }

  /** Starts the three informers; resolves once all have applied their first LIST. */
  start(): Promise<void> {
    this.started ??= Promise.all([this.pods.start(), this.namespaces.start(), this.replicaSets.start()]).then(
      () => undefined,
    );
    return this.started;
  }

  async stop(): Promise<void> {
    await Promise.all([this.pods.stop(), this.namespaces.stop(), this.replicaSets.stop()]);
  }

  /** The pods informer's changes, once it has synced: recovery timing starts from them without a LIST. */
  readonly podChanges: PodChangeFeed = {
    subscribe: (listener) => (this.pods.stats.synced ? this.pods.subscribe(listener) : undefined),
  };

  /**
   * Waits for the first sync (once), then answers from memory: the facts kept per pod (recomputed only for
   * pods that changed since, or whose namespace or ReplicaSet did) and the index the caps read.
   */
  async gather(scope: NamespaceScope): Promise<GatheredPods> {
    await this.start();
    if (scope !== "all" && scope.some((name) => this.namespaces.get("", name) === undefined)) {
      // Unknown here: new since the last event, or a typo the fallback reports as a usage error.
      return this.options.fallback.gather(scope);
    }
    const namespaces = scope === "all" ? [...this.entries.keys()] : [...new Set(scope)];
    const gathered: IndexedGathering = {
      pods: [],
      facts: [],
      index: { readyPerWorkload: new Map(), readyWorkloadOf: () => undefined },
    };
    for (const namespace of namespaces) this.gatherNamespace(namespace, gathered);
    gathered.index.readyWorkloadOf = readyWorkloadLookup(gathered.facts);
    return gathered;
  }

  /** Appends the namespace's pods, their facts and their readiness per workload to `into`. */
  private gatherNamespace(namespace: string, into: IndexedGathering): void {
    const stale = this.staleNamespaces.delete(namespace);
    const { readyPerWorkload } = into.index;
    for (const entry of this.entries.get(namespace)?.values() ?? []) {
      const { facts, workload } = this.factsOf(entry, stale);
      into.pods.push(entry.pod);
      into.facts.push(facts);
      const ready = facts.ready && !facts.deleting;
      readyPerWorkload.set(workload, (readyPerWorkload.get(workload) ?? 0) + (ready ? 1 : 0));
    }
  }

  /** The entry's facts and workload, computed now if the pod, its namespace or its ReplicaSet changed. */
  private factsOf(entry: CachedPod, stale: boolean): { facts: PodFacts; workload: string } {
    if (entry.known !== undefined && !stale) return entry.known;
    const pod = entry.pod;
    const namespace = pod.metadata?.namespace ?? "";
    const annotations = this.namespaces.get("", namespace)?.metadata?.annotations ?? {};
    const facts = podFactsOf(pod, workloadOwner(pod, this.replicaSetOwnerKeys), annotations);
    entry.known = { facts, workload: workloadOf(facts) };
    return entry.known;
  }

  private onPod(event: InformerEvent<V1Pod>): void {
    const namespace = event.object.metadata?.namespace ?? "";
    const name = event.object.metadata?.name ?? "";
    let pods = this.entries.get(namespace);
    if (event.type === "DELETED") {
      pods?.delete(name);
      if (pods?.size === 0) this.entries.delete(namespace);
      return;
    }
    if (pods === undefined) {
      pods = new Map();
      this.entries.set(namespace, pods);
    }
    pods.set(name, { pod: event.object, known: undefined });
  }

  private onNamespace(event: InformerEvent<V1Namespace>): void {
    const name = event.object.metadata?.name ?? "";
    const annotations =
      event.type === "DELETED" ? "" : JSON.stringify(event.object.metadata?.annotations ?? {});
    if (this.seenNamespaces.get(name) === annotations) return;
    this.seenNamespaces.set(name, annotations);
    this.staleNamespaces.add(name);
  }

  private onReplicaSet(event: InformerEvent<V1ReplicaSet>): void {
    const key = objectKey(event.object);
    const before = this.replicaSetOwnerKeys.get(key);
    const after = event.type === "DELETED" ? undefined : replicaSetOwner(event.object);
    if (sameOwner(before, after)) return;
    if (after === undefined) this.replicaSetOwnerKeys.delete(key);
    else this.replicaSetOwnerKeys.set(key, after);
    this.staleNamespaces.add(event.object.metadata?.namespace ?? "");
  }
}

function sameOwner(a: Owner | undefined, b: Owner | undefined): boolean {
  return a?.kind === b?.kind && a?.name === b?.name;
}

/** What gather builds: GatheredPods with its index, mutable while it is filled. */
interface IndexedGathering {
  readonly pods: V1Pod[];
  readonly facts: PodFacts[];
  readonly index: {
    readyPerWorkload: Map<string, number>;
    readyWorkloadOf: (uid: string) => string | undefined;
  };
}

/** A cached pod and, once computed, its facts and workload; a change of the pod replaces the entry. */
interface CachedPod {
  readonly pod: V1Pod;
  known: { readonly facts: PodFacts; readonly workload: string } | undefined;
}

import type { V1Namespace, V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
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
import { trimNamespace, trimPod, trimReplicaSet } from "./trimmed.js";
import { collectionPath } from "./watch/source.js";
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
  /** Per namespace, its pods with their facts and its ready pods per workload, kept up to date. */
  private readonly entries = new Map<string, NamespacePods>();
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
   * Waits for the first sync (once), then answers from memory: a copy of each namespace's pods and facts
   * (facts recomputed only for pods that changed since the last gather, or all of a namespace whose
   * annotations or ReplicaSets changed) and of the ready pods per workload the caps read. The copies are
   * arrays of references, so a shot over 10,000 pods costs a few microseconds here, not a walk.
   */
  async gather(scope: NamespaceScope): Promise<GatheredPods> {
    await this.start();
    if (scope !== "all" && scope.some((name) => this.namespaces.get("", name) === undefined)) {
      // Unknown here: new since the last event, or a typo the fallback reports as a usage error.
      return this.options.fallback.gather(scope);
    }
    const names = scope === "all" ? [...this.entries.keys()] : [...new Set(scope)];
    const snapshots = names.flatMap((name) => {
      const namespace = this.entries.get(name);
      return namespace === undefined ? [] : [namespace.snapshot(this.factsSource)];
    });
    const facts = snapshots.length === 1 ? (snapshots[0]?.facts ?? []) : snapshots.flatMap((s) => s.facts);
    return {
      pods: snapshots.length === 1 ? (snapshots[0]?.pods ?? []) : snapshots.flatMap((s) => s.pods),
      facts,
      index: {
        readyPerWorkload: mergedCounts(snapshots.map((s) => s.readyPerWorkload)),
        readyWorkloadOf: readyWorkloadLookup(facts),
      },
    };
  }

  /** Computes a pod's facts and workload from what the namespace and ReplicaSet informers hold now. */
  private readonly factsSource = (pod: V1Pod): KnownFacts => {
    const namespace = pod.metadata?.namespace ?? "";
    const annotations = this.namespaces.get("", namespace)?.metadata?.annotations ?? {};
    const facts = podFactsOf(pod, workloadOwner(pod, this.replicaSetOwnerKeys), annotations);
    return { facts, workload: workloadOf(facts) };
  };

  private onPod(event: InformerEvent<V1Pod>): void {
    const namespace = event.object.metadata?.namespace ?? "";
    const name = event.object.metadata?.name ?? "";
    let pods = this.entries.get(namespace);
    if (event.type === "DELETED") {
      pods?.remove(name);
      if (pods?.size === 0) this.entries.delete(namespace);
      return;
    }
    if (pods === undefined) {
      pods = new NamespacePods();
      this.entries.set(namespace, pods);
    }
    pods.put(name, event.object);
  }

  private onNamespace(event: InformerEvent<V1Namespace>): void {
    const name = event.object.metadata?.name ?? "";
    const annotations =
      event.type === "DELETED" ? "" : JSON.stringify(event.object.metadata?.annotations ?? {});
    if (this.seenNamespaces.get(name) === annotations) return;
    this.seenNamespaces.set(name, annotations);
    this.entries.get(name)?.markStale();
  }

  private onReplicaSet(event: InformerEvent<V1ReplicaSet>): void {
    const key = objectKey(event.object);
    const before = this.replicaSetOwnerKeys.get(key);
    const after = event.type === "DELETED" ? undefined : replicaSetOwner(event.object);
    if (sameOwner(before, after)) return;
    if (after === undefined) this.replicaSetOwnerKeys.delete(key);
    else this.replicaSetOwnerKeys.set(key, after);
    this.entries.get(event.object.metadata?.namespace ?? "")?.markStale();
  }
}

/** A pod's facts and the workload its blast-radius cap counts it against. */
interface KnownFacts {
  readonly facts: PodFacts;
  readonly workload: string;
}

/** One namespace's pods at a gather: copies, safe to hold while the cache moves on. */
interface NamespaceSnapshot {
  readonly pods: V1Pod[];
  readonly facts: PodFacts[];
  readonly readyPerWorkload: ReadonlyMap<string, number>;
}

/** A cached pod, where it sits in its namespace's arrays, and whether its facts are still to compute. */
interface CachedPod {
  pod: V1Pod;
  position: number;
  known: KnownFacts | undefined;
}

/**
 * One namespace's pods in parallel arrays (pods[i], facts[i]) with swap-removal, so a gather copies two
 * arrays instead of walking 10,000 entries, and its ready pods per workload counted as pods change. Facts
 * are computed lazily, at the next gather, for the pods that changed since the last one (`dirty`), so the
 * first LIST costs no more than before and a change of a namespace's annotations or a ReplicaSet's owner
 * (`markStale`) is applied to every pod at once.
 */
class NamespacePods {
  private readonly byName = new Map<string, CachedPod>();
  private readonly order: CachedPod[] = [];
  private readonly pods: V1Pod[] = [];
  private readonly facts: PodFacts[] = [];
  private readonly dirty = new Set<CachedPod>();
  private readonly readyPerWorkload = new Map<string, number>();
  private stale = false;

  get size(): number {
    return this.order.length;
  }

  put(name: string, pod: V1Pod): void {
    const known = this.byName.get(name);
    if (known !== undefined) {
      this.uncount(known);
      known.pod = pod;
      this.pods[known.position] = pod;
      this.dirty.add(known);
      return;
    }
    const entry: CachedPod = { pod, position: this.order.length, known: undefined };
    this.byName.set(name, entry);
    this.order.push(entry);
    this.pods.push(pod);
    this.facts.push(placeholderFacts);
    this.dirty.add(entry);
  }

  remove(name: string): void {
    const entry = this.byName.get(name);
    if (entry === undefined) return;
    this.uncount(entry);
    this.byName.delete(name);
    this.dirty.delete(entry);
    const last = this.order.pop();
    this.pods.pop();
    const lastFacts = this.facts.pop();
    if (last === undefined || last === entry || lastFacts === undefined) return;
    last.position = entry.position;
    this.order[entry.position] = last;
    this.pods[entry.position] = last.pod;
    this.facts[entry.position] = lastFacts;
  }

  markStale(): void {
    this.stale = true;
  }

  /** Brings the facts and counts up to date through `factsOf`, then copies them. */
  snapshot(factsOf: (pod: V1Pod) => KnownFacts): NamespaceSnapshot {
    if (this.stale) {
      this.stale = false;
      this.readyPerWorkload.clear();
      for (const entry of this.order) entry.known = undefined;
      this.order.forEach((entry) => this.dirty.add(entry));
    }
    for (const entry of this.dirty) {
      entry.known = factsOf(entry.pod);
      this.facts[entry.position] = entry.known.facts;
      this.count(entry.known, 1);
    }
    this.dirty.clear();
    return {
      pods: this.pods.slice(),
      facts: this.facts.slice(),
      readyPerWorkload: this.readyPerWorkload,
    };
  }

  private uncount(entry: CachedPod): void {
    if (entry.known !== undefined) this.count(entry.known, -1);
    entry.known = undefined;
  }

  /** Adds (or with -1 takes back) a pod's part in its workload's ready count; a workload stays at 0. */
  private count(known: KnownFacts, sign: 1 | -1): void {
    const ready = known.facts.ready && !known.facts.deleting ? 1 : 0;
    this.readyPerWorkload.set(
      known.workload,
      (this.readyPerWorkload.get(known.workload) ?? 0) + sign * ready,
    );
  }
}

/** Stands in a facts slot until the pod's facts are computed at the next gather; never handed out. */
const placeholderFacts: PodFacts = podFactsOf({}, undefined, {});

/** One namespace's counts as they are (a copy), or several added up. */
function mergedCounts(counts: readonly ReadonlyMap<string, number>[]): Map<string, number> {
  const merged = new Map<string, number>();
  for (const perNamespace of counts) {
    for (const [workload, ready] of perNamespace) merged.set(workload, (merged.get(workload) ?? 0) + ready);
  }
  return merged;
}

function sameOwner(a: Owner | undefined, b: Owner | undefined): boolean {
  return a?.kind === b?.kind && a?.name === b?.name;
}

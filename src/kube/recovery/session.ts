import type { KubernetesObject } from "@kubernetes/client-node";
import type { Clock } from "../../core/clock.js";
import { deferred } from "../../core/deferred.js";
import type { BroadsideError } from "../../core/errors.js";
import { failedShot, type ShotOutcome } from "../../core/shot.js";
import { collectionPath } from "../watch/source.js";
import { Informer, type InformerEvent } from "../watch/informer.js";
import { isNamedObject } from "../watch/object-cache.js";
import type { CollectionQuery, ListResult, WatchSource, WatchSources } from "../watch/source.js";
import type { PodChangeFeed, PodFactsSource } from "../pod-facts.js";
import { RecoveryFold, victimSpec } from "./fold.js";
import {
  isTrackedKind,
  type RecoveryOptions,
  type RecoveryReport,
  type RecoverySession,
  type RecoveryTarget,
  type TrackedWorkloadKind,
} from "./types.js";

/**
 * Feeds the fold from supervised informers (kube/watch/informer.ts): one on the pods of each target
 * namespace, one per namespace and kind of workload hit. Each starts from a LIST taken before the shots,
 * primed into its cache, so pods that existed before never appear as ADDED; not even after a 410 Gone,
 * whose relist is compared with that cache and so shows victims as DELETED and replacements as ADDED.
 * A dropped connection, an API server restart or a 410 therefore no longer ends the measurement: the
 * informer resumes (or relists) and the milestones it missed arrive, stamped when they reach us.
 */

/** What recovery is watched through, and the clock that stamps shots and bounds the wait. */
export interface RecoveryWatch {
  readonly watches: WatchSources;
  readonly clock: Clock;
  /** When it offers podChanges (a synced cache), pods are followed from it rather than listed. */
  readonly podFacts?: PodFactsSource;
}

/**
 * The shots wait at most this long for every watch to be established, so changes are stamped as they
 * happen; past it they go anyway, and the informers replay what they missed from the lists' versions.
 */
const establishWithinMs = 10_000;

const workloadPlurals: Record<TrackedWorkloadKind, string> = {
  Deployment: "deployments",
  StatefulSet: "statefulsets",
  DaemonSet: "daemonsets",
  ReplicaSet: "replicasets",
};

/** One collection to watch: the pods of a namespace, or workloads of one kind (kind set). */
interface Collection {
  readonly description: string;
  readonly query: CollectionQuery;
  readonly kind: TrackedWorkloadKind | undefined;
}

function targetNamespaces(targets: readonly RecoveryTarget[]): Set<string> {
  return new Set(targets.map((target) => target.pod.metadata?.namespace ?? ""));
}

function podCollections(targets: readonly RecoveryTarget[]): Collection[] {
  return [...targetNamespaces(targets)].map((namespace) => ({
    description: `pods in namespace ${namespace}`,
    query: { path: collectionPath("v1", "pods", namespace) },
    kind: undefined,
  }));
}

/** One per namespace and workload kind, narrowed to the name when there is only one. */
function workloadCollections(fold: RecoveryFold): Collection[] {
  const byKind = new Map<string, { kind: TrackedWorkloadKind; namespace: string; names: Set<string> }>();
  for (const ref of fold.workloadRefs) {
    if (!isTrackedKind(ref.kind)) continue;
    const key = `${ref.namespace}/${ref.kind}`;
    const entry = byKind.get(key) ?? { kind: ref.kind, namespace: ref.namespace, names: new Set<string>() };
    entry.names.add(ref.name);
    byKind.set(key, entry);
  }
  return [...byKind.values()].map(({ kind, namespace, names }) => {
    const [only] = names;
    const plural = workloadPlurals[kind];
    const path = collectionPath("apps/v1", plural, namespace);
    if (names.size !== 1 || only === undefined) {
      return { description: `${plural} in namespace ${namespace}`, query: { path }, kind };
    }
    const query = { path, fieldSelector: `metadata.name=${only}` };
    return { description: `${kind} ${namespace}/${only}`, query, kind };
  });
}

/** An informer and what the session knows of its health, to say why milestones may be missing. */
interface Feed {
  readonly informer: Informer<KubernetesObject>;
  lastError: { readonly at: number; readonly message: string } | undefined;
  lastHeardAt: number | undefined;
}

class Session implements RecoverySession {
  private readonly feeds: Feed[] = [];
  private readonly unsubscribes: (() => void)[] = [];
  private readonly done = deferred<undefined>();
  private finishing = false;

  constructor(
    private readonly fold: RecoveryFold,
    private readonly options: RecoveryOptions,
    private readonly clock: Clock,
  ) {}

  /** Primes the fold with a workload LIST: the availability before the shots. */
  primeWorkloads(kind: TrackedWorkloadKind, list: ListResult, listedAt: number): void {
    for (const item of list.items) {
      // The wire JSON of a workload, as its informer will hold it; availability reads only counts.
      if (isNamedObject(item)) this.fold.onWorkload(kind, item, listedAt);
    }
  }

  follow(collection: Collection, source: WatchSource, list: ListResult): void {
    const feed: Feed = {
      informer: new Informer<KubernetesObject>({
        source,
        startFrom: list,
        clock: this.clock,
        description: collection.description,
        onError: (error: BroadsideError) => {
          feed.lastError = { at: this.clock.now(), message: error.message };
        },
      }),
      lastError: undefined,
      lastHeardAt: undefined,
    };
    const { kind } = collection;
    feed.informer.subscribe((event: InformerEvent<KubernetesObject>) => {
      feed.lastHeardAt = event.receivedAt;
      // The informer's objects are the collection's wire JSON: pods, or workloads of `kind`.
      if (kind === undefined) this.fold.onPod(event.type, event.object, event.receivedAt);
      else this.fold.onWorkload(kind, event.object, event.receivedAt);
      this.check();
    });
    this.feeds.push(feed);
  }

  /**
   * Follows the pods of `namespaces` through a cache's changes; false when there is no synced cache, and
   * the caller lists and watches them itself.
   */
  followPodChanges(feed: PodChangeFeed | undefined, namespaces: ReadonlySet<string>): boolean {
    const unsubscribe = feed?.subscribe((change) => {
      if (!namespaces.has(change.object.metadata?.namespace ?? "")) return;
      this.fold.onPod(change.type, change.object, change.receivedAt);
      this.check();
    });
    if (unsubscribe === undefined) return false;
    this.unsubscribes.push(unsubscribe);
    return true;
  }

  /** Starts every informer (at once: they are primed) and waits, boundedly, until each one watches. */
  async open(): Promise<void> {
    await Promise.all(this.feeds.map((feed) => feed.informer.start()));
    const bound = new AbortController();
    try {
      await Promise.race([
        Promise.all(this.feeds.map((feed) => feed.informer.whenWatching())),
        this.clock.sleep(establishWithinMs, bound.signal),
      ]);
    } finally {
      bound.abort();
    }
  }

  requested(uid: string): void {
    this.fold.requested(uid, this.clock.now());
  }

  fired(uid: string, shot: ShotOutcome): void {
    this.fold.fired(uid, shot);
    this.check();
  }

  async finish(): Promise<RecoveryReport> {
    this.finishing = true;
    this.check();
    const timer = new AbortController();
    try {
      await Promise.race([this.done.promise, this.clock.sleep(this.options.timeoutMs, timer.signal)]);
    } finally {
      timer.abort();
      await this.close();
    }
    const complete = this.fold.isComplete(this.options.waitForVictimsGone);
    return {
      victims: this.fold.victimTimelines(),
      workloads: this.fold.workloadRestorations(),
      complete,
      watchFailure: complete ? undefined : this.unrecoveredFailure(),
    };
  }

  async close(): Promise<void> {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    await Promise.all(this.feeds.map((feed) => feed.informer.stop()));
  }

  /** The last failure of an informer that has not been heard from since it failed. */
  private unrecoveredFailure(): string | undefined {
    for (const feed of this.feeds) {
      const heard = Math.max(
        feed.lastHeardAt ?? Number.NEGATIVE_INFINITY,
        feed.informer.stats.lastEventAt ?? Number.NEGATIVE_INFINITY,
      );
      if (feed.lastError !== undefined && feed.lastError.at >= heard) {
        return `${feed.lastError.message} (still retrying when the wait ended)`;
      }
    }
    return undefined;
  }

  private check(): void {
    if (this.finishing && this.fold.isComplete(this.options.waitForVictimsGone)) this.done.resolve(undefined);
  }
}

/**
 * Lists, then watches, everything needed to time the targets' recovery: pods in each target namespace and
 * each tracked workload the targets belong to. A LIST that fails rejects, before anything is watched.
 * Shots must be fired after this resolves.
 */
export async function startRecoveryTiming(
  watch: RecoveryWatch,
  targets: readonly RecoveryTarget[],
  options: RecoveryOptions,
): Promise<RecoverySession> {
  const fold = new RecoveryFold(targets.map((target) => victimSpec(target.pod, target.owner)));
  const session = new Session(fold, options, watch.clock);
  try {
    const fromCache = session.followPodChanges(watch.podFacts?.podChanges, targetNamespaces(targets));
    const collections = [...(fromCache ? [] : podCollections(targets)), ...workloadCollections(fold)];
    await listAndFollow(watch, session, collections);
    await session.open();
    return session;
  } catch (error: unknown) {
    await session.close();
    throw error;
  }
}

/** Lists every collection (at once), then follows each from its LIST. A LIST that fails rejects. */
async function listAndFollow(
  watch: RecoveryWatch,
  session: Session,
  collections: readonly Collection[],
): Promise<void> {
  const sources = collections.map((collection) => watch.watches(collection.query));
  // Never aborted: the signal is there for sources that can cancel a LIST.
  const listing = new AbortController();
  const lists = await Promise.all(sources.map((source) => source.list(listing.signal)));
  const listedAt = watch.clock.now();
  collections.forEach((collection, index) => {
    const source = sources[index];
    const list = lists[index];
    if (source === undefined || list === undefined) return;
    if (collection.kind !== undefined) session.primeWorkloads(collection.kind, list, listedAt);
    session.follow(collection, source, list);
  });
}

/**
 * Starts the watches, fires at every target at once with `fire`, and waits for recovery or the timeout.
 * A shot that throws is recorded as refused with the error as its reason, so one failed shot does not
 * throw away the measurements of the others.
 */
export async function timeRecovery(
  watch: RecoveryWatch,
  targets: readonly RecoveryTarget[],
  options: RecoveryOptions,
  fire: (target: RecoveryTarget) => Promise<ShotOutcome>,
): Promise<RecoveryReport> {
  const session = await startRecoveryTiming(watch, targets, options);
  try {
    await Promise.all(
      targets.map(async (target) => {
        const uid = target.pod.metadata?.uid ?? "";
        session.requested(uid);
        const outcome = await fire(target).catch((error: unknown) => failedShot(error, watch.clock.now()));
        session.fired(uid, outcome);
      }),
    );
    return await session.finish();
  } finally {
    await session.close();
  }
}

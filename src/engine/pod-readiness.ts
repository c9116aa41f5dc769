import type { V1Pod } from "@kubernetes/client-node";
import type { Clock } from "../core/clock.js";
import { deferred } from "../core/deferred.js";
import { optional } from "../core/objects.js";
import { isPodReady, podRestarts } from "../kube/pod-facts.js";
import { Informer, type InformerEvent } from "../kube/watch/informer.js";
import { collectionPath, type WatchSources } from "../kube/watch/source.js";

/**
 * What the pods of a pod-failure went through, as their watch events tell it (issue 15: "report what users
 * felt"): the pause image running, readiness lost, the original images running again, readiness regained,
 * each stamped when its event arrived, as the pod kill's recovery milestones are (kube/recovery/); and the
 * pods' restart counts before the fault and once they are back.
 *
 * One informer per pod (a field selector on its name), started before the first patch, so no transition is
 * missed; a pod's milestones count only from its own injection (its first change). The pod is back once
 * the images were put back (`reverted`) and its status shows no pause image and Ready: the kubelet has
 * restarted its containers from the original images and they pass their readiness probes.
 */

/** One pod's milestones, in ms since its injection; a milestone not seen is absent. */
export interface PodFailureTimeline {
  readonly pod: {
    readonly namespace: string;
    readonly name: string;
    readonly uid: string;
    readonly node?: string;
  };
  /** Epoch ms of the pod's first change (its first ledger record is written just before it). */
  readonly injectedAt: number;
  /** The status shows a container running the pause image. */
  readonly pausedMs?: number;
  /** Ready turned False. */
  readonly readyLostMs?: number;
  /** The status shows no pause image any more, after it showed one: the original images run again. */
  readonly imagesBackMs?: number;
  /** Ready turned True again, after it was lost. */
  readonly readyRegainedMs?: number;
  /** Container restarts summed over the pod's containers (kubectl's RESTARTS), read before the patch. */
  readonly restartsBefore: number;
  /** The same when the pod was back (or at the last event seen); absent when the pod was gone. */
  readonly restartsAfter?: number;
  /** Deleted while it was watched: someone else took it away. */
  readonly gone: boolean;
}

/** One state of a pod as an event showed it. */
interface Seen {
  readonly at: number;
  readonly ready: boolean;
  readonly paused: boolean;
  readonly restarts: number;
}

interface Watched {
  readonly pod: V1Pod;
  readonly restartsBefore: number;
  readonly seen: Seen[];
  gone: boolean;
}

export class PodReadinessWatch {
  private readonly watched = new Map<string, Watched>();
  private readonly informers: Informer<V1Pod>[] = [];
  private reverted = false;
  private readonly allBack = deferred<undefined>();

  private constructor(
    private readonly pauseImage: string,
    private readonly clock: Clock,
  ) {}

  /** Watches `pods` (as read just before their patches) from now on. */
  static async start(
    sources: { readonly watches: WatchSources; readonly clock: Clock },
    pods: readonly V1Pod[],
    pauseImage: string,
  ): Promise<PodReadinessWatch> {
    const watch = new PodReadinessWatch(pauseImage, sources.clock);
    await Promise.all(pods.map((pod) => watch.watchPod(sources.watches, pod)));
    return watch;
  }

  /** The images were put back: from now on a pod whose status shows them, Ready, is back. */
  markReverted(): void {
    this.reverted = true;
    this.checkBack();
  }

  /** Resolves once every pod is back (or gone), or when `until` resolves, whichever comes first. */
  async waitBack(until: Promise<unknown>): Promise<void> {
    this.checkBack();
    await Promise.race([this.allBack.promise, until]);
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.stop()));
  }

  /** Each pod's milestones since `injectedAt[uid]`; pods never injected (no change made) are left out. */
  timelines(injectedAt: ReadonlyMap<string, number>): PodFailureTimeline[] {
    return [...this.watched.entries()].flatMap(([uid, watched]) => {
      const at = injectedAt.get(uid);
      return at === undefined ? [] : [timelineOf(watched, uid, at)];
    });
  }

  private async watchPod(watches: WatchSources, pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? "";
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    this.watched.set(uid, { pod, restartsBefore: podRestarts(pod), seen: [this.stateOf(pod)], gone: false });
    const informer = new Informer<V1Pod>({
      source: watches({
        path: collectionPath("v1", "pods", namespace),
        fieldSelector: `metadata.name=${name}`,
      }),
      clock: this.clock,
      description: `pod ${namespace}/${name}`,
    });
    informer.subscribe((event) => {
      this.onEvent(uid, event);
    });
    this.informers.push(informer);
    await informer.start();
  }

  private stateOf(pod: V1Pod, at = this.clock.now()): Seen {
    const paused = (pod.status?.containerStatuses ?? []).some((status) => status.image === this.pauseImage);
    return { at, ready: isPodReady(pod), paused, restarts: podRestarts(pod) };
  }

  private onEvent(uid: string, event: InformerEvent<V1Pod>): void {
    const watched = this.watched.get(uid);
    // Another pod that took the name is not the one paused.
    if (watched === undefined || event.object.metadata?.uid !== uid) return;
    if (event.type === "DELETED") watched.gone = true;
    else watched.seen.push(this.stateOf(event.object, event.receivedAt));
    this.checkBack();
  }

  private checkBack(): void {
    if (!this.reverted) return;
    const back = [...this.watched.values()].every((watched) => {
      const last = watched.seen[watched.seen.length - 1];
      return watched.gone || (last !== undefined && last.ready && !last.paused);
    });
    if (back) this.allBack.resolve(undefined);
  }
}

/** The milestones of one pod from its states, counted from its injection. */
function timelineOf(watched: Watched, uid: string, injectedAt: number): PodFailureTimeline {
  const after = watched.seen.filter((seen) => seen.at >= injectedAt);
  const paused = after.find((seen) => seen.paused);
  const lost = after.find((seen) => !seen.ready);
  const back = paused === undefined ? undefined : after.find((seen) => seen.at >= paused.at && !seen.paused);
  const regained = lost === undefined ? undefined : after.find((seen) => seen.at >= lost.at && seen.ready);
  const last = watched.seen[watched.seen.length - 1];
  const since = (seen: Seen | undefined) => (seen === undefined ? undefined : seen.at - injectedAt);
  const node = watched.pod.spec?.nodeName;
  return {
    pod: {
      namespace: watched.pod.metadata?.namespace ?? "",
      name: watched.pod.metadata?.name ?? "",
      uid,
      ...optional("node", node),
    },
    injectedAt,
    ...optional("pausedMs", since(paused)),
    ...optional("readyLostMs", since(lost)),
    ...optional("imagesBackMs", since(back)),
    ...optional("readyRegainedMs", since(regained)),
    restartsBefore: watched.restartsBefore,
    ...optional("restartsAfter", watched.gone ? undefined : last?.restarts),
    gone: watched.gone,
  };
}

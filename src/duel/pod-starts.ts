import type { V1Container, V1Pod } from "@kubernetes/client-node";
import type { Clock } from "../core/clock.js";
import { collectionPath, type WatchSources } from "../kube/watch/source.js";
import { Informer, type InformerEvent } from "../kube/watch/informer.js";

/**
 * The pods that started or restarted while a duel runs, stamped from watch events: a pod that read the
 * wrong configuration is one that started (or whose container restarted) while a drift held. Which pods
 * read an attacked object is decided per object: a ConfigMap's readers mount it or take env from it, a
 * workload's are the pods its selector matches.
 */

export interface PodStart {
  readonly at: number;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly why: "started" | "restarted";
  readonly labels: Readonly<Record<string, string>>;
  /** ConfigMaps the pod mounts or takes env from. */
  readonly configMaps: readonly string[];
}

/** Who reads an attacked object. */
export type Readers =
  | { readonly kind: "configmap"; readonly namespace: string; readonly name: string }
  | {
      readonly kind: "workload";
      readonly namespace: string;
      readonly matchLabels: Readonly<Record<string, string>>;
    };

/** The starts in [from, to) of pods that read what `readers` names. */
export function startsWhile(
  starts: readonly PodStart[],
  readers: Readers,
  from: number,
  to: number,
): PodStart[] {
  return starts.filter(
    (start) =>
      start.at >= from && start.at < to && start.namespace === readers.namespace && reads(start, readers),
  );
}

function reads(start: PodStart, readers: Readers): boolean {
  if (readers.kind === "configmap") return start.configMaps.includes(readers.name);
  const wanted = Object.entries(readers.matchLabels);
  return wanted.length > 0 && wanted.every(([key, value]) => start.labels[key] === value);
}

/** The ConfigMaps a pod mounts (volumes, projected sources) or reads env from. */
export function configMapsOf(pod: V1Pod): string[] {
  const names = [
    ...volumeConfigMaps(pod),
    ...(pod.spec?.initContainers ?? []),
    ...(pod.spec?.containers ?? []),
  ].flatMap((entry) => (typeof entry === "string" ? [entry] : containerConfigMaps(entry)));
  return [...new Set(names)].sort();
}

function volumeConfigMaps(pod: V1Pod): string[] {
  return (pod.spec?.volumes ?? [])
    .flatMap((volume) => [
      volume.configMap?.name,
      ...(volume.projected?.sources ?? []).map((source) => source.configMap?.name),
    ])
    .filter((name): name is string => name !== undefined);
}

function containerConfigMaps(container: V1Container): string[] {
  return [
    ...(container.envFrom ?? []).map((from) => from.configMapRef?.name),
    ...(container.env ?? []).map((env) => env.valueFrom?.configMapKeyRef?.name),
  ].filter((name): name is string => name !== undefined);
}

function restarts(pod: V1Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, status) => sum + status.restartCount, 0);
}

/**
 * Folds pod events into starts: a pod first seen through the watch (not the initial list) started; a
 * pod whose restart count grew restarted.
 */
export class PodStartFold {
  private readonly restartsByUid = new Map<string, number>();
  readonly starts: PodStart[] = [];

  onEvent(event: Pick<InformerEvent<V1Pod>, "type" | "object" | "receivedAt" | "origin">): void {
    const { metadata = {} } = event.object;
    const uid = metadata.uid;
    if (uid === undefined || event.type === "DELETED") return;
    const count = restarts(event.object);
    const known = this.restartsByUid.get(uid);
    this.restartsByUid.set(uid, count);
    const why = startOf(known, count, event.origin);
    if (why === undefined) return;
    this.starts.push({
      at: event.receivedAt,
      namespace: metadata.namespace ?? "",
      name: metadata.name ?? "",
      uid,
      why,
      labels: metadata.labels ?? {},
      configMaps: configMapsOf(event.object),
    });
  }
}

/** A pod first seen from a watch started; a known pod whose restarts grew restarted; the first list is neither. */
function startOf(
  known: number | undefined,
  count: number,
  origin: InformerEvent<V1Pod>["origin"],
): PodStart["why"] | undefined {
  if (known === undefined) return origin === "list" ? undefined : "started";
  return count > known ? "restarted" : undefined;
}

/** Watches the pods of `namespaces` for the duel's length. */
export class PodStartWatch {
  readonly fold = new PodStartFold();
  private readonly informers: Informer<V1Pod>[] = [];

  static async start(
    watches: WatchSources,
    clock: Clock,
    namespaces: readonly string[],
  ): Promise<PodStartWatch> {
    const watch = new PodStartWatch();
    await Promise.all(
      [...new Set(namespaces)].map(async (namespace) => {
        const informer = new Informer<V1Pod>({
          source: watches({ path: collectionPath("v1", "pods", namespace) }),
          clock,
          description: `pods in ${namespace}`,
        });
        informer.subscribe((event) => {
          watch.fold.onEvent(event);
        });
        watch.informers.push(informer);
        await informer.start();
      }),
    );
    return watch;
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.stop()));
  }
}

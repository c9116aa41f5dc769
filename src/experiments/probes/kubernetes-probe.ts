import type { KubeConfig, KubernetesObject, V1LabelSelector, V1Pod } from "@kubernetes/client-node";
import { systemClock } from "../../core/clock.js";
import type { Clock } from "../../core/clock.js";
import { BroadsideError } from "../../core/errors.js";
import { optional } from "../../core/objects.js";
import { isPodReady, podRestarts } from "../../kube/pod-facts.js";
import { selectorMatches } from "../../core/targeting/label-selector.js";
import { ClientNodeWatchSource } from "../../kube/watch/client-node-source.js";
import { collectionPath } from "../../kube/watch/source.js";
import { Informer } from "../../kube/watch/informer.js";
import type { InformerEvent } from "../../kube/watch/informer.js";
import type { WatchSource } from "../../kube/watch/source.js";
import type { KubernetesCondition, KubernetesProbe, WorkloadKind } from "../files/model.js";
import type { Sample } from "../report/samples.js";
import type { RunningProbe } from "./http-probe.js";
import { FixedRateTicker } from "./schedule.js";

/**
 * A condition on a workload, judged from two informers: the workload itself (by name) and the pods of
 * its namespace, filtered by the workload's selector in memory. Watching the namespace's pods rather
 * than the selector's means the pod watch need not restart when the selector changes, and pods are
 * there before the workload's first event says which ones are its own.
 */

/** The fields of a Deployment, StatefulSet or DaemonSet the conditions read, as they come off the wire. */
export interface Workload extends KubernetesObject {
  readonly spec?: { readonly replicas?: number; readonly selector?: V1LabelSelector };
  readonly status?: {
    /** Deployments and StatefulSets. */
    readonly readyReplicas?: number;
    /** DaemonSets. */
    readonly numberReady?: number;
    readonly desiredNumberScheduled?: number;
    readonly conditions?: readonly { readonly type: string; readonly status: string }[];
  };
}

const plurals: Readonly<Record<WorkloadKind, string>> = {
  deployment: "deployments",
  statefulset: "statefulsets",
  daemonset: "daemonsets",
};

export function podsOf(workload: Workload, pods: readonly V1Pod[]): V1Pod[] {
  return pods.filter((pod) => selectorMatches(workload.spec?.selector, pod.metadata?.labels ?? {}));
}

/** Replicas the workload wants: spec.replicas (default 1), or for a DaemonSet the nodes it should run on. */
function desiredReplicas(kind: WorkloadKind, workload: Workload): number {
  if (kind === "daemonset") return workload.status?.desiredNumberScheduled ?? 0;
  return workload.spec?.replicas ?? 1;
}

/**
 * All pods not being deleted are Ready, and there are at least as many as the workload wants: a deleted
 * pod whose replacement is not Ready yet is a failure, as is a workload whose pods have all gone.
 */
function allPodsReady(kind: WorkloadKind, workload: Workload, pods: readonly V1Pod[]): string | undefined {
  const current = pods.filter((pod) => pod.metadata?.deletionTimestamp === undefined);
  if (!current.every(isPodReady)) return "pod not ready";
  return current.length >= desiredReplicas(kind, workload) ? undefined : "too few pods";
}

function restartCount(pods: readonly V1Pod[]): number {
  return pods.reduce((total, pod) => total + podRestarts(pod), 0);
}

function readyReplicas(count: number, workload: Workload): string | undefined {
  // The workload's own status, as kubectl's READY column shows it.
  const ready = workload.status?.readyReplicas ?? workload.status?.numberReady ?? 0;
  return ready >= count ? undefined : "too few ready replicas";
}

function statusCondition(conditionType: string, workload: Workload): string | undefined {
  const found = workload.status?.conditions?.find((c) => c.type === conditionType);
  return found?.status === "True" ? undefined : `${conditionType} not True`;
}

/**
 * Whether the condition holds: undefined when it does, else a short failure kind (constant per
 * condition, so reports group the failures). `pods` may hold any pods of the namespace.
 */
export function evaluateCondition(
  condition: KubernetesCondition,
  kind: WorkloadKind,
  workload: Workload | undefined,
  pods: readonly V1Pod[],
): string | undefined {
  if (workload === undefined) return "workload not found";
  switch (condition.type) {
    case "readyReplicasAtLeast":
      return readyReplicas(condition.count, workload);
    case "allPodsReady":
      return allPodsReady(kind, workload, podsOf(workload, pods));
    case "restartCountAtMost":
      return restartCount(podsOf(workload, pods)) <= condition.count ? undefined : "too many restarts";
    case "statusCondition":
      return statusCondition(condition.conditionType, workload);
  }
}

export interface KubernetesProbeOptions {
  /** The cluster to watch; not needed when `sourceFor` is given. */
  readonly config?: KubeConfig;
  /** Where informers get their objects; default: client-node watches through `config`. */
  readonly sourceFor?: (path: string, fieldSelector?: string) => WatchSource;
  readonly clock?: Clock;
  readonly onSample?: (sample: Sample) => void;
  /** Samples taken on schedule besides those on events, so availability has a time base. Default 1 Hz. */
  readonly frequencyHz?: number;
  /** Watch failures; the informers retry on their own, and samples keep the last known state. */
  readonly onError?: (error: BroadsideError) => void;
}

function sourceFactory(
  options: KubernetesProbeOptions,
): (path: string, fieldSelector?: string) => WatchSource {
  if (options.sourceFor !== undefined) return options.sourceFor;
  const { config } = options;
  if (config === undefined)
    throw new BroadsideError("BRD_INTERNAL", "a kubernetes probe needs a kubeconfig or a watch source");
  return (path, fieldSelector) =>
    new ClientNodeWatchSource({ config, path, ...optional("fieldSelector", fieldSelector) });
}

/**
 * Starts watching; resolves once both informers hold their first LIST, with a first sample taken.
 * A sample is then taken on every event of the workload or of one of its pods, and at the frequency.
 */
export async function startKubernetesProbe(
  probe: KubernetesProbe,
  options: KubernetesProbeOptions,
): Promise<RunningProbe> {
  const { kind, namespace, name } = probe.target;
  const sourceFor = sourceFactory(options);
  const clock = options.clock ?? systemClock;
  const onError = optional("onError", options.onError);
  const workloads = new Informer<Workload>({
    source: sourceFor(collectionPath("apps/v1", plurals[kind], namespace), `metadata.name=${name}`),
    description: `${kind} ${namespace}/${name}`,
    clock,
    ...onError,
  });
  const pods = new Informer<V1Pod>({
    source: sourceFor(collectionPath("v1", "pods", namespace)),
    description: `pods in namespace ${namespace}`,
    clock,
    ...onError,
  });
  const samples: Sample[] = [];
  const sample = (sentAt: number): void => {
    const error = evaluateCondition(probe.condition, kind, workloads.get(namespace, name), pods.list());
    const taken = { probe: probe.name, sentAt, latencyMs: 0 };
    const result: Sample = error === undefined ? { ...taken, ok: true } : { ...taken, ok: false, error };
    samples.push(result);
    options.onSample?.(result);
  };
  // Pods that were the workload's: a pod relabelled out of the selector changes the answer too.
  const members = new Set<string>();
  const onPod = (event: InformerEvent<V1Pod>): void => {
    const workload = workloads.get(namespace, name);
    const uid = event.object.metadata?.uid ?? "";
    const member = workload !== undefined && podsOf(workload, [event.object]).length === 1;
    const was = members.has(uid);
    if (member && event.type !== "DELETED") members.add(uid);
    else members.delete(uid);
    if (member || was) sample(event.receivedAt);
  };
  try {
    await Promise.all([workloads.start(), pods.start()]);
  } catch (error: unknown) {
    await Promise.all([workloads.stop(), pods.stop()]);
    throw error;
  }
  const unsubscribe = [
    workloads.subscribe((event) => {
      sample(event.receivedAt);
    }),
    pods.subscribe(onPod),
  ];
  const ticker = new FixedRateTicker({
    clock,
    frequencyHz: options.frequencyHz ?? 1,
    maxInFlight: 1,
    task: () => {
      sample(clock.now());
      return Promise.resolve();
    },
  });
  ticker.start();
  return {
    stop: async () => {
      await ticker.stop();
      for (const stop of unsubscribe) stop();
      await Promise.all([workloads.stop(), pods.stop()]);
      return [...samples];
    },
    get stats() {
      return ticker.stats;
    },
  };
}

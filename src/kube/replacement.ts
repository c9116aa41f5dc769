import { Watch, type V1Deployment, type V1Pod } from "@kubernetes/client-node";
import { deferred } from "../core/deferred.js";
import type { KubeClients } from "./client.js";

/**
 * Times the replacement of one deleted pod of a Deployment from watch events, each stamped in
 * milliseconds when it arrives: deletion accepted, replacement created, scheduled, Ready, the
 * Deployment back at its desired available replicas, and the old pod gone. All figures are
 * milliseconds since the DELETE request was sent; undefined means "not seen before the timeout".
 */
export interface ReplacementTimeline {
  readonly victim: {
    readonly name: string;
    readonly node: string | undefined;
    readonly gracePeriodSeconds: number;
  };
  readonly replacement: { readonly name: string; readonly node: string | undefined } | undefined;
  /** Epoch milliseconds of the DELETE request. */
  readonly requestedAt: number;
  readonly deletionAcceptedMs: number;
  readonly replacementCreatedMs: number | undefined;
  readonly replacementScheduledMs: number | undefined;
  readonly replacementReadyMs: number | undefined;
  readonly workloadRestoredMs: number | undefined;
  readonly victimGoneMs: number | undefined;
}

export interface ReplacementRequest {
  readonly namespace: string;
  readonly deployment: string;
  readonly victim: V1Pod;
  readonly timeoutMs: number;
  /** Also wait for the old pod to finish its graceful shutdown and disappear. */
  readonly waitForVictimGone: boolean;
}

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/**
 * Folds pod and Deployment watch events into milestones. The first pod that was not there before the
 * deletion is taken as the replacement.
 */
export class ReplacementObserver {
  replacement: V1Pod | undefined;
  createdAt: number | undefined;
  scheduledAt: number | undefined;
  readyAt: number | undefined;
  restoredAt: number | undefined;
  victimGoneAt: number | undefined;
  private sawUnavailable = false;

  constructor(
    private readonly victimUid: string,
    private readonly podsBefore: ReadonlySet<string>,
    private readonly desiredReplicas: number,
  ) {}

  onPod(type: string, pod: V1Pod, now: number): void {
    const uid = pod.metadata?.uid ?? "";
    if (uid === this.victimUid) {
      if (type === "DELETED") this.victimGoneAt = now;
    } else if (!this.podsBefore.has(uid) && this.isReplacement(uid)) {
      this.onReplacement(pod, now);
    }
  }

  private onReplacement(pod: V1Pod, now: number): void {
    this.createdAt ??= now;
    this.replacement = pod;
    if (pod.spec?.nodeName !== undefined) this.scheduledAt ??= now;
    if (isPodReady(pod)) this.readyAt ??= now;
  }

  onDeployment(deployment: V1Deployment, now: number): void {
    const available = deployment.status?.availableReplicas ?? 0;
    if (available < this.desiredReplicas) this.sawUnavailable = true;
    else if (this.sawUnavailable) this.restoredAt ??= now;
  }

  /** When the Deployment's status never showed the dip (updates can coalesce), Ready restores it. */
  get workloadRestoredAt(): number | undefined {
    return this.restoredAt ?? (this.sawUnavailable ? undefined : this.readyAt);
  }

  isComplete(waitForVictimGone: boolean): boolean {
    return this.workloadRestoredAt !== undefined && (!waitForVictimGone || this.victimGoneAt !== undefined);
  }

  private isReplacement(uid: string): boolean {
    return this.replacement === undefined || this.replacement.metadata?.uid === uid;
  }
}

export async function deleteAndTimeReplacement(
  kube: KubeClients,
  request: ReplacementRequest,
): Promise<ReplacementTimeline> {
  const { namespace, deployment, victim } = request;
  const { before, pods, labelSelector, observer } = await snapshot(kube, request);
  const done = deferred<undefined>();
  const timer = setTimeout(() => {
    done.resolve(undefined);
  }, request.timeoutMs);
  const check = (): void => {
    if (observer.isComplete(request.waitForVictimGone)) done.resolve(undefined);
  };
  const onWatchEnd = (error: unknown): void => {
    if (error !== null && error !== undefined && !observer.isComplete(request.waitForVictimGone))
      done.reject(error);
  };
  const watch = new Watch(kube.config);
  const watches = [
    await watch.watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { labelSelector, resourceVersion: pods.metadata?.resourceVersion },
      (type: string, pod: V1Pod) => {
        observer.onPod(type, pod, Date.now());
        check();
      },
      onWatchEnd,
    ),
    await watch.watch(
      `/apis/apps/v1/namespaces/${namespace}/deployments`,
      { fieldSelector: `metadata.name=${deployment}`, resourceVersion: before.metadata?.resourceVersion },
      (_type: string, object: V1Deployment) => {
        observer.onDeployment(object, Date.now());
        check();
      },
      onWatchEnd,
    ),
  ];
  const requestedAt = Date.now();
  try {
    await kube.core.deleteNamespacedPod({ name: victim.metadata?.name ?? "", namespace });
    const deletionAcceptedMs = Date.now() - requestedAt;
    await done.promise;
    return timeline(victim, observer, requestedAt, deletionAcceptedMs);
  } finally {
    clearTimeout(timer);
    for (const controller of watches) controller.abort();
  }
}

/** The Deployment and its pods before the deletion: what "new" and "restored" are measured against. */
async function snapshot(kube: KubeClients, request: ReplacementRequest) {
  const { namespace, deployment, victim } = request;
  const before = await kube.apps.readNamespacedDeployment({ name: deployment, namespace });
  const labelSelector = Object.entries(before.spec?.selector.matchLabels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
  const pods = await kube.core.listNamespacedPod({ namespace, labelSelector });
  const observer = new ReplacementObserver(
    victim.metadata?.uid ?? "",
    new Set(pods.items.map((pod) => pod.metadata?.uid ?? "")),
    before.spec?.replicas ?? 1,
  );
  return { before, pods, labelSelector, observer };
}

function timeline(
  victim: V1Pod,
  observer: ReplacementObserver,
  requestedAt: number,
  deletionAcceptedMs: number,
): ReplacementTimeline {
  const since = (at: number | undefined): number | undefined =>
    at === undefined ? undefined : at - requestedAt;
  const replacement = observer.replacement;
  return {
    victim: {
      name: victim.metadata?.name ?? "",
      node: victim.spec?.nodeName,
      gracePeriodSeconds: victim.spec?.terminationGracePeriodSeconds ?? 30,
    },
    replacement:
      replacement === undefined
        ? undefined
        : { name: replacement.metadata?.name ?? "", node: replacement.spec?.nodeName },
    requestedAt,
    deletionAcceptedMs,
    replacementCreatedMs: since(observer.createdAt),
    replacementScheduledMs: since(observer.scheduledAt),
    replacementReadyMs: since(observer.readyAt),
    workloadRestoredMs: since(observer.workloadRestoredAt),
    victimGoneMs: since(observer.victimGoneAt),
  };
}

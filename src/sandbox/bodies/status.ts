import type { V1ContainerStatus, V1PodCondition, V1PodStatus } from "@kubernetes/client-node";
import { ApiException } from "@kubernetes/client-node";
import type { KubeClients } from "../../kube/client.js";

/*
 * A body's process died and was started again: the pod's status says so as the kubelet would, through
 * the status subresource, in up to three writes. When it dies, the container is terminated and not
 * ready, so the pod's Ready and ContainersReady go False (reason ContainersNotReady) and its endpoints
 * drop. When it runs again, its restartCount goes up by one, lastState.terminated holds how the last run
 * ended (OOMKilled when its cgroup's OOM killer struck, else Error or Completed with the exit code),
 * state.running starts then and it is started; as behind a readiness probe, it is ready (and the pod
 * Ready again, once every container is) in a third write, after the sandbox's pod-ready delay, or in the
 * same write when that delay is 0.
 */

/** How one run of a container ended. */
export interface Termination {
  readonly exitCode: number;
  readonly reason: "OOMKilled" | "Error" | "Completed";
  /** The signal that ended it, when one did (9 for SIGKILL). */
  readonly signal?: number | undefined;
  readonly startedAt: string;
  readonly finishedAt: string;
}

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** Writes a container's death, its restart and its readiness into its pod's status. */
export interface PodStatusWriter {
  recordExit(pod: PodRef, container: string, termination: Termination): Promise<void>;
  /** The container runs again; ready at once only when `ready` (no readiness delay). */
  recordRestart(
    pod: PodRef,
    container: string,
    termination: Termination,
    runningSince: string,
    ready: boolean,
  ): Promise<void>;
  /** The restarted container passed its readiness probe: ready, the pod Ready once every container is. */
  recordReady(pod: PodRef, container: string, at: string): Promise<void>;
}

/**
 * The container statuses after `container` restarted; the list unchanged (undefined) when the
 * container is not in it. Other containers are left as they are.
 */
export function restartedStatuses(
  statuses: readonly V1ContainerStatus[],
  container: string,
  termination: Termination,
  runningSince: string,
  ready = true,
): V1ContainerStatus[] | undefined {
  if (!statuses.some((status) => status.name === container)) return undefined;
  return statuses.map((status) => {
    if (status.name !== container) return status;
    const { exitCode, reason, signal, startedAt, finishedAt } = termination;
    return Object.assign({}, status, {
      restartCount: status.restartCount + 1,
      lastState: {
        terminated: {
          exitCode,
          reason,
          ...(signal === undefined ? {} : { signal }),
          startedAt: new Date(startedAt),
          finishedAt: new Date(finishedAt),
          ...(status.containerID === undefined ? {} : { containerID: status.containerID }),
        },
      },
      state: { running: { startedAt: new Date(runningSince) } },
      ready,
      started: true,
    });
  });
}

/**
 * The container statuses once `container`, running, passed its readiness probe: ready. Undefined (nothing
 * to write) when it is not listed, not running (it died again meanwhile), or ready already.
 */
export function readyStatuses(
  statuses: readonly V1ContainerStatus[],
  container: string,
): V1ContainerStatus[] | undefined {
  const mine = statuses.find((status) => status.name === container);
  if (mine?.state?.running === undefined || mine.ready) return undefined;
  return statuses.map((status) =>
    status.name === container ? Object.assign({}, status, { ready: true }) : status,
  );
}

/**
 * The container statuses once `container` died: terminated as the run ended, not ready, not started, its
 * restartCount and lastState as they were (the restart adds to them). Undefined when it is not listed.
 */
export function exitedStatuses(
  statuses: readonly V1ContainerStatus[],
  container: string,
  termination: Termination,
): V1ContainerStatus[] | undefined {
  if (!statuses.some((status) => status.name === container)) return undefined;
  return statuses.map((status) => {
    if (status.name !== container) return status;
    const { exitCode, reason, signal, startedAt, finishedAt } = termination;
    return Object.assign({}, status, {
      state: {
        terminated: {
          exitCode,
          reason,
          ...(signal === undefined ? {} : { signal }),
          startedAt: new Date(startedAt),
          finishedAt: new Date(finishedAt),
          ...(status.containerID === undefined ? {} : { containerID: status.containerID }),
        },
      },
      ready: false,
      started: false,
    });
  });
}

/**
 * The pod status with these container statuses, and Ready and ContainersReady as the kubelet derives them:
 * True when every container is ready, else False with reason ContainersNotReady naming the others. A
 * condition that keeps its status keeps its lastTransitionTime.
 */
export function podStatusWith(status: V1PodStatus, statuses: V1ContainerStatus[], now: Date): V1PodStatus {
  const unready = statuses.filter((container) => !container.ready).map((container) => container.name);
  const value = unready.length === 0 ? "True" : "False";
  const derived = (type: string): V1PodCondition => {
    const before = status.conditions?.find((condition) => condition.type === type);
    if (before?.status === value) return before;
    return {
      type,
      status: value,
      lastTransitionTime: now,
      ...(value === "False"
        ? { reason: "ContainersNotReady", message: `containers with unready status: [${unready.join(" ")}]` }
        : {}),
    };
  };
  const others = (status.conditions ?? []).filter(
    (condition) => condition.type !== "Ready" && condition.type !== "ContainersReady",
  );
  return Object.assign({}, status, {
    containerStatuses: statuses,
    conditions: [...others, derived("ContainersReady"), derived("Ready")],
  });
}

/**
 * The real writer: reads the pod's status, changes the one container (and the Ready conditions with it,
 * at the time the run ended or began), and replaces the status with the resourceVersion read, so a
 * concurrent writer (kwok, the EndpointSlice's readiness) is not overwritten; a conflict reads again, up
 * to five times. A pod that is gone, or is another pod by now (uid), is left.
 */
export function kubePodStatusWriter(kube: Pick<KubeClients, "core">): PodStatusWriter {
  const write = async (
    pod: PodRef,
    change: (statuses: readonly V1ContainerStatus[]) => V1ContainerStatus[] | undefined,
    at: string,
  ): Promise<void> => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = await readPod(kube, pod);
      if (current === undefined) return;
      const statuses = change(current.status?.containerStatuses ?? []);
      if (statuses === undefined) return;
      current.status = podStatusWith(current.status ?? {}, statuses, new Date(at));
      try {
        await kube.core.replaceNamespacedPodStatus({
          name: pod.name,
          namespace: pod.namespace,
          body: current,
        });
        return;
      } catch (error: unknown) {
        if (!(error instanceof ApiException) || error.code !== 409) throw error;
      }
    }
  };
  return {
    recordExit: (pod, container, termination) =>
      write(pod, (statuses) => exitedStatuses(statuses, container, termination), termination.finishedAt),
    recordRestart: (pod, container, termination, runningSince, ready) =>
      write(
        pod,
        (statuses) => restartedStatuses(statuses, container, termination, runningSince, ready),
        runningSince,
      ),
    recordReady: (pod, container, at) => write(pod, (statuses) => readyStatuses(statuses, container), at),
  };
}

async function readPod(kube: Pick<KubeClients, "core">, pod: PodRef) {
  try {
    const current = await kube.core.readNamespacedPodStatus({ name: pod.name, namespace: pod.namespace });
    return current.metadata?.uid === pod.uid ? current : undefined;
  } catch (error: unknown) {
    if (error instanceof ApiException && error.code === 404) return undefined;
    throw error;
  }
}

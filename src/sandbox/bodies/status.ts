import type { V1ContainerStatus } from "@kubernetes/client-node";
import { ApiException } from "@kubernetes/client-node";
import type { KubeClients } from "../../kube/client.js";

/*
 * A body's process died and was started again: the pod's status says so as the kubelet would, through
 * the status subresource. The restarted container's restartCount goes up by one, lastState.terminated
 * holds how the last run ended (OOMKilled when its cgroup's OOM killer struck, else Error or Completed
 * with the exit code), and state.running starts now.
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

/** Writes a container's restart into its pod's status. */
export interface PodStatusWriter {
  recordRestart(
    pod: PodRef,
    container: string,
    termination: Termination,
    runningSince: string,
  ): Promise<void>;
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
      ready: true,
      started: true,
    });
  });
}

/**
 * The real writer: reads the pod's status, changes the one container, and replaces the status with the
 * resourceVersion read, so a concurrent writer (kwok, the EndpointSlice's readiness) is not overwritten;
 * a conflict reads again, up to five times. A pod that is gone, or is another pod by now (uid), is left.
 */
export function kubePodStatusWriter(kube: Pick<KubeClients, "core">): PodStatusWriter {
  return {
    recordRestart: async (pod, container, termination, runningSince) => {
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const current = await readPod(kube, pod);
        if (current === undefined) return;
        const statuses = restartedStatuses(
          current.status?.containerStatuses ?? [],
          container,
          termination,
          runningSince,
        );
        if (statuses === undefined) return;
        current.status = Object.assign({}, current.status, { containerStatuses: statuses });
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
    },
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

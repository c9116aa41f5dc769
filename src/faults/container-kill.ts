import type { V1Pod } from "@kubernetes/client-node";
import { BroadsideError, usageError } from "../core/errors.js";
import { quoted } from "../core/names.js";
import { containerIdPattern } from "../core/node-work.js";
import type { NodeWorkSpec } from "../core/node-work.js";

/*
 * container-kill (issue 15, Chaos Mesh's PodChaos action container-kill): one named container's process
 * in each chosen pod is killed with SIGKILL by the node daemon of the pod's node (ADR 0029), and the
 * kubelet restarts it under the pod's restartPolicy. The pod stays. This module plans: it checks that
 * every chosen pod has every named container and a node, before anything is written, and words the work.
 */

/** One container of one pod to kill, as read from the pod just before. */
export interface ContainerKillTarget {
  readonly pod: { readonly namespace: string; readonly name: string; readonly uid: string };
  readonly node: string;
  readonly container: string;
  /** From the pod's status, when it has one: the CRI finder looks the process up by it. */
  readonly containerId: string | undefined;
  /** The container's restartCount before the kill (0 when the status has none yet). */
  readonly restartCount: number;
}

/**
 * Every (pod, container) to kill, or a usage error naming `field` (how the caller spells the container
 * names: "--container", "spec.containerNames") with the pod and the containers it has; and an error for
 * a pod not on a node yet, which no daemon serves. Nothing is written either way.
 */
export function planContainerKills(
  pods: readonly V1Pod[],
  containers: readonly string[],
  field: string,
): ContainerKillTarget[] {
  if (containers.length === 0) throw usageError(field, "name at least one container");
  return pods.flatMap((pod) => containers.map((container) => targetOf(pod, container, field)));
}

function targetOf(pod: V1Pod, container: string, field: string): ContainerKillTarget {
  const ref = podRef(pod);
  const where = `pod ${ref.namespace}/${ref.name}`;
  checkContainer(pod, container, field, where);
  const node = pod.spec?.nodeName ?? "";
  if (node === "")
    throw new BroadsideError(
      "BRD_USAGE",
      `${where} is not on a node yet: no node daemon can kill its containers`,
    );
  const status = pod.status?.containerStatuses?.find((each) => each.name === container);
  return {
    pod: ref,
    node,
    container,
    containerId: status?.containerID,
    restartCount: status?.restartCount ?? 0,
  };
}

function checkContainer(pod: V1Pod, container: string, field: string, where: string): void {
  const names = (pod.spec?.containers ?? []).map((each) => each.name);
  if (names.includes(container)) return;
  const has = names.length === 0 ? "none" : names.join(", ");
  throw usageError(field, `${where} has no container ${quoted(container)}; its containers: ${has}`);
}

function podRef(pod: V1Pod): ContainerKillTarget["pod"] {
  const { namespace = "", name = "", uid = "" } = pod.metadata ?? {};
  return { namespace, name, uid };
}

/** The node work of one kill, under the ledger record written for it. */
export function containerKillWork(
  target: ContainerKillTarget,
  record: {
    readonly ledgerId: string;
    readonly createdAt: number;
    readonly deadline: number;
    readonly actor: string;
  },
): NodeWorkSpec {
  return {
    kind: "container-kill",
    ledgerId: record.ledgerId,
    node: target.node,
    pod: target.pod,
    container: target.container,
    // An ID in a form the daemon would refuse is left out: the daemon then finds the container by name.
    ...(target.containerId !== undefined && containerIdPattern.test(target.containerId)
      ? { containerId: target.containerId }
      : {}),
    signal: "SIGKILL",
    createdAt: record.createdAt,
    deadline: record.deadline,
    actor: record.actor,
  };
}

import type { V1Pod } from "@kubernetes/client-node";
import { z } from "zod";
import { BroadsideError } from "../core/errors.js";
import {
  bandwidthSchema,
  delaySchema,
  deviceSchema,
  lossSchema,
  networkBackends,
  networkWorkSchema,
  partitionSchema,
} from "../core/node-work.js";
import type { NetworkWork, NodeWorkSpec, TimedNodeWorkKind } from "../core/node-work.js";

/*
 * The network faults (issue 12, ADR 0032; Chaos Mesh's NetworkChaos bandwidth and partition): applied in
 * each chosen pod's network namespace by the node daemon of the pod's node, held for a duration, and
 * reverted by it. This module plans: the parameters checked (naming the flag or field), every chosen pod
 * checked to be on a node, and the work worded. Nothing is written here.
 */

export type NetworkFaultKind = Exclude<TimedNodeWorkKind, "stress">;

/** One pod to fault, as read just before. */
export interface NetworkTarget {
  readonly pod: { readonly namespace: string; readonly name: string; readonly uid: string };
  readonly node: string;
  /** The pod's first container: the work names one, as container-kill's does. */
  readonly container: string;
  readonly podIp: string | undefined;
  /** The TCP ports its containers declare: what the proxy backend of delay and loss redirects (ADR 0039). */
  readonly ports: readonly number[];
}

export const bandwidthParamsSchema = z.strictObject({
  device: deviceSchema,
  bandwidth: bandwidthSchema,
});

export const partitionParamsSchema = z.strictObject({
  device: deviceSchema,
  partition: partitionSchema,
});

export const delayParamsSchema = z.strictObject({
  device: deviceSchema,
  delay: delaySchema,
  backend: z.enum(networkBackends),
});

export const lossParamsSchema = z.strictObject({
  device: deviceSchema,
  loss: lossSchema,
  backend: z.enum(networkBackends),
});

/**
 * delay and loss through the proxy need the pod's TCP ports: `--backend proxy` on a pod that declares
 * none is refused before anything is written (auto may still find netem on the node).
 */
export function refuseProxyWithoutPorts(network: NetworkWork, targets: readonly NetworkTarget[]): void {
  if (network.backend !== "proxy") return;
  const portless = targets.find((target) => target.ports.length === 0);
  if (portless !== undefined)
    throw new BroadsideError(
      "BRD_USAGE",
      `--backend proxy: pod ${portless.pod.namespace}/${portless.pod.name} declares no TCP containerPort, so the proxy has nothing to redirect; use --backend kernel on a node whose kernel has sch_netem`,
    );
}

/** Every chosen pod must be on a node (its daemon acts) and have a container; nothing written either way. */
export function planNetworkTargets(pods: readonly V1Pod[]): NetworkTarget[] {
  return pods.map(targetOf);
}

function targetOf(pod: V1Pod): NetworkTarget {
  const ref = podRef(pod);
  const where = `pod ${ref.namespace}/${ref.name}`;
  const node = pod.spec?.nodeName ?? "";
  if (node === "")
    throw new BroadsideError(
      "BRD_USAGE",
      `${where} is not on a node yet: no node daemon can reach its network`,
    );
  const container = pod.spec?.containers[0]?.name;
  if (container === undefined) throw new BroadsideError("BRD_USAGE", `${where} has no container`);
  const ports = (pod.spec?.containers ?? []).flatMap((each) =>
    (each.ports ?? []).flatMap((port) =>
      (port.protocol ?? "TCP") === "TCP" && port.containerPort > 0 ? [port.containerPort] : [],
    ),
  );
  return { pod: ref, node, container, podIp: pod.status?.podIP, ports: [...new Set(ports)].slice(0, 16) };
}

function podRef(pod: V1Pod): NetworkTarget["pod"] {
  const { namespace = "", name = "", uid = "" } = pod.metadata ?? {};
  return { namespace, name, uid };
}

/** The work of one network fault on one pod, under the ledger record written for it. */
export function networkWork(
  kind: NetworkFaultKind,
  target: NetworkTarget,
  network: NetworkWork,
  record: {
    readonly ledgerId: string;
    readonly createdAt: number;
    readonly deadline: number;
    readonly durationMs: number;
    readonly actor: string;
  },
): NodeWorkSpec {
  return {
    kind,
    ledgerId: record.ledgerId,
    node: target.node,
    pod: target.pod,
    container: target.container,
    network: networkWorkSchema.parse(
      (kind === "delay" || kind === "loss") && target.ports.length > 0
        ? { ...network, ports: target.ports }
        : network,
    ),
    durationMs: record.durationMs,
    createdAt: record.createdAt,
    deadline: record.deadline,
    actor: record.actor,
  };
}

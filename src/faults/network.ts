import type { V1Pod } from "@kubernetes/client-node";
import { z } from "zod";
import { BroadsideError } from "../core/errors.js";
import {
  bandwidthSchema,
  delaySchema,
  deviceSchema,
  ipv4CidrPattern,
  lossSchema,
  networkBackends,
  networkWorkSchema,
  partitionSchema,
} from "../core/node-work.js";
import type { NetworkWork, NodeWorkSpec, Peer, TimedNodeWorkKind } from "../core/node-work.js";

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
export function refuseProxyWithoutPorts(faults: readonly NetworkFault[]): void {
  for (const { target, network } of faults) {
    if (network.backend !== "proxy") continue;
    const external = network.peers?.find((peer) => peer.ports === undefined);
    if (external !== undefined)
      throw new BroadsideError(
        "BRD_USAGE",
        `--backend proxy: the proxy redirects a pod's connections to its targets' declared ports, and ${external.address} (an external target, or a target pod that declares no TCP containerPort) has none; use --backend kernel on a node whose kernel has sch_netem`,
      );
    if (network.peers === undefined && target.ports.length === 0) refusePortless(target);
  }
}

function refusePortless(portless: NetworkTarget): never {
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

/** Chaos Mesh's NetworkChaos direction of a filtered fault. */
export const networkDirections = ["to", "from", "both"] as const;
export type NetworkDirection = (typeof networkDirections)[number];

/** One fault to write: a pod and its work's parameters (filtered to peers, or not). */
export interface NetworkFault {
  readonly target: NetworkTarget;
  readonly network: NetworkWork;
}

/**
 * externalTargets (ADR 0041): IPv4 addresses and CIDRs, as nft and tc's u32 take them. A domain name is
 * refused, naming the field: Chaos Mesh resolves it on its controller, and an answer here (the writer's
 * resolver, not the pod's) could name other addresses than the pod would reach; IPv6 is refused (the
 * filters are IPv4's).
 */
export function externalPeers(values: readonly string[], field: string): Peer[] {
  return values.map((value, at) => {
    const where = `${field}[${String(at)}]`;
    if (ipv4CidrPattern.test(value)) return { address: value };
    if (value.includes(":"))
      throw new BroadsideError(
        "BRD_USAGE",
        `${where}: ${JSON.stringify(value)} is IPv6; filtered network faults take IPv4 addresses and CIDRs only`,
      );
    throw new BroadsideError(
      "BRD_USAGE",
      `${where}: ${JSON.stringify(value)} is not an IPv4 address or CIDR; domain names are not resolved (the writer's resolver may not give the addresses the pod reaches): give the addresses`,
    );
  });
}

/** A target pod as a peer: its IP and declared TCP ports; a pod without an IP yet is refused, named. */
function peerOf(target: NetworkTarget): Peer {
  if (target.podIp === undefined || !ipv4CidrPattern.test(target.podIp) || target.podIp.includes("/"))
    throw new BroadsideError(
      "BRD_USAGE",
      `target pod ${target.pod.namespace}/${target.pod.name} has no IPv4 address yet (status.podIP ${JSON.stringify(target.podIp ?? "")}): its traffic cannot be told apart`,
    );
  return { address: target.podIp, ...(target.ports.length === 0 ? {} : { ports: [...target.ports] }) };
}

/**
 * The faults of a filtered NetworkChaos (ADR 0041), as Chaos Mesh places them: `to` on each chosen pod,
 * filtered to the targets (and external addresses); `from` on each target, filtered to the chosen pods
 * (what a target sends to them); `both` both. A partition is the chosen pods' own (its direction picks
 * the chains), filtered to the targets and external addresses.
 */
export function filteredFaults(
  kind: NetworkFaultKind,
  network: NetworkWork,
  sources: readonly NetworkTarget[],
  targets: readonly NetworkTarget[],
  externals: readonly Peer[],
  direction: NetworkDirection,
): NetworkFault[] {
  const toPeers = [...targets.map(peerOf), ...externals];
  const on = (pods: readonly NetworkTarget[], peers: readonly Peer[]): NetworkFault[] =>
    peers.length === 0 ? [] : pods.map((target) => ({ target, network: { ...network, peers: [...peers] } }));
  if (kind === "partition" || direction === "to") return on(sources, toPeers);
  const fromFaults = on(targets, sources.map(peerOf));
  return direction === "from" ? fromFaults : [...on(sources, toPeers), ...fromFaults];
}

import type { V1Container, V1Pod } from "@kubernetes/client-node";
import type { SandboxName } from "../sandbox-name.js";
import { bodyCgroups } from "./cgroups.js";
import type { BodyCgroups, CgroupLayout, Limits } from "./cgroups.js";
import { containerLimits } from "./limits.js";
import { checkContainerName, hostVethName, netnsName } from "./names.js";
import type { ContainerName, PodUid } from "./names.js";
import { podAddressProblem } from "./network.js";
import type { PodNetwork } from "./network.js";
import type { PodRef } from "./status.js";

/** Everything a pod's body is made of, planned from the pod before anything is made. */
export interface BodySpec {
  readonly ref: PodRef;
  readonly uid: PodUid;
  readonly ip: string;
  readonly port: number;
  readonly container: ContainerName;
  readonly limits: Limits;
  readonly netns: string;
  readonly hostVeth: string;
  readonly cgroups: BodyCgroups;
}

export interface BodyContext {
  readonly sandbox: SandboxName;
  readonly network: PodNetwork;
  readonly cgroups: CgroupLayout;
}

/** The container port a body serves: the first container's first TCP containerPort, else 8080. */
export const defaultBodyPort = 8080;

export interface PlannedBody {
  readonly spec: BodySpec;
  /** Limits that did not read (left unlimited). */
  readonly problems: readonly string[];
}

/**
 * The body of a pod, or why it gets none: its IP must be one the sandbox's network can hold, and its
 * first container (the one the body stands for) must have a DNS-label name. Every name is built from
 * the checked uid and container name (names.ts).
 */
export function planBody(uid: PodUid, pod: V1Pod, context: BodyContext): PlannedBody | string {
  const ip = pod.status?.podIP;
  const addressProblem = podAddressProblem(ip, context.network);
  if (addressProblem !== undefined || ip === undefined) return addressProblem ?? "it has no pod IP";
  const first = pod.spec?.containers[0];
  const container = checkContainerName(first?.name);
  if (first === undefined || container === undefined) return "its first container's name is not a DNS label";
  const { limits, problems } = containerLimits(first);
  const spec: BodySpec = {
    ref: refOf(uid, pod),
    uid,
    ip,
    port: servedPort(first),
    container,
    limits,
    netns: netnsName(context.sandbox, uid),
    hostVeth: hostVethName(context.sandbox, uid),
    cgroups: bodyCgroups(context.cgroups, context.sandbox, uid, container),
  };
  return { spec, problems };
}

function refOf(uid: PodUid, pod: V1Pod): PodRef {
  return { namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "", uid };
}

function servedPort(container: V1Container): number {
  const tcp = container.ports?.find((port) => (port.protocol ?? "TCP") === "TCP");
  return tcp?.containerPort ?? defaultBodyPort;
}

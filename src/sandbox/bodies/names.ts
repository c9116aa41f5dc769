import { createHash } from "node:crypto";
import { BroadsideError } from "../../core/errors.js";
import type { SandboxName } from "../sandbox-name.js";

/*
 * The names of everything a pod body is made of: the sandbox's bridge, each pod's network namespace and
 * host-side veth, and its cgroup directories. Every name is built here from checked parts (the sandbox's
 * SandboxName, a pod uid that is a UUID, a container name that is a DNS label) and checked again against
 * the pattern it must match before it reaches `ip` or the file system: a name from the cluster never
 * becomes an interface name or a path unchecked.
 */

/** Linux keeps interface names to 15 characters (IFNAMSIZ 16 with the terminating NUL). */
export const interfaceNameLimit = 15;

const uidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const containerPattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Ours: "bs", six hex of the sandbox, then "br" (bridge) or seven hex of the pod (veth). */
const interfacePattern = /^bs[0-9a-f]{6}(?:br|[0-9a-f]{7})$/;
const netnsPattern = /^bs-[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?-[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$/;

/** Six hex characters of the sandbox name's SHA-256: short enough for interface names, one per sandbox. */
export function sandboxTag(sandbox: SandboxName): string {
  return createHash("sha256").update(sandbox).digest("hex").slice(0, 6);
}

/** The sandbox's bridge, e.g. "bs1a2b3cbr" (10 characters). */
export function bridgeName(sandbox: SandboxName): string {
  return checkedInterface(`bs${sandboxTag(sandbox)}br`);
}

/** A pod's host-side veth, e.g. "bs1a2b3c9f8e7d6" (15 characters); its peer is eth0 in the pod's namespace. */
export function hostVethName(sandbox: SandboxName, uid: PodUid): string {
  const pod = createHash("sha256").update(uid).digest("hex").slice(0, 7);
  return checkedInterface(`bs${sandboxTag(sandbox)}${pod}`);
}

/** A pod's network namespace (/run/netns/NAME), readable: "bs-<sandbox>-<pod uid>". */
export function netnsName(sandbox: SandboxName, uid: PodUid): string {
  return checkedNetns(`bs-${sandbox}-${uid}`);
}

/**
 * The sandbox's own cgroup below a hierarchy's root, "broadside-<sandbox>", and a body's leaf below it,
 * "pod<uid>/<container>": the kubelet's cgroupfs layout (pod<uid>/<container>), so a daemon that finds a
 * container's cgroup on a real node finds it here the same way.
 */
export function sandboxCgroup(sandbox: SandboxName): string {
  return `broadside-${sandbox}`;
}

export function podCgroup(sandbox: SandboxName, uid: PodUid): string {
  return `${sandboxCgroup(sandbox)}/pod${uid}`;
}

export function containerCgroup(sandbox: SandboxName, uid: PodUid, container: ContainerName): string {
  return `${podCgroup(sandbox, uid)}/${container}`;
}

declare const podUidBrand: unique symbol;
declare const containerNameBrand: unique symbol;
/** A pod's metadata.uid, checked to be a lowercase UUID. */
export type PodUid = string & { readonly [podUidBrand]: true };
/** A container's name, checked to be a DNS label (1-63 lowercase letters, digits, '-'). */
export type ContainerName = string & { readonly [containerNameBrand]: true };

/** The uid, or undefined when it is not a UUID (such a pod gets no body). */
export function checkPodUid(text: string | undefined): PodUid | undefined {
  return text !== undefined && uidPattern.test(text) ? (text as PodUid) : undefined;
}

export function checkContainerName(text: string | undefined): ContainerName | undefined {
  return text !== undefined && containerPattern.test(text) ? (text as ContainerName) : undefined;
}

/** Whether `name` is an interface name this module makes (for records read back from disk). */
export function isOwnInterfaceName(name: string, sandbox: SandboxName): boolean {
  return interfacePattern.test(name) && name.startsWith(`bs${sandboxTag(sandbox)}`);
}

/** Whether `name` is a network namespace name this module makes for this sandbox. */
export function isOwnNetnsName(name: string, sandbox: SandboxName): boolean {
  return netnsPattern.test(name) && name.startsWith(`bs-${sandbox}-`) && name.length === sandbox.length + 40;
}

function checkedInterface(name: string): string {
  if (name.length > interfaceNameLimit || !interfacePattern.test(name))
    throw new BroadsideError("BRD_INTERNAL", `${JSON.stringify(name)} is not a valid interface name`);
  return name;
}

function checkedNetns(name: string): string {
  if (!netnsPattern.test(name))
    throw new BroadsideError("BRD_INTERNAL", `${JSON.stringify(name)} is not a valid network namespace name`);
  return name;
}

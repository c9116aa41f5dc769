import { isIPv4 } from "node:net";
import { BroadsideError } from "../../core/errors.js";
import type { SandboxName } from "../sandbox-name.js";
import { bridgeName } from "./names.js";

/*
 * The pods' network, planned as argv arrays for iproute2 (`ip`), never as shell strings. One bridge per
 * sandbox in the host's namespace holds the gateway address (the last usable address of the pod CIDR:
 * kwok hands pod IPs out from the first one up); each serving pod gets a network namespace whose eth0
 * (one end of a veth pair, the other end enslaved to the bridge) holds the IP kwok assigned. The pods
 * get no default route: they reach the bridge's subnet and nothing beyond it.
 */

export type Argv = readonly string[];

/** The sandbox's pod network, as recorded in its state. */
export interface PodNetwork {
  /** kwok's --cidr, e.g. "10.244.0.0/16". */
  readonly cidr: string;
  /** The bridge's address: the last usable address of the CIDR. */
  readonly gateway: string;
  readonly bridge: string;
}

/** One pod's share of the network. */
export interface BodyNetwork {
  readonly netns: string;
  readonly hostVeth: string;
  readonly ip: string;
}

/** Where the sandbox looks for a free /16 for its pods: kwok's default first. */
export const podCidrCandidates: readonly string[] = Array.from(
  { length: 12 },
  (_, i) => `10.${244 + i}.0.0/16`,
);

interface Cidr {
  readonly base: number;
  readonly prefix: number;
}

export function parseCidr(text: string): Cidr {
  const [address = "", prefixText = ""] = text.split("/");
  const prefix = /^\d{1,2}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!isIPv4(address) || !(prefix >= 8 && prefix <= 30))
    throw new BroadsideError("BRD_INTERNAL", `${JSON.stringify(text)} is not an IPv4 CIDR from /8 to /30`);
  const mask = prefixMask(prefix);
  return { base: (ipNumber(address) & mask) >>> 0, prefix };
}

export function ipNumber(ip: string): number {
  return ip.split(".").reduce((value, part) => value * 256 + Number(part), 0);
}

export function ipText(value: number): string {
  return [24, 16, 8, 0].map((shift) => String((value >>> shift) & 255)).join(".");
}

function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}

function size(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function ipInCidr(ip: string, cidrText: string): boolean {
  if (!isIPv4(ip)) return false;
  const cidr = parseCidr(cidrText);
  return (ipNumber(ip) & prefixMask(cidr.prefix)) >>> 0 === cidr.base;
}

/** The sandbox's network over `cidr`: its bridge, and the CIDR's last usable address as the gateway. */
export function podNetwork(sandbox: SandboxName, cidrText: string): PodNetwork {
  const cidr = parseCidr(cidrText);
  return { cidr: cidrText, gateway: ipText(cidr.base + size(cidr) - 2), bridge: bridgeName(sandbox) };
}

/**
 * Why a pod's IP cannot be given a body, or undefined when it can: it must be an IPv4 address inside the
 * sandbox's pod CIDR, and neither the network, broadcast nor gateway address.
 */
export function podAddressProblem(ip: string | undefined, network: PodNetwork): string | undefined {
  if (ip === undefined || ip === "") return "it has no pod IP yet";
  if (!isIPv4(ip)) return `its pod IP ${JSON.stringify(ip)} is not an IPv4 address`;
  if (!ipInCidr(ip, network.cidr))
    return `its pod IP ${ip} is outside the sandbox's pod CIDR ${network.cidr}`;
  const cidr = parseCidr(network.cidr);
  const value = ipNumber(ip);
  if (value === cidr.base || value === cidr.base + size(cidr) - 1 || ip === network.gateway)
    return `its pod IP ${ip} is the pod network's own address`;
  return undefined;
}

/** Makes the bridge, gives it the gateway address (the connected route to the pod CIDR comes with it), brings it up. */
export function bridgeUpPlan(network: PodNetwork): Argv[] {
  const { prefix } = parseCidr(network.cidr);
  return [
    ["ip", "link", "add", network.bridge, "type", "bridge"],
    ["ip", "addr", "add", `${network.gateway}/${prefix}`, "dev", network.bridge],
    ["ip", "link", "set", network.bridge, "up"],
  ];
}

/** Deleting the bridge takes its address and route with it. */
export function bridgeDownPlan(bridge: string): Argv[] {
  return [["ip", "link", "del", bridge]];
}

/** A pod's namespace, its veth pair (eth0 inside, the host end on the bridge), its address, lo and eth0 up. */
export function bodyNetworkPlan(network: PodNetwork, body: BodyNetwork): Argv[] {
  const { prefix } = parseCidr(network.cidr);
  const { netns, hostVeth, ip } = body;
  return [
    ["ip", "netns", "add", netns],
    ["ip", "link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", netns],
    ["ip", "link", "set", hostVeth, "master", network.bridge],
    ["ip", "link", "set", hostVeth, "up"],
    ["ip", "-n", netns, "addr", "add", `${ip}/${prefix}`, "dev", "eth0"],
    ["ip", "-n", netns, "link", "set", "lo", "up"],
    ["ip", "-n", netns, "link", "set", "eth0", "up"],
  ];
}

/**
 * Deleting the namespace destroys eth0 and so its veth peer, but the kernel does that asynchronously:
 * the host end is deleted explicitly too. Each step may find its object already gone (that is fine).
 */
export function bodyNetworkTeardown(body: Pick<BodyNetwork, "netns" | "hostVeth">): Argv[] {
  return [
    ["ip", "netns", "del", body.netns],
    ["ip", "link", "del", body.hostVeth],
  ];
}

/** The argv of the program that lists the host's IPv4 routes as JSON, for choosePodCidr. */
export const listRoutesArgv: Argv = ["ip", "-j", "-4", "route", "show", "table", "all"];

/**
 * The first candidate /16 that no route of the host overlaps (the default route aside): the pod
 * network of a sandbox with bodies is routed to its bridge, so two sandboxes side by side must not
 * share one. `routes` are the `dst` fields of `ip -j route` ("default", "10.0.0.0/8", "192.0.2.7").
 */
export function choosePodCidr(routes: readonly string[]): string | undefined {
  const taken = routes.filter((dst) => dst !== "default").map(routeCidr);
  return podCidrCandidates.find((candidate) => {
    const mine = parseCidr(candidate);
    return !taken.some((route) => route !== undefined && overlaps(mine, route));
  });
}

function routeCidr(dst: string): Cidr | undefined {
  const [address = "", prefixText] = dst.split("/");
  if (!isIPv4(address)) return undefined;
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  return { base: (ipNumber(address) & prefixMask(prefix)) >>> 0, prefix };
}

function overlaps(a: Cidr, b: Cidr): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  const mask = prefixMask(prefix);
  return (a.base & mask) >>> 0 === (b.base & mask) >>> 0;
}

import { createHash } from "node:crypto";
import { z } from "zod";
import { dnsSubdomainPattern } from "./names.js";
import { nodeWorkKinds } from "./node-work-kinds.js";
import type { NodeWorkKind } from "./node-work-kinds.js";
import { containerNameSchema, namespaceNameSchema, objectNameSchema } from "./schemas.js";

/*
 * Node work (ADR 0029): what a node's daemon is asked to do, one object per fault on one target, in
 * Broadside's namespace. Whoever fires a node fault (the CLI, `broadside run`, later the agent) writes the
 * ledger record first, then the work object labelled with the target's node; the daemon of that node
 * (and no other) watches for it, journals it on its disk, acts, and writes the outcome back as the
 * object's status. This module is the object's shape and its checks: pure, shared by both sides, so what
 * the writer sends and what the daemon accepts cannot drift apart.
 */

/** Labels every work object carries: the node's is what a daemon selects its own work by. */
export const nodeWorkLabel = "broadside.dev/node-work";
export const nodeWorkNodeLabel = "broadside.dev/node";
/** The value of nodeWorkLabel: the version of the work format. */
export const nodeWorkVersion = "v1";

export { isTimedKind, nodeWorkKinds, nodeWorkName, timedNodeWorkKinds } from "./node-work-kinds.js";
export type { NodeWorkKind, TimedNodeWorkKind } from "./node-work-kinds.js";

const recordIdPattern = /^[0-9]{8}t[0-9]{6}-[0-9a-f]{6}$/;
const uidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** containerStatuses[].containerID: "<runtime>://<hex id>", e.g. "containerd://4f1c...". */
export const containerIdPattern = /^[a-z0-9-]{1,32}:\/\/[0-9a-f]{12,128}$/;

const epochMs = z.number().int().nonnegative();

/**
 * A tc rate as Chaos Mesh and tc spell it: a number and a unit; a bare number is bit/s, `kbit` 1000
 * bit/s, and `bps`, `kbps`, `mbps`... are bytes per second (iproute2's units, case-insensitive).
 */
export const tcRatePattern =
  /^[0-9]{1,12}(\.[0-9]{1,6})?(bit|kbit|mbit|gbit|tbit|bps|kbps|mbps|gbps|tbps)?$/i;

/** The rate in bit/s, for checks and reports; undefined when it is not a tc rate. */
export function rateBitsPerSecond(rate: string): number | undefined {
  const match = tcRatePattern.exec(rate);
  if (match === null) return undefined;
  const unit = (match[2] ?? "bit").toLowerCase();
  const scale: Record<string, number> = {
    bit: 1,
    kbit: 1e3,
    mbit: 1e6,
    gbit: 1e9,
    tbit: 1e12,
    bps: 8,
    kbps: 8e3,
    mbps: 8e6,
    gbps: 8e9,
    tbps: 8e12,
  };
  return Number.parseFloat(rate) * (scale[unit] ?? 1);
}

const uint32 = z.number().int().min(1).max(4_294_967_295);

/** Chaos Mesh's NetworkChaos bandwidth: tc tbf's rate, limit (bytes queued) and buffer (burst, bytes). */
export const bandwidthSchema = z.strictObject({
  rate: z
    .string()
    .regex(tcRatePattern, { error: "must be a tc rate such as 1mbit, 500kbit or 125kbps" })
    .refine((rate) => (rateBitsPerSecond(rate) ?? 0) >= 8, { error: "must be at least 8 bit/s" }),
  limit: uint32,
  buffer: uint32,
  peakrate: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  minburst: uint32.optional(),
});
export type BandwidthParams = z.infer<typeof bandwidthSchema>;

/** Chaos Mesh's directions: to (the pod's outgoing traffic), from (its incoming), both. */
export const partitionDirections = ["to", "from", "both"] as const;
export const partitionSchema = z.strictObject({ direction: z.enum(partitionDirections) });
export type PartitionParams = z.infer<typeof partitionSchema>;

/** A network interface inside the pod (IFNAMSIZ: 15 characters). */
export const deviceSchema = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/, { error: "must be an interface name such as eth0" });

/** A percentage as Chaos Mesh writes loss and correlation: 0 to 100. */
const percentSchema = z.number().min(0).max(100);

/** Chaos Mesh's NetworkChaos delay: latency, jitter (ms) and the correlation of successive delays (%). */
export const delaySchema = z.strictObject({
  latencyMs: z
    .number()
    .int()
    .min(1)
    .max(60 * 60_000),
  jitterMs: z
    .number()
    .int()
    .min(0)
    .max(60 * 60_000),
  correlation: percentSchema,
});
export type DelayParams = z.infer<typeof delaySchema>;

/** Chaos Mesh's NetworkChaos loss: the share lost (%) and the correlation of successive losses (%). */
export const lossSchema = z.strictObject({
  percent: percentSchema.refine((percent) => percent > 0, { error: "must be more than 0" }),
  correlation: percentSchema,
});
export type LossParams = z.infer<typeof lossSchema>;

/** Chaos Mesh's NetworkChaos duplicate and corrupt: the share (%) and its correlation (%); netem only. */
export const duplicateSchema = lossSchema;
export const corruptSchema = lossSchema;

/**
 * How delay and loss are made (ADR 0039): `kernel` is tc netem on the device; `proxy` is Broadside's TCP
 * proxy in the pod's namespace with an nftables redirect of the pod's ports; `auto` lets the node's daemon
 * pick kernel where its kernel has sch_netem and the proxy otherwise.
 */
export const networkBackends = ["auto", "kernel", "proxy"] as const;
export type NetworkBackend = (typeof networkBackends)[number];

const tcpPortSchema = z.number().int().min(1).max(65_535);

/** An IPv4 address, or a CIDR block of them, as nftables and tc's u32 take it. */
export const ipv4CidrPattern =
  /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}(\/([0-9]|[12][0-9]|3[0-2]))?$/;

/**
 * A peer of a filtered fault (NetworkChaos `target` and `externalTargets`): an address the writer resolved
 * (a target pod's IP, an external IPv4 address or CIDR) and, for a pod, the TCP ports it declares (the
 * proxy backend redirects the pod's connections to those ports; ADR 0041).
 */
export const peerSchema = z.strictObject({
  address: z.string().regex(ipv4CidrPattern, { error: "must be an IPv4 address or CIDR" }),
  ports: z.array(tcpPortSchema).max(16).optional(),
});
export type Peer = z.infer<typeof peerSchema>;

export const networkWorkSchema = z.strictObject({
  device: deviceSchema,
  bandwidth: bandwidthSchema.optional(),
  partition: partitionSchema.optional(),
  delay: delaySchema.optional(),
  loss: lossSchema.optional(),
  duplicate: duplicateSchema.optional(),
  corrupt: corruptSchema.optional(),
  /** delay and loss: the backend asked for (default auto); duplicate and corrupt: kernel or auto only. */
  backend: z.enum(networkBackends).optional(),
  /** delay and loss through the proxy: the pod's TCP ports whose incoming connections are redirected. */
  ports: z.array(tcpPortSchema).min(1).max(16).optional(),
  /**
   * Filtered rules (ADR 0041): only the pod's traffic with these peers is faulted (delay, loss, bandwidth:
   * what the pod sends to them; partition: its direction's chains, to them and from them). Absent: all of
   * the pod's traffic on the device.
   */
  peers: z.array(peerSchema).min(1).max(256).optional(),
});
export type NetworkWork = z.infer<typeof networkWorkSchema>;

/**
 * StressChaos's memory stressor (ADR 0040): `bytes`, or `percent` of the container's memory limit (the
 * daemon reads the limit from the cgroup), shared out between `workers` that each touch every page of
 * their share and hold it.
 */
export const memoryStressSchema = z
  .strictObject({
    bytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    percent: z.number().min(0).max(100).optional(),
    workers: z.number().int().min(1).max(64),
    /** The writer's --unsafe: a container without a memory limit may be stressed all the same. */
    unlimitedAllowed: z.boolean().optional(),
  })
  .refine((memory) => (memory.bytes === undefined) !== (memory.percent === undefined), {
    error: "needs bytes or percent, not both",
  });
export type MemoryStress = z.infer<typeof memoryStressSchema>;

/** StressChaos's CPU stressor: `workers` busy loops, each busy `load`% of the time. */
export const cpuStressSchema = z.strictObject({
  workers: z.number().int().min(1).max(64),
  load: percentSchema,
});
export type CpuStress = z.infer<typeof cpuStressSchema>;

export const stressWorkSchema = z
  .strictObject({ memory: memoryStressSchema.optional(), cpu: cpuStressSchema.optional() })
  .refine((stress) => stress.memory !== undefined || stress.cpu !== undefined, {
    error: "needs a memory or a cpu stressor",
  });
export type StressWork = z.infer<typeof stressWorkSchema>;

export const nodeWorkSpecSchema = z
  .strictObject({
    kind: z.enum(nodeWorkKinds),
    /** The ledger record written before this object: the fault's audit trail. */
    ledgerId: z.string().regex(recordIdPattern, { error: "is not a ledger record id" }),
    node: objectNameSchema,
    pod: z.strictObject({
      namespace: namespaceNameSchema,
      name: objectNameSchema,
      uid: z.string().regex(uidPattern, { error: "is not a pod uid" }),
    }),
    container: containerNameSchema,
    /** From the pod's status when the work was written; the CRI finder looks the process up by it. */
    containerId: z.string().regex(containerIdPattern, { error: "is not a container ID" }).optional(),
    /** container-kill's signal. */
    signal: z.literal("SIGKILL").optional(),
    /** The network faults' parameters. */
    network: networkWorkSchema.optional(),
    /** stress's stressors (ADR 0040). */
    stress: stressWorkSchema.optional(),
    /** Timed kinds: how long the fault holds once applied; the daemon reverts it then by itself. */
    durationMs: z
      .number()
      .int()
      .positive()
      .max(7 * 86_400_000)
      .optional(),
    createdAt: epochMs,
    /** Work not started by then is abandoned: its writer has stopped waiting for it. */
    deadline: epochMs,
    /** Who asked, for the daemon's log. */
    actor: z.string().max(256),
  })
  .superRefine((spec, context) => {
    const problem = kindProblem(spec);
    if (problem !== undefined)
      context.addIssue({ code: "custom", path: [problem.path], message: problem.message });
  });
export type NodeWorkSpec = z.infer<typeof nodeWorkSpecSchema>;

/** What each kind needs beyond the common fields. */
function kindProblem(spec: {
  readonly kind: NodeWorkKind;
  readonly signal?: string | undefined;
  readonly network?: NetworkWork | undefined;
  readonly stress?: StressWork | undefined;
  readonly durationMs?: number | undefined;
}): { path: string; message: string } | undefined {
  if (spec.kind === "container-kill")
    return spec.signal === undefined
      ? { path: "signal", message: "is required for container-kill" }
      : undefined;
  if (spec.durationMs === undefined) return { path: "durationMs", message: `is required for ${spec.kind}` };
  if (spec.kind === "stress")
    return spec.stress === undefined ? { path: "stress", message: "is required for stress" } : undefined;
  return networkProblem(spec.kind, spec.network);
}

/** A network kind's parameters: its own section, and for the proxy backend some port to redirect. */
function networkProblem(
  kind: Exclude<NodeWorkKind, "container-kill" | "stress">,
  network: NetworkWork | undefined,
): { path: string; message: string } | undefined {
  if (network?.[kind] === undefined) return { path: "network", message: `needs its ${kind} parameters` };
  const peerPorts = (network.peers ?? []).some((peer) => (peer.ports ?? []).length > 0);
  if (network.backend === "proxy" && network.ports === undefined && !peerPorts)
    return { path: "network", message: "the proxy backend needs the pod's TCP ports or its targets'" };
  return undefined;
}

/** Why the proxy backend cannot stand in for netem's duplicate and corrupt (ADR 0039). */
export function noProxyFor(kind: "duplicate" | "corrupt"): string {
  return `the proxy backend cannot ${kind} packets (a TCP proxy sees a stream, not packets)`;
}

/**
 * What a node's daemon publishes about its node at start, so a writer can refuse before any write what the
 * node cannot do (duplicate and corrupt need sch_netem): whether its kernel has netem, and tc's words.
 */
export const nodeCapabilitiesSchema = z.strictObject({
  node: z.string(),
  netem: z.boolean().optional(),
  words: z.string().max(512),
  at: epochMs,
});
export type NodeCapabilities = z.infer<typeof nodeCapabilitiesSchema>;

/**
 * Done: a one-shot action was taken. Applied: a timed fault holds (it will be Reverted). Reverted: a timed
 * fault was taken away again (status.message says why: its end, a revert request, halt, a lost record).
 */
export const nodeWorkPhases = ["Done", "Applied", "Reverted", "Failed", "Refused", "Abandoned"] as const;
export type NodeWorkPhase = (typeof nodeWorkPhases)[number];

export const nodeWorkStatusSchema = z.strictObject({
  /**
   * Done: the action was taken. Failed: it was tried and did not happen (no such process...). Refused:
   * it was not tried (halted, a protected namespace, another node's work). Abandoned: too late (past its
   * deadline, or found half done after a daemon restart, past its deadline).
   */
  phase: z.enum(nodeWorkPhases),
  message: z.string().max(2048),
  /** Epoch ms on the node's clock when the action was taken (the kill's signal, the fault applied). */
  actedAt: epochMs.optional(),
  /** Timed kinds: when the daemon will revert the fault by itself (node's clock). */
  endsAt: epochMs.optional(),
  /** Timed kinds: when it was reverted (node's clock), for Reverted. */
  revertedAt: epochMs.optional(),
  /** The process acted on, for Done. */
  pid: z.number().int().positive().optional(),
  /** Epoch ms on the node's clock when the status was written. */
  at: epochMs,
  daemon: z.strictObject({ node: z.string(), host: z.string(), pid: z.number().int() }),
});
export type NodeWorkStatus = z.infer<typeof nodeWorkStatusSchema>;

/** A writer's (or a recovering process's) request that a timed fault be reverted now. */
export const revertRequestSchema = z.strictObject({
  at: epochMs,
  by: z.string().max(256),
  reason: z.string().max(512),
});
export type RevertRequest = z.infer<typeof revertRequestSchema>;

/** A work object as both sides see it: its name, its spec, its status once answered. */
export interface NodeWork {
  readonly name: string;
  readonly spec: NodeWorkSpec;
  readonly status?: NodeWorkStatus | undefined;
  /** Timed kinds: set once someone asked for the fault to be reverted now. */
  readonly revert?: RevertRequest | undefined;
  /** Opaque, from the store: a status write succeeds only against the version read. */
  readonly version: string;
}

/**
 * The node label's value: the node's name when it is a valid label value (63 characters at most), else
 * "sha-" and 56 hex of its SHA-256, so a daemon of a long-named node finds its work all the same.
 */
export function nodeLabelValue(node: string): string {
  if (node.length <= 63 && dnsSubdomainPattern.test(node)) return node;
  return `sha-${createHash("sha256").update(node).digest("hex").slice(0, 56)}`;
}

/** The label selector a daemon watches its node's work with. */
export function nodeWorkSelector(node: string): string {
  return `${nodeWorkLabel}=${nodeWorkVersion},${nodeWorkNodeLabel}=${nodeLabelValue(node)}`;
}

/** Why the spec must not be acted on by `node`'s daemon at `now`, or undefined when it may. */
export function workRefusal(
  spec: NodeWorkSpec,
  context: { readonly node: string; readonly protectedNamespaces: readonly string[]; readonly now: number },
): { readonly phase: "Refused" | "Abandoned"; readonly message: string } | undefined {
  if (spec.node !== context.node)
    return { phase: "Refused", message: `the work is for node ${spec.node}, not ${context.node}` };
  if (context.protectedNamespaces.includes(spec.pod.namespace))
    return { phase: "Refused", message: `namespace ${spec.pod.namespace} is protected` };
  if (spec.deadline <= context.now)
    return { phase: "Abandoned", message: "its deadline passed before the daemon could act" };
  return undefined;
}

/** Parses a work spec read back from the cluster, naming the first bad field. */
export function parseNodeWorkSpec(value: unknown): NodeWorkSpec | { readonly problem: string } {
  const parsed = nodeWorkSpecSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.join(".") ?? "";
  return { problem: `${path === "" ? "the work" : path}: ${issue?.message ?? "is not valid"}` };
}

export function parseNodeWorkStatus(value: unknown): NodeWorkStatus | undefined {
  const parsed = nodeWorkStatusSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export function parseRevertRequest(value: unknown): RevertRequest | undefined {
  const parsed = revertRequestSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** Whether a timed fault holds, as its work object says: applied, and not yet reverted. */
export function isHeld(work: Pick<NodeWork, "status">): boolean {
  return work.status?.phase === "Applied";
}

/**
 * Whether a timed fault's first answer says it was applied: Applied, or Reverted with the time it acted.
 * The second happens when the daemon died after applying (journaled) but before its Applied answer
 * reached the API server, and its restart reverted the fault: the fault held, only the answer was lost.
 */
export function answerSaysApplied(status: NodeWorkStatus): boolean {
  return status.phase === "Applied" || (status.phase === "Reverted" && status.actedAt !== undefined);
}

/** A container ID's bare hex part, for the CRI: "containerd://4f1c..." -> "4f1c...". */
export function bareContainerId(containerId: string): string | undefined {
  const at = containerId.indexOf("://");
  const bare = at < 0 ? containerId : containerId.slice(at + 3);
  return /^[0-9a-f]{12,128}$/.test(bare) ? bare : undefined;
}

/**
 * Where work objects live and how they are answered: a ConfigMap per work object in Broadside's
 * namespace in production (kube/node-work-store.ts), memory in unit tests (MemoryNodeWork).
 */
export interface NodeWorkStore {
  create(spec: NodeWorkSpec): Promise<NodeWork>;
  read(name: string): Promise<NodeWork | undefined>;
  /** Writes the status, conditional on `work.version`; a ConflictError when the object changed or is gone. */
  answer(work: NodeWork, status: NodeWorkStatus): Promise<NodeWork>;
  /** Deletes an unanswered object (conditional on its version): a writer that stopped waiting withdraws it. */
  withdraw(work: NodeWork): Promise<void>;
  /** Asks the daemon to revert a timed fault now (conditional on `work.version`; ConflictError otherwise). */
  requestRevert(work: NodeWork, request: RevertRequest): Promise<NodeWork>;
  /** Deletes a finished work object (any version); a missing one is fine. */
  remove(name: string): Promise<void>;
  /** What `node`'s daemon published about its node, or undefined (none published, or not readable). */
  capabilities?(node: string): Promise<NodeCapabilities | undefined>;
  /** A daemon's publication of its node's capabilities (created, or replaced). */
  publishCapabilities?(capabilities: NodeCapabilities): Promise<void>;
}

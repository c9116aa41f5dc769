import { createHash } from "node:crypto";
import { z } from "zod";
import { dnsSubdomainPattern } from "./names.js";
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

/** The work kinds a daemon knows; container-kill is the first (network and stress faults come next). */
export const nodeWorkKinds = ["container-kill"] as const;
export type NodeWorkKind = (typeof nodeWorkKinds)[number];

const recordIdPattern = /^[0-9]{8}t[0-9]{6}-[0-9a-f]{6}$/;
const uidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** containerStatuses[].containerID: "<runtime>://<hex id>", e.g. "containerd://4f1c...". */
export const containerIdPattern = /^[a-z0-9-]{1,32}:\/\/[0-9a-f]{12,128}$/;

const epochMs = z.number().int().nonnegative();

export const nodeWorkSpecSchema = z.strictObject({
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
  signal: z.literal("SIGKILL"),
  createdAt: epochMs,
  /** Work not started by then is abandoned: its writer has stopped waiting for it. */
  deadline: epochMs,
  /** Who asked, for the daemon's log. */
  actor: z.string().max(256),
});
export type NodeWorkSpec = z.infer<typeof nodeWorkSpecSchema>;

export const nodeWorkPhases = ["Done", "Failed", "Refused", "Abandoned"] as const;
export type NodeWorkPhase = (typeof nodeWorkPhases)[number];

export const nodeWorkStatusSchema = z.strictObject({
  /**
   * Done: the action was taken. Failed: it was tried and did not happen (no such process...). Refused:
   * it was not tried (halted, a protected namespace, another node's work). Abandoned: too late (past its
   * deadline, or found half done after a daemon restart, past its deadline).
   */
  phase: z.enum(nodeWorkPhases),
  message: z.string().max(2048),
  /** Epoch ms on the node's clock when the action was taken (the kill's signal), for Done. */
  actedAt: epochMs.optional(),
  /** The process acted on, for Done. */
  pid: z.number().int().positive().optional(),
  /** Epoch ms on the node's clock when the status was written. */
  at: epochMs,
  daemon: z.strictObject({ node: z.string(), host: z.string(), pid: z.number().int() }),
});
export type NodeWorkStatus = z.infer<typeof nodeWorkStatusSchema>;

/** A work object as both sides see it: its name, its spec, its status once answered. */
export interface NodeWork {
  readonly name: string;
  readonly spec: NodeWorkSpec;
  readonly status?: NodeWorkStatus | undefined;
  /** Opaque, from the store: a status write succeeds only against the version read. */
  readonly version: string;
}

/** The work object of a ledger record (one record, one target, one work object). */
export function nodeWorkName(ledgerId: string): string {
  return `nodework-${ledgerId}`;
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
}

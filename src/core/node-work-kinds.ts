/*
 * The node work kinds (ADR 0029, ADR 0032), apart from node-work.ts's schemas so that code on a pod
 * verb's path (the record access every verb builds) can tell a timed node fault without loading zod.
 */

/**
 * The work kinds a daemon knows. container-kill is one-shot; the network kinds are timed (ADR 0032): the
 * daemon applies them, holds them, and reverts them at their end, on a revert request, on halt, and after
 * its own crash.
 */
export const timedNodeWorkKinds = [
  "bandwidth",
  "partition",
  "delay",
  "loss",
  "duplicate",
  "corrupt",
  "stress",
] as const;
export const nodeWorkKinds = ["container-kill", ...timedNodeWorkKinds] as const;
export type NodeWorkKind = (typeof nodeWorkKinds)[number];
export type TimedNodeWorkKind = (typeof timedNodeWorkKinds)[number];

export function isTimedKind(kind: string): kind is TimedNodeWorkKind {
  return (timedNodeWorkKinds as readonly string[]).includes(kind);
}

/** The work object of a ledger record (one record, one target, one work object). */
export function nodeWorkName(ledgerId: string): string {
  return `nodework-${ledgerId}`;
}

import type { OpenRecord, Outcome, OutcomeKind, VolleyPod } from "./record.js";

/**
 * Volley records (ADR 0016): a pod fault that shoots many pods writes one ledger record per volley of up
 * to `volleySize` pods of one namespace, listing them all before the first is shot, and closes it once
 * every shot is answered, with each pod's outcome. The safety rule holds (every mutation is in the ledger
 * before it is made) at two writes per volley instead of two per pod.
 */

/**
 * Pods per volley: one second of requests at the client's default 50 QPS. The record's two writes add 4%
 * to the DELETEs (the fan-out goal allows 10%); a crash leaves at most this many pods in one pending
 * record; the record stays far below a ConfigMap's 1 MiB (a pod is under 400 bytes of JSON, outcome
 * included).
 */
export const volleySize = 50;

/**
 * The record one pod of a volley would have had on its own: same fault, path and deadline, the pod as its
 * target. Recovery reads and decides on each pod through it, as it does for a record of one pod.
 */
export function memberRecord(record: OpenRecord, pod: VolleyPod): OpenRecord {
  const single: OpenRecord = { ...record, target: { ...record.target, name: pod.name, uid: pod.uid } };
  delete (single as { volley?: unknown }).volley;
  return { ...single, original: pod.uid };
}

/**
 * What closes a volley, from its pods' outcomes: "never-applied" when no pod was shot, else "target-gone"
 * (the volley happened: at least one pod is gone), with the count of each outcome in the detail:
 * "pod-kill volley: 50 pods, 48 target-gone, 2 never-applied".
 */
export function volleyOutcome(pods: readonly VolleyPod[], at: number, what: string): Outcome {
  const counts = new Map<OutcomeKind | "open", number>();
  for (const pod of pods) {
    const kind = pod.outcome?.kind ?? "open";
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const tally = [...counts].map(([kind, count]) => `${count} ${kind}`).join(", ");
  const detail = `${what}: ${pods.length} pods, ${tally}`;
  const none = counts.get("never-applied") === pods.length;
  return { kind: none ? "never-applied" : "target-gone", at, detail };
}

/** Splits the pods into volleys: per namespace, in the order given, at most `size` each. */
export function volleysOf<T extends { readonly namespace: string }>(
  pods: readonly T[],
  size = volleySize,
): T[][] {
  const byNamespace = new Map<string, T[]>();
  for (const pod of pods) {
    const group = byNamespace.get(pod.namespace);
    if (group === undefined) byNamespace.set(pod.namespace, [pod]);
    else group.push(pod);
  }
  const volleys: T[][] = [];
  for (const group of byNamespace.values()) {
    for (let start = 0; start < group.length; start += size) volleys.push(group.slice(start, start + size));
  }
  return volleys;
}

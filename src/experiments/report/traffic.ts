import { z } from "zod";
import type { FaultFacts } from "./fault-facts.js";
import { isWithin, type Sample } from "./samples.js";
import { count, epochMs, ms, name } from "./schema-fields.js";

/**
 * What users felt of a pod-failure or a container-kill through each probe (issue 15: "the time until traffic returned"):
 * from the fault's first change until the next fault starts (or the run ends), the failed samples, and
 * the time from that first change to the first success after the last of them. Derived from the samples
 * alone, so `recompute` gives it again.
 */

export const trafficSchema = z
  .object({
    probe: name,
    failures: count.meta({
      description: "Failed samples sent from the fault's start until the next fault's.",
    }),
    lostAt: epochMs.exactOptional().meta({ description: "sentAt of the first of them." }),
    lastFailedAt: epochMs.exactOptional().meta({ description: "sentAt of the last of them." }),
    returnedMs: ms.nullable().meta({
      description:
        "From the fault's first change to the first success after the last failure: 0 when nothing failed, null when no success came.",
    }),
  })
  .readonly();
export type TrafficReport = z.infer<typeof trafficSchema>;

/** The epoch ms a fault started: its first shot or change. */
export function faultStart(fault: FaultFacts): number | undefined {
  const starts =
    fault.type === "pod"
      ? [
          ...fault.victims.flatMap((victim) => {
            const at = victim.requestedAt ?? victim.shot?.at;
            return at === undefined ? [] : [at];
          }),
          ...(fault.containers ?? []).filter((each) => each.shot.accepted).map((each) => each.shot.at),
        ]
      : [
          ...fault.changes.map((change) => change.injectedAt),
          ...(fault.pods ?? []).map((pod) => pod.injectedAt),
        ];
  return starts.length === 0 ? undefined : Math.min(...starts);
}

/** Per probe, the traffic figures of the window [start, until). */
export function trafficOf(
  probes: readonly string[],
  samples: readonly Sample[],
  start: number,
  until: number,
): TrafficReport[] {
  const window = { start, end: Math.max(start, until) };
  return probes.map((probe) => {
    const mine = samples.filter((sample) => sample.probe === probe && isWithin(sample, window));
    const failed = mine.filter((sample) => !sample.ok);
    const first = failed[0];
    const last = failed[failed.length - 1];
    if (first === undefined || last === undefined) return { probe, failures: 0, returnedMs: 0 };
    const back = samples.find((s) => s.probe === probe && s.ok && s.sentAt > last.sentAt);
    return {
      probe,
      failures: failed.length,
      lostAt: first.sentAt,
      lastFailedAt: last.sentAt,
      returnedMs: back === undefined ? null : back.sentAt - start,
    };
  });
}

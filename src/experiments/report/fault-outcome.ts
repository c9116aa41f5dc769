import { z } from "zod";
import type { RecoveryResult } from "../../core/ledger/recovery.js";
import { optional } from "../../core/objects.js";
import {
  describeChange,
  describeWorkload,
  objectFaultFactsSchema,
  podFaultFactsSchema,
  type FaultFacts,
  type KilledContainerReport,
  type ObjectChangeReport,
  type ObjectFaultFacts,
  type PausedPodReport,
  type PodFaultFacts,
  type VictimReport,
} from "./fault-facts.js";
import { ms } from "./schema-fields.js";
import { trafficSchema } from "./traffic.js";

/**
 * The judgement of each fault: did what it hit come back, how long it took, and why not when it did not.
 * Derived from the facts alone (fault-facts.ts), so `recompute` reaches the same outcome from a report.
 */

/** What the report concludes from the facts; recomputed by `recompute`. */
const faultOutcomeSchema = z.object({
  targets: z
    .array(z.string())
    .readonly()
    .meta({ description: '"namespace/name" of each pod shot or object changed.' }),
  recovered: z.boolean(),
  // Null rather than a partial figure: that would let a recovery-time check pass on the part that came back.
  recoveryMs: ms.nullable().meta({
    description:
      "From the fault's first injection to its last recovery milestone. Null when nothing was hit, or when the fault did not recover.",
  }),
  problems: z
    .array(z.string())
    .readonly()
    .meta({ description: "Why `recovered` is false, one sentence each." }),
  traffic: z.array(trafficSchema).readonly().exactOptional().meta({
    description:
      "pod-failure and container-kill: per probe, what users felt from the fault's start (from the samples).",
  }),
});
export type FaultOutcome = Readonly<z.infer<typeof faultOutcomeSchema>>;

/** A fault's entry in the report: its facts and what the report concluded from them. */
export const faultReportSchema = z.discriminatedUnion("type", [
  podFaultFactsSchema.extend(faultOutcomeSchema.shape).readonly(),
  objectFaultFactsSchema.extend(faultOutcomeSchema.shape).readonly(),
]);
export type FaultReport = z.infer<typeof faultReportSchema>;

/** The facts of a reported fault, without what the report concluded from them. */
export function factsOfFault(fault: FaultReport): FaultFacts {
  if (fault.type === "pod") {
    const { type, kind, ledgerIds, victims, workloads, complete } = fault;
    return {
      type,
      kind,
      ledgerIds,
      victims,
      workloads,
      complete,
      ...optional("watchFailure", fault.watchFailure),
      ...optional("containers", fault.containers),
    };
  }
  return { type: fault.type, kind: fault.kind, changes: fault.changes, ...optional("pods", fault.pods) };
}

export function withOutcome(facts: FaultFacts): FaultReport {
  return facts.type === "pod" ? { ...facts, ...podOutcome(facts) } : { ...facts, ...objectOutcome(facts) };
}

function podOutcome(facts: PodFaultFacts): FaultOutcome {
  const problems = podProblems(facts);
  if (facts.watchFailure !== undefined) problems.push(`observation stopped early: ${facts.watchFailure}`);
  else if (!facts.complete && problems.length === 0) problems.push("not every milestone was seen in time");
  const pods = [...facts.victims, ...(facts.containers ?? [])].map(
    (hit) => `${hit.pod.namespace}/${hit.pod.name}`,
  );
  const recovered = problems.length === 0;
  return {
    targets: [...new Set(pods)],
    recovered,
    recoveryMs: !recovered
      ? null
      : facts.containers === undefined
        ? podRecoveryMs(facts)
        : containersRecoveryMs(facts.containers),
    problems,
  };
}

/** Workloads not restored, victims without a Ready replacement, killed containers not back. */
function podProblems(facts: PodFaultFacts): string[] {
  const problems: string[] = [];
  for (const workload of facts.workloads) {
    if (workload.status === "not-restored") {
      problems.push(`${describeWorkload(workload.workload)} was not back at its desired available replicas`);
    }
  }
  for (const victim of facts.victims) {
    const missing = missingReplacement(victim);
    if (missing !== undefined) problems.push(missing);
  }
  for (const killed of facts.containers ?? []) {
    const missing = containerNotBack(killed);
    if (missing !== undefined) problems.push(missing);
  }
  return problems;
}

function missingReplacement(victim: VictimReport): string | undefined {
  const expected = victim.replacement.expected;
  if (victim.shot?.accepted !== true || !expected || victim.replacement.readyMs !== undefined)
    return undefined;
  return `no Ready replacement was seen for pod ${victim.pod.namespace}/${victim.pod.name}`;
}

/** A container killed (the daemon said so) and not seen running and Ready again. */
function containerNotBack(killed: KilledContainerReport): string | undefined {
  if (!killed.shot.accepted) return undefined;
  const what = `container ${killed.container} of pod ${killed.pod.namespace}/${killed.pod.name}`;
  if (killed.runningAgainMs === undefined) return `${what} was killed and not seen running again`;
  if (killed.readyAgainMs === undefined) return `${what} ran again, but its pod was not seen Ready again`;
  return undefined;
}

/** From the first kill to the last pod Ready again; null when no kill was accepted. */
function containersRecoveryMs(containers: readonly KilledContainerReport[]): number | null {
  const killed = containers.filter((each) => each.shot.accepted);
  if (killed.length === 0) return null;
  const first = Math.min(...killed.map((each) => each.shot.at));
  return Math.max(...killed.map((each) => each.shot.at + (each.readyAgainMs ?? 0))) - first;
}

/**
 * From the first shot sent to the last milestone of recovery: the last workload restored, or, for victims
 * without a tracked workload, their replacement turning Ready. Victim figures are relative to each
 * victim's own shot, so they are turned back into epoch ms before taking the latest.
 */
function podRecoveryMs(facts: PodFaultFacts): number | null {
  const origins = facts.victims
    .filter((victim) => victim.shot?.accepted === true)
    .map((victim) => victim.requestedAt ?? victim.shot?.at ?? 0);
  if (origins.length === 0) return null;
  const ends: number[] = [];
  for (const workload of facts.workloads)
    if (workload.restoredAt !== undefined) ends.push(workload.restoredAt);
  for (const victim of facts.victims) {
    const ready = victim.replacement.expected ? victim.replacement.readyMs : undefined;
    if (ready !== undefined && victim.requestedAt !== undefined) ends.push(victim.requestedAt + ready);
  }
  if (ends.length === 0) return null;
  return Math.max(...ends) - Math.min(...origins);
}

/** Results after which the target holds its original again, or never held anything else. */
const settledResults: ReadonlySet<RecoveryResult> = new Set<RecoveryResult>([
  "reverted",
  "healed-externally",
  "target-gone",
  "never-applied",
  "closed-elsewhere",
]);

function objectOutcome(facts: ObjectFaultFacts): FaultOutcome {
  const problems = [
    ...facts.changes
      .filter((change) => !settledResults.has(change.result))
      .map((change) => `${describeChange(change)} was not recovered (${change.result}${detailOf(change)})`),
    ...(facts.pods ?? []).flatMap(notBack),
  ];
  const durations = facts.changes.map(changeRecoveryMs).filter((ms): ms is number => ms !== null);
  return {
    targets: [...new Set(facts.changes.map((change) => `${change.target.namespace}/${change.target.name}`))],
    recovered: problems.length === 0,
    recoveryMs: problems.length > 0 || durations.length === 0 ? null : Math.max(...durations),
    problems,
  };
}

/** A paused pod that lost readiness and was not seen regaining it (and was not deleted by someone). */
function notBack(pod: PausedPodReport): string[] {
  if (pod.gone || pod.readyLostMs === undefined || pod.readyRegainedMs !== undefined) return [];
  return [`pod ${pod.pod.namespace}/${pod.pod.name} lost readiness and was not seen regaining it`];
}

function detailOf(change: ObjectChangeReport): string {
  return change.detail === undefined ? "" : `: ${change.detail}`;
}

/** How long the change held: injected until reverted or healed. Null when it was never restored. */
export function changeRecoveryMs(change: ObjectChangeReport): number | null {
  if (change.result !== "reverted" && change.result !== "healed-externally") return null;
  return change.resolvedAt - change.injectedAt;
}

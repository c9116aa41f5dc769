import { redact, type LedgerRecord } from "../core/ledger/record.js";
import type { RecoverySummary } from "../core/ledger/recovery.js";
import { groupExclusions } from "../core/targeting/exclusions.js";
import type { Exclusion } from "../core/targeting/types.js";
import type { ObjectChaosResult } from "../engine/object-chaos.js";
import type { PodChaosResult } from "../engine/pod-chaos.js";
import type { PodFailureResult } from "../engine/pod-failure.js";
import type { VictimTimeline, WorkloadRestoration } from "../kube/recovery/types.js";
import type { CliIo } from "./options.js";
import { formatTable } from "./table.js";

/** The version of the JSON result objects documented in docs/cli.md. */
export const resultApiVersion = "broadside.dev/v1alpha1";

/**
 * The result as `-o json` prints it: the pods left out counted by reason, and listed one by one only
 * with `explain` (at 10,000 pods the list is 9,999 entries).
 */
export function podResultJson(
  fault: string,
  dryRun: boolean,
  result: PodChaosResult,
  explain = false,
): object {
  return {
    apiVersion: resultApiVersion,
    kind: "PodFaultResult",
    fault,
    dryRun,
    targets: result.plan.selected.map((pod) => {
      const shot = result.shots.find((s) => s.pod.uid === pod.uid);
      const timeline = result.recovery?.victims.find((v) => v.pod.uid === pod.uid);
      return {
        namespace: pod.namespace,
        name: pod.name,
        uid: pod.uid,
        node: pod.nodeName,
        workload: pod.owner,
        ledgerId: shot?.ledgerId,
        shot: shot?.outcome,
        timeline,
      };
    }),
    ...excludedJson(result.plan.excluded, explain),
    workloads: result.recovery?.workloads ?? [],
    complete: result.recovery?.complete,
    warnings: result.plan.warnings,
    apiRequests: result.apiRequests,
  };
}

/** Groups shown without --explain; the rest are summed up in one line. */
const shownGroups = 10;

/**
 * The pods left out, one line each with `explain`; otherwise one line per reason with its count and a
 * few examples, at most `shownGroups` of them, and one line for the rest.
 */
export function exclusionLines(excluded: readonly Exclusion[], explain: boolean): string[] {
  if (explain)
    return excluded.map(
      (exclusion) => `${exclusion.pod.namespace}/${exclusion.pod.name}: ${exclusion.reason}`,
    );
  const groups = groupExclusions(excluded);
  const lines = groups.slice(0, shownGroups).map((group) => {
    if (group.count === 1) return `${group.examples.join("")}: ${group.reason}`;
    const more = group.count > group.examples.length ? ", ..." : "";
    return `${group.count} pods: ${group.reason} (${group.examples.join(", ")}${more})`;
  });
  const hidden = groups.slice(shownGroups);
  if (hidden.length > 0) {
    const pods = hidden.reduce((sum, group) => sum + group.count, 0);
    lines.push(`${pods} more pod(s) for ${hidden.length} other reason(s)`);
  }
  return lines;
}

/** The pods left out as JSON: counted by reason, and listed one by one only with `explain`. */
function excludedJson(excluded: readonly Exclusion[], explain: boolean): object {
  return {
    excludedCount: excluded.length,
    excludedByReason: groupExclusions(excluded),
    ...(explain ? { excluded: excluded.map(exclusionJson) } : {}),
  };
}

export function printSkipped(io: CliIo, excluded: readonly Exclusion[], explain: boolean): void {
  const skipped = exclusionLines(excluded, explain);
  for (const line of skipped) io.out(`  skip  ${line}\n`);
  if (skipped.length < excluded.length) io.out("  (--explain lists every pod left out and why)\n");
}

function exclusionJson(exclusion: Exclusion): object {
  return {
    namespace: exclusion.pod.namespace,
    name: exclusion.pod.name,
    by: exclusion.by,
    reason: exclusion.reason,
  };
}

export function printPodResult(io: CliIo, dryRun: boolean, result: PodChaosResult, explain = false): void {
  const { plan } = result;
  io.out(
    `${dryRun ? "Plan (dry run, nothing changed)" : "Plan"}: ${plan.selected.length} target(s), ${plan.excluded.length} pod(s) left out\n`,
  );
  for (const pod of plan.selected)
    io.out(
      `  hit   ${pod.namespace}/${pod.name}${pod.nodeName === undefined ? "" : ` on ${pod.nodeName}`}\n`,
    );
  printSkipped(io, plan.excluded, explain);
  for (const warning of plan.warnings) io.out(`warning: ${warning}\n`);
  if (result.recovery === undefined) return;
  io.out("\nRecovery, in ms from each shot (from watch events):\n");
  io.out(
    formatTable(
      ["POD", "SHOT", "ACCEPTED", "GONE", "REPLACEMENT", "CREATED", "SCHEDULED", "READY"],
      result.recovery.victims.map(victimRow),
    ),
  );
  for (const workload of result.recovery.workloads) io.out(`${describeRestoration(workload)}\n`);
}

function ms(value: number | undefined): string {
  return value === undefined ? "-" : String(value);
}

function victimRow(victim: VictimTimeline): string[] {
  const shot = victim.shot === undefined ? "-" : victim.shot.accepted ? "accepted" : victim.shot.reason;
  const replacement = victim.replacement;
  if (!replacement.expected)
    return [
      victim.pod.name,
      shot,
      ms(victim.acceptedMs),
      ms(victim.goneMs),
      `none (${replacement.why})`,
      "-",
      "-",
      "-",
    ];
  return [
    victim.pod.name,
    shot,
    ms(victim.acceptedMs),
    ms(victim.goneMs),
    replacement.pod?.name ?? "(not seen)",
    ms(replacement.createdMs),
    ms(replacement.scheduledMs),
    ms(replacement.readyMs),
  ];
}

function describeRestoration(restoration: WorkloadRestoration): string {
  const name = `${restoration.workload.kind} ${restoration.workload.namespace}/${restoration.workload.name}`;
  if (restoration.status === "restored")
    return `${name}: back at ${restoration.desired ?? "?"}/${restoration.desired ?? "?"} available after ${ms(restoration.restoredMs)} ms`;
  return `${name}: ${restoration.status} (${restoration.available ?? "?"}/${restoration.desired ?? "?"} available)`;
}

export function objectResultJson(fault: string, dryRun: boolean, result: ObjectChaosResult): object {
  return {
    apiVersion: resultApiVersion,
    kind: "ObjectFaultResult",
    fault,
    dryRun,
    changes: result.changes.map((change) => ({
      target: change.target,
      path: change.path,
      description: change.description,
      ...(change.sensitive ? {} : { original: change.original, injected: change.injected }),
    })),
    records: result.records.map((record: LedgerRecord) => redact(record)),
    recovery: result.recovery.map(({ error, ...summary }) => ({
      ...summary,
      ...(error === undefined ? {} : { failed: true }),
    })),
  };
}

export function printObjectResult(io: CliIo, dryRun: boolean, result: ObjectChaosResult): void {
  // "none" said, not left to an empty list: a run whose pods were all left out changed nothing.
  const none = result.changes.length === 0 ? " none" : "";
  io.out(`${dryRun ? "Plan (dry run, nothing changed)" : "Changes"}:${none}\n`);
  for (const change of result.changes) io.out(`  ${change.description}\n`);
  for (const record of result.records)
    io.out(`  ledger ${record.id}: deadline ${new Date(record.deadline).toISOString()}\n`);
  for (const summary of result.recovery) io.out(`${describeRecovery(summary)}\n`);
}

function describeRecovery(summary: RecoverySummary): string {
  const target = `${summary.target.kind.toLowerCase()} ${summary.target.namespace}/${summary.target.name} ${summary.path}`;
  return `${target}: ${summary.result}${summary.detail === undefined ? "" : ` (${summary.detail})`}`;
}

/** `fail -o json`: the object fault's changes and records, and the pods chosen with why others were not. */
export function podFailureResultJson(dryRun: boolean, result: PodFailureResult, explain = false): object {
  return {
    ...objectResultJson("pod-failure", dryRun, result),
    kind: "PodFailureResult",
    targets: result.plan.selected.map((pod) => ({
      namespace: pod.namespace,
      name: pod.name,
      uid: pod.uid,
      node: pod.nodeName,
      workload: pod.owner,
    })),
    ...excludedJson(result.plan.excluded, explain),
    warnings: result.plan.warnings,
  };
}

export function printPodFailureResult(
  io: CliIo,
  dryRun: boolean,
  result: PodFailureResult,
  explain = false,
): void {
  const { plan } = result;
  io.out(
    `${dryRun ? "Plan (dry run, nothing changed)" : "Plan"}: ${plan.selected.length} pod(s) paused, ${plan.excluded.length} pod(s) left out\n`,
  );
  printSkipped(io, plan.excluded, explain);
  for (const warning of plan.warnings) io.out(`warning: ${warning}\n`);
  printObjectResult(io, dryRun, result);
}

import { redact, type LedgerRecord } from "../core/ledger/record.js";
import type { RecoverySummary } from "../core/ledger/recovery.js";
import type { Exclusion } from "../core/targeting/types.js";
import type { ObjectChaosResult } from "../engine/object-chaos.js";
import type { PodChaosResult } from "../engine/pod-chaos.js";
import type { PodFailureResult } from "../engine/pod-failure.js";
import type { VictimTimeline, WorkloadRestoration } from "../kube/recovery/types.js";
import type { CliIo } from "./options.js";
import { formatTable } from "./table.js";

/** The version of the JSON result objects documented in docs/cli.md. */
export const resultApiVersion = "broadside.dev/v1alpha1";

export function podResultJson(fault: string, dryRun: boolean, result: PodChaosResult): object {
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
    excluded: result.plan.excluded.map(exclusionJson),
    workloads: result.recovery?.workloads ?? [],
    complete: result.recovery?.complete,
    warnings: result.plan.warnings,
    apiRequests: result.apiRequests,
  };
}

function exclusionJson(exclusion: Exclusion): object {
  return {
    namespace: exclusion.pod.namespace,
    name: exclusion.pod.name,
    by: exclusion.by,
    reason: exclusion.reason,
  };
}

export function printPodResult(io: CliIo, dryRun: boolean, result: PodChaosResult): void {
  const { plan } = result;
  io.out(
    `${dryRun ? "Plan (dry run, nothing changed)" : "Plan"}: ${plan.selected.length} target(s), ${plan.excluded.length} pod(s) left out\n`,
  );
  for (const pod of plan.selected)
    io.out(
      `  hit   ${pod.namespace}/${pod.name}${pod.nodeName === undefined ? "" : ` on ${pod.nodeName}`}\n`,
    );
  for (const exclusion of plan.excluded)
    io.out(`  skip  ${exclusion.pod.namespace}/${exclusion.pod.name}: ${exclusion.reason}\n`);
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
  io.out(`${dryRun ? "Plan (dry run, nothing changed)" : "Changes"}:\n`);
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
export function podFailureResultJson(dryRun: boolean, result: PodFailureResult): object {
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
    excluded: result.plan.excluded.map(exclusionJson),
    warnings: result.plan.warnings,
  };
}

export function printPodFailureResult(io: CliIo, dryRun: boolean, result: PodFailureResult): void {
  const { plan } = result;
  io.out(
    `${dryRun ? "Plan (dry run, nothing changed)" : "Plan"}: ${plan.selected.length} pod(s) paused, ${plan.excluded.length} pod(s) left out\n`,
  );
  for (const exclusion of plan.excluded)
    io.out(`  skip ${exclusion.pod.namespace}/${exclusion.pod.name}: ${exclusion.reason}\n`);
  for (const warning of plan.warnings) io.out(`warning: ${warning}\n`);
  printObjectResult(io, dryRun, result);
}

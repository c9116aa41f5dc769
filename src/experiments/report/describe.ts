import {
  describeChange,
  describeWorkload,
  healedBy,
  type KilledContainerReport,
  type ObjectChangeReport,
  type PausedPodReport,
  type VictimReport,
  type WorkloadReport,
} from "./fault-facts.js";
import { changeRecoveryMs, type FaultReport } from "./fault-outcome.js";
import { formatAvailability, formatInstant, formatMs } from "./format.js";
import type { TrafficReport } from "./traffic.js";
import type { RestartChange } from "./restarts.js";
import type { RunReport } from "./run-report.js";
import type { PhaseName, ProbeFigures } from "./samples.js";

/**
 * The sentences every format uses for faults, victims, workloads, changes and restarts. Renderers add
 * layout and escaping; the words are the same everywhere, so a CI log and the HTML page can be compared.
 * Milestones read "+40 ms": ms since that victim's shot was sent, as the engine measured them.
 */

function since(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : `+${formatMs(ms)}`;
}

function milestones(parts: readonly (readonly [string, number | undefined])[]): string {
  const seen = parts.flatMap(([label, ms]) => (ms === undefined ? [] : [`${label} ${since(ms) ?? ""}`]));
  return seen.length === 0 ? "no milestone seen" : seen.join(", ");
}

function onNode(node: string | undefined): string {
  return node === undefined ? "" : ` on ${node}`;
}

/** "1. pod-kill: recovered in 2134 ms" */
export function faultHeadline(fault: FaultReport, index: number): string {
  const state = fault.recovered
    ? fault.recoveryMs === null
      ? "nothing to recover"
      : `recovered in ${formatMs(fault.recoveryMs)}`
    : "NOT recovered";
  return `${index + 1}. ${fault.kind}: ${state}`;
}

/** "pod demo/web-1 on node-a: shot accepted +3 ms, gone +41 ms" */
export function victimLine(victim: VictimReport): string {
  const pod = `pod ${victim.pod.namespace}/${victim.pod.name}${onNode(victim.pod.node)}`;
  const shot = victim.shot;
  if (shot === undefined) return `${pod}: not shot`;
  if (!shot.accepted) return `${pod}: shot refused: ${shot.reason}`;
  return `${pod}: ${milestones([
    ["shot accepted", victim.acceptedMs],
    ["gone", victim.goneMs],
  ])}`;
}

/** "replacement web-2 on node-b: created +50 ms, scheduled +61 ms, Ready +1.2 s" */
export function replacementLine(victim: VictimReport): string {
  const replacement = victim.replacement;
  if (!replacement.expected) return `no replacement expected: ${replacement.why}`;
  if (replacement.pod === undefined) return "no replacement seen";
  return `replacement ${replacement.pod.name}${onNode(replacement.pod.node)}: ${milestones([
    ["created", replacement.createdMs],
    ["scheduled", replacement.scheduledMs],
    ["Ready", replacement.readyMs],
  ])}`;
}

/** "Deployment demo/web: restored +2.1 s after the first shot (workload status)" */
export function workloadLine(workload: WorkloadReport): string {
  const name = describeWorkload(workload.workload);
  const counts =
    workload.available === undefined || workload.desired === undefined
      ? ""
      : ` (${workload.available} of ${workload.desired} available)`;
  switch (workload.status) {
    case "restored": {
      const by = workload.restoredBy === "replacements-ready" ? "replacements Ready" : "workload status";
      return `${name}: restored ${since(workload.restoredMs) ?? ""} after the first shot (${by})`;
    }
    case "not-restored":
      return `${name}: NOT restored${counts}`;
    case "untracked":
      return `${name}: availability not tracked for this kind`;
    case "not-hit":
      return `${name}: no shot at it was accepted`;
  }
}

/** "ConfigMap demo/web data.LOG_LEVEL: healed by kustomize-controller after 4.1 s" */
export function changeLine(change: ObjectChangeReport): string {
  const subject = describeChange(change);
  const by = healedBy(change);
  const held = changeRecoveryMs(change);
  if (by !== undefined && held !== null) {
    const verb = change.result === "reverted" ? "reverted" : "healed";
    return `${subject}: ${verb} by ${by} after ${formatMs(held)}`;
  }
  const detail = change.detail === undefined ? "" : `: ${change.detail}`;
  return `${subject}: ${change.result}${detail}`;
}

/**
 * "pod demo/web-1 on node-a: paused +1.1 s, Ready lost +1.1 s, images back +16.0 s, Ready regained +16.1
 * s; restarts 0 -> 2": what one pod paused by pod-failure went through, in ms since its first change.
 */
export function pausedPodLine(paused: PausedPodReport): string {
  const pod = `pod ${paused.pod.namespace}/${paused.pod.name}${onNode(paused.pod.node)}`;
  const seen = milestones([
    ["paused", paused.pausedMs],
    ["Ready lost", paused.readyLostMs],
    ["images back", paused.imagesBackMs],
    ["Ready regained", paused.readyRegainedMs],
  ]);
  const after = paused.gone
    ? "gone"
    : paused.restartsAfter === undefined
      ? "?"
      : String(paused.restartsAfter);
  return `${pod}: ${seen}; restarts ${paused.restartsBefore} -> ${after}`;
}

/** "probe web: 12 failed samples, traffic back +16.4 s after the fault began" */
export function trafficLine(traffic: TrafficReport): string {
  const probe = `probe ${traffic.probe}`;
  if (traffic.failures === 0) return `${probe}: no failed sample, traffic never left`;
  const failed = `${traffic.failures} failed sample${traffic.failures === 1 ? "" : "s"}`;
  if (traffic.returnedMs === null) return `${probe}: ${failed}, traffic NOT back by the end of the run`;
  return `${probe}: ${failed}, traffic back ${since(traffic.returnedMs) ?? ""} after the fault began`;
}

/**
 * "container web of pod shop/web-1 on node-a: killed; running again +512 ms, Ready again +2600 ms; Ready
 * lost; restarts 0 -> 1, last Error (exit 137)": one container-kill, in ms since the daemon's signal.
 */
export function killedContainerLine(killed: KilledContainerReport): string {
  const what = `container ${killed.container} of pod ${killed.pod.namespace}/${killed.pod.name}${onNode(killed.pod.node)}`;
  if (!killed.shot.accepted) return `${what}: kill refused: ${killed.shot.reason}`;
  const seen = milestones([
    ["running again", killed.runningAgainMs],
    ["Ready again", killed.readyAgainMs],
  ]);
  const lost = killed.readyLost ? "; Ready lost" : "";
  const after = killed.restartsAfter === undefined ? "?" : String(killed.restartsAfter);
  const last = killed.lastTerminated;
  const ended =
    last === undefined
      ? ""
      : `, last ${last.reason ?? "?"} (exit ${last.exitCode === undefined ? "?" : String(last.exitCode)})`;
  return `${what}: killed; ${seen}${lost}; restarts ${killed.restartsBefore} -> ${after}${ended}`;
}

/**
 * The lines a fault adds for what users felt: its paused pods or killed containers, then the traffic per
 * probe.
 */
export function feltLines(fault: FaultReport): string[] {
  const hits =
    fault.type === "object"
      ? (fault.pods ?? []).map(pausedPodLine)
      : (fault.containers ?? []).map(killedContainerLine);
  return [...hits, ...(fault.traffic ?? []).map(trafficLine)];
}

/**
 * "outage from 12:00:01.234Z to 12:00:04.567Z (3.3 s): 12 failed samples, the last at 12:00:04.467Z", or
 * undefined when no sample failed: the window every failed sample of the run lies in.
 */
export function outageLine(figures: ProbeFigures): string | undefined {
  const outage = figures.outage;
  if (outage === null) return undefined;
  const until = outage.stillFailing ? `${formatInstant(outage.to)}, still failing` : formatInstant(outage.to);
  const failed = `${outage.failures} failed sample${outage.failures === 1 ? "" : "s"}`;
  return `outage from ${formatInstant(outage.from)} to ${until} (${formatMs(outage.to - outage.from)}): ${failed}, the last at ${formatInstant(outage.lastFailedAt)}`;
}

/** "demo/cache-0 on node-a: 0 -> 2 (+2)" */
export function restartLine(change: RestartChange): string {
  const after = change.after === undefined ? "gone" : String(change.after);
  const delta = change.change === null ? "" : ` (${change.change >= 0 ? "+" : ""}${change.change})`;
  return `${change.namespace}/${change.name}${onNode(change.node)}: ${change.before} -> ${after}${delta}`;
}

/** "yes (3 node-mates, none restarted)" */
export function isolationSummary(report: RunReport): string | undefined {
  const restarts = report.restarts;
  if (restarts === undefined) return undefined;
  const mates = restarts.nodeMates.length;
  const noun = `${mates} node-mate${mates === 1 ? "" : "s"}`;
  if (restarts.isolationHeld) return `yes (${noun}, none restarted or gone)`;
  const broke = restarts.nodeMates.filter((mate) => mate.change !== 0).length;
  return `NO (${broke} of ${noun} restarted or gone)`;
}

export const phaseLabels: Record<PhaseName | "overall", string> = {
  baseline: "baseline",
  chaos: "chaos",
  recovery: "recovery",
  overall: "whole run",
};

/** "PASSED", "FAILED", "ABORTED": the word a reader's eye looks for first. */
export function verdictWord(report: RunReport): string {
  return report.verdict.result.toUpperCase();
}

/** The reasons behind a verdict other than passed. */
export function verdictReasons(report: RunReport): readonly string[] {
  const verdict = report.verdict;
  if (verdict.result === "failed") return verdict.reasons;
  if (verdict.result === "aborted") return [`the run was aborted: ${verdict.reason}`];
  return [];
}

/**
 * The longest unreachable stretch as text: "n/a" without samples, "0 ms" with no failure, and ">= 1.5 s"
 * when the probe was still failing as the window ended (the outage lasted at least that long).
 */
export function unreachableText(figures: ProbeFigures): string {
  if (figures.sent === 0) return "n/a";
  const stretch = figures.longestUnreachable;
  if (stretch === null) return formatMs(0);
  return `${stretch.stillFailing ? ">= " : ""}${formatMs(stretch.ms)}`;
}

/** One row of figures, as every format's table shows it (before the format's own escaping). */
export function figureCells(figures: ProbeFigures): string[] {
  const latency = figures.latency;
  return [
    String(figures.sent),
    String(figures.successes),
    formatAvailability(figures.availability),
    unreachableText(figures),
    formatMs(latency?.p50Ms),
    formatMs(latency?.p95Ms),
    formatMs(latency?.p99Ms),
    formatMs(latency?.maxMs),
  ];
}

/** "ECONNREFUSED x7, HTTP 503 x1", or "none". */
export function failureText(figures: ProbeFigures): string {
  return figures.errors.map((error) => `${error.kind} x${error.count}`).join(", ") || "none";
}

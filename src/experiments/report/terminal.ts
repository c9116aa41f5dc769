import { describeOutcome, describeSubject } from "./checks.js";
import {
  changeLine,
  failureText,
  faultHeadline,
  feltLines,
  figureCells,
  isolationSummary,
  outageLine,
  phaseLabels,
  replacementLine,
  restartLine,
  verdictReasons,
  verdictWord,
  victimLine,
  workloadLine,
} from "./describe.js";
import { count, formatInstant, formatMs } from "./format.js";
import type { RunReport } from "./run-report.js";
import { phaseNames, type WindowFigures } from "./samples.js";

/**
 * The summary a person reads in a terminal after `broadside run`: plain text, no colour codes (it is also
 * pasted into tickets and CI logs), every line within 80 columns. Long sentences wrap with a hanging
 * indent; only an unbreakable word longer than the line (a very long pod name) can overflow.
 */

const width = 80;

export function renderTerminal(report: RunReport): string {
  const lines = [
    ...wrap(`Broadside run: ${report.title}`, ""),
    `Verdict: ${verdictWord(report)}`,
    ...verdictReasons(report).flatMap((reason) => wrap(reason, "  - ", "    ")),
    "",
    ...runLines(report),
    ...report.probes.flatMap((probe) => ["", ...probeTable(report, probe.name)]),
    ...faultLines(report),
    ...restartLines(report),
    ...checkLines(report),
    "",
    ...wrap(`${count(report.samples.length, "raw sample")} kept in the JSON report for recomputing.`, ""),
  ];
  return `${lines.join("\n")}\n`;
}

function runLines(report: RunReport): string[] {
  const { baseline, chaos, recovery } = report.phases;
  const windows = count(report.chaosWindows.length, "chaos window");
  return [
    `Started  ${formatInstant(report.startedAt)}`,
    `Ended    ${formatInstant(report.endedAt)} (${formatMs(report.endedAt - report.startedAt)})`,
    ...wrap(
      `baseline ${length(baseline)}, chaos ${length(chaos)} (${windows}), recovery ${length(recovery)}`,
      "Phases   ",
      "         ",
    ),
  ];
}

function length(window: WindowFigures): string {
  return formatMs(window.end - window.start);
}

const columns = [10, 6, 6, 8, 12, 9, 9, 9, 9] as const;

function row(cells: readonly string[]): string {
  // The first column is a label and reads left-aligned; figures are right-aligned to line up digits.
  const text = cells
    .map((cell, index) => (index === 0 ? cell.padEnd(columns[0]) : cell.padStart(columns[index] ?? 0)))
    .join("");
  return `  ${text}`.trimEnd();
}

function probeTable(report: RunReport, probe: string): string[] {
  const spec = report.probes.find((candidate) => candidate.name === probe);
  const about =
    spec === undefined
      ? ""
      : ` (every ${formatMs(spec.intervalMs)}${spec.target === undefined ? "" : `, ${spec.target}`})`;
  const scopes = [
    ...phaseNames.map((phase) => [phaseLabels[phase], report.phases[phase]] as const),
    [phaseLabels.overall, report.overall] as const,
  ];
  const rows: string[] = [];
  const failures: string[] = [];
  for (const [label, window] of scopes) {
    const figures = window.probes.find((candidate) => candidate.probe === probe);
    if (figures === undefined) continue;
    rows.push(row([label, ...figureCells(figures)]));
    if (figures.errors.length > 0 && label !== phaseLabels.overall) {
      failures.push(`failures in ${label}: ${failureText(figures)}`);
    }
  }
  const overall = report.overall.probes.find((candidate) => candidate.probe === probe);
  const outage = overall === undefined ? undefined : outageLine(overall);
  return [
    ...wrap(`Probe ${probe}${about}`, ""),
    row(["phase", "sent", "ok", "avail.", "unreachable", "p50", "p95", "p99", "max"]),
    ...rows,
    ...failures.flatMap((line) => wrap(line, "  ", "    ")),
    ...(outage === undefined ? [] : wrap(outage, "  ", "    ")),
  ];
}

function faultLines(report: RunReport): string[] {
  if (report.faults.length === 0) return [];
  const lines = ["", "Faults"];
  report.faults.forEach((fault, index) => {
    lines.push(...wrap(faultHeadline(fault, index), "  ", "     "));
    lines.push(...wrap(`targets: ${fault.targets.join(", ") || "none"}`, "     ", "       "));
    if (fault.type === "pod") {
      lines.push(...wrap(`ledger: ${fault.ledgerIds.join(", ") || "none"}`, "     ", "       "));
      for (const victim of fault.victims) {
        lines.push(...wrap(victimLine(victim), "     ", "       "));
        lines.push(...wrap(replacementLine(victim), "       ", "         "));
      }
      for (const workload of fault.workloads) lines.push(...wrap(workloadLine(workload), "     ", "       "));
      for (const line of feltLines(fault)) lines.push(...wrap(line, "     ", "       "));
    } else {
      lines.push(...wrap(`ledger: ${fault.changes.map((c) => c.ledgerId).join(", ")}`, "     ", "       "));
      for (const change of fault.changes) lines.push(...wrap(changeLine(change), "     ", "       "));
      for (const line of feltLines(fault)) lines.push(...wrap(line, "     ", "       "));
    }
    for (const problem of fault.problems) lines.push(...wrap(`! ${problem}`, "     ", "       "));
  });
  lines.push(`  Replacements observed: ${report.replacements.length}`);
  return lines;
}

function restartLines(report: RunReport): string[] {
  const restarts = report.restarts;
  const summary = isolationSummary(report);
  if (restarts === undefined || summary === undefined) return [];
  return [
    "",
    "Restarts (before -> after)",
    ...restarts.targets.flatMap((change) => wrap(`target ${restartLine(change)}`, "  ", "    ")),
    ...restarts.nodeMates.flatMap((change) => wrap(`node-mate ${restartLine(change)}`, "  ", "    ")),
    `  Isolation held: ${summary}`,
  ];
}

function checkLines(report: RunReport): string[] {
  if (report.checks.length === 0) return [];
  return [
    "",
    "Hypothesis checks",
    ...report.checks.flatMap((check) =>
      wrap(
        `${check.passed ? "PASS" : "FAIL"} ${check.name}: ${describeSubject(check.subject)} was ${describeOutcome(check)}`,
        "  ",
        "       ",
      ),
    ),
  ];
}

/** Breaks `text` at spaces so that every line fits in 80 columns; later lines get `hanging`. */
export function wrap(text: string, first: string, hanging = first): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter((part) => part !== "")) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = hanging;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}

import { describeOutcome, describeSubject } from "./checks.js";
import {
  changeLine,
  failureText,
  feltLines,
  outageLine,
  faultHeadline,
  figureCells,
  isolationSummary,
  phaseLabels,
  replacementLine,
  restartLine,
  verdictReasons,
  verdictWord,
  victimLine,
  workloadLine,
} from "./describe.js";
import type { FaultReport } from "./fault-outcome.js";
import { count, formatInstant, formatMs } from "./format.js";
import { reportApiVersion, reportKind, reportSchemaVersion, type RunReport } from "./run-report.js";
import { phaseNames } from "./samples.js";

/**
 * The report as Markdown, for a pull request comment, a wiki page or a GameDay write-up. Every piece of
 * text from the run (names, errors, reasons) is escaped, so a pod name with `_` or `|` neither turns
 * italic nor breaks a table.
 */

/**
 * Backslash-escapes the ASCII punctuation that CommonMark and GFM tables give meaning inside a line
 * (emphasis, code, links, HTML and autolinks, entities, table cells). `>` only means something at the
 * start of a line, where run text never stands, so "0 -> 1" stays readable. Newlines become spaces,
 * since a line break would end a table row.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/\s+/g, " ").replace(/[\\`*_[\]<|~&#!]/g, (character) => `\\${character}`);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)];
}

export function renderMarkdown(report: RunReport): string {
  const e = escapeMarkdown;
  const lines = [
    `# Broadside run: ${e(report.title)}`,
    "",
    `**Verdict: ${verdictWord(report)}**`,
    ...reasonLines(report),
    "",
    ...table(
      ["", ""],
      [
        ["Started", formatInstant(report.startedAt)],
        ["Ended", `${formatInstant(report.endedAt)} (${formatMs(report.endedAt - report.startedAt)})`],
        ["Chaos windows", chaosWindowText(report)],
        [
          "Probes",
          report.probes.map((p) => `${e(p.name)} every ${formatMs(p.intervalMs)}`).join(", ") || "none",
        ],
      ],
    ),
    "",
    "## Probe figures",
    "",
    ...figureTable(report),
    ...faultSection(report),
    ...restartSection(report),
    ...checkSection(report),
    "",
    `<sub>${count(report.samples.length, "raw sample")} are kept in the JSON report ` +
      `(${reportApiVersion} ${reportKind}, schema ${reportSchemaVersion}), so every figure can be recomputed.</sub>`,
  ];
  return `${lines.join("\n")}\n`;
}

function reasonLines(report: RunReport): string[] {
  const reasons = verdictReasons(report);
  return reasons.length === 0 ? [] : ["", ...reasons.map((reason) => `- ${escapeMarkdown(reason)}`)];
}

function chaosWindowText(report: RunReport): string {
  if (report.chaosWindows.length === 0) return "none";
  return report.chaosWindows
    .map((window) => {
      const label = window.label === undefined ? "" : `${escapeMarkdown(window.label)} `;
      return `${label}+${formatMs(window.start - report.startedAt)} to +${formatMs(window.end - report.startedAt)}`;
    })
    .join("; ");
}

function figureTable(report: RunReport): string[] {
  const scopes = [
    ...phaseNames.map((phase) => [phaseLabels[phase], report.phases[phase]] as const),
    [phaseLabels.overall, report.overall] as const,
  ];
  const rows = report.probes.flatMap((probe) =>
    scopes.flatMap(([label, window]) => {
      const figures = window.probes.find((candidate) => candidate.probe === probe.name);
      if (figures === undefined) return [];
      return [[probe.name, label, ...figureCells(figures), failureText(figures)].map(escapeMarkdown)];
    }),
  );
  const header = ["Probe", "Phase", "Sent", "OK", "Availability", "Longest unreachable"];
  const outages = report.overall.probes.flatMap((figures) => {
    const line = outageLine(figures);
    return line === undefined ? [] : [`- ${escapeMarkdown(`${figures.probe}: ${line}`)}`];
  });
  return [
    ...table([...header, "p50", "p95", "p99", "max", "Failures"], rows),
    ...(outages.length === 0 ? [] : ["", ...outages]),
  ];
}

function faultSection(report: RunReport): string[] {
  if (report.faults.length === 0) return [];
  return [
    "",
    "## Faults",
    ...report.faults.flatMap((fault, index) => faultLines(fault, index)),
    "",
    `Replacements observed: ${report.replacements.length}`,
  ];
}

function faultLines(fault: FaultReport, index: number): string[] {
  const e = escapeMarkdown;
  const ledger = fault.type === "pod" ? fault.ledgerIds : fault.changes.map((change) => change.ledgerId);
  const details =
    fault.type === "pod"
      ? [
          ...fault.victims.flatMap((v) => [`- ${e(victimLine(v))}`, `  - ${e(replacementLine(v))}`]),
          ...fault.workloads.map((w) => `- ${e(workloadLine(w))}`),
          ...feltLines(fault).map((line) => `- ${e(line)}`),
        ]
      : [...fault.changes.map(changeLine), ...feltLines(fault)].map((line) => `- ${e(line)}`);
  return [
    "",
    `### ${e(faultHeadline(fault, index))}`,
    "",
    `- Targets: ${fault.targets.map(e).join(", ") || "none"}`,
    `- Ledger records: ${ledger.map(e).join(", ") || "none"}`,
    ...details,
    ...fault.problems.map((problem) => `- **Problem:** ${e(problem)}`),
  ];
}

function restartSection(report: RunReport): string[] {
  const restarts = report.restarts;
  const summary = isolationSummary(report);
  if (restarts === undefined || summary === undefined) return [];
  const rows = [
    ...restarts.targets.map((change) => ["target", escapeMarkdown(restartLine(change))]),
    ...restarts.nodeMates.map((change) => ["node-mate", escapeMarkdown(restartLine(change))]),
  ];
  return ["", "## Restarts", "", `Isolation held: **${summary}**`, "", ...table(["Role", "Restarts"], rows)];
}

function checkSection(report: RunReport): string[] {
  if (report.checks.length === 0) return [];
  const rows = report.checks.map((check) => [
    check.passed ? "✅ pass" : "❌ fail",
    escapeMarkdown(check.name),
    escapeMarkdown(describeSubject(check.subject)),
    escapeMarkdown(describeOutcome(check)),
  ]);
  return ["", "## Hypothesis checks", "", ...table(["Result", "Check", "Figure", "Observed"], rows)];
}

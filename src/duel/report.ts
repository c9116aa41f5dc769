import { redactUrl } from "../core/redact.js";
import type { ReportFormat } from "../experiments/report/formats.js";
import { count, escapeXml, formatInstant, formatMs } from "../experiments/report/format.js";
import { niceStep, reportCss } from "../experiments/report/html.js";
import type { DuelFile } from "./file.js";
import type { IntervalChange, DuelRun } from "./run.js";
import {
  legScore,
  persistedMs,
  scoreOf,
  sideOf,
  type AttackOutcome,
  type LegScore,
  type Score,
} from "./scoreboard.js";

/**
 * The duel's report: the attacks as measured (raw, so every figure can be recomputed) and the scoreboard
 * computed from them, per leg and attack kind. Rendered in the formats of run reports (text, json, md,
 * junit, html) with their shared wording of figures (experiments/report/format.ts) and the page's style.
 */

export const duelReportVersion = 1;

export interface DuelReport {
  readonly kind: "DuelReport";
  readonly version: typeof duelReportVersion;
  readonly name: string;
  readonly file: string;
  readonly gitops: { readonly controller: string; readonly description: string };
  readonly startedAt: number;
  readonly endedAt: number;
  readonly interrupted: boolean;
  readonly legs: readonly {
    readonly name: string;
    readonly interval: string;
    readonly deadline: string;
    readonly rounds: number;
    readonly intervalChange: IntervalChange | null;
  }[];
  readonly attacks: readonly AttackOutcome[];
  readonly scoreboard: { readonly legs: readonly LegScore[]; readonly overall: Score };
}

export function buildDuelReport(file: DuelFile, gitops: DuelReport["gitops"], run: DuelRun): DuelReport {
  return {
    kind: "DuelReport",
    version: duelReportVersion,
    name: file.name,
    file: file.fileName,
    gitops,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    interrupted: run.interrupted,
    legs: file.legs.map((leg) => ({
      name: leg.name,
      interval: leg.interval.toString(),
      deadline: leg.deadline.toString(),
      rounds: leg.rounds,
      intervalChange: run.intervals.find((change) => change.leg === leg.name) ?? null,
    })),
    attacks: run.outcomes,
    scoreboard: {
      legs: file.legs.map((leg) => legScore(leg.name, run.outcomes)),
      overall: scoreOf(run.outcomes),
    },
  };
}

const healerWords: Readonly<Record<AttackOutcome["healer"], string>> = {
  gitops: "GitOps",
  kubernetes: "Kubernetes",
  kubectl: "kubectl",
  broadside: "Broadside's revert",
  other: "someone else",
  nobody: "nobody",
};

const winnerWords: Readonly<Record<Score["winner"], string>> = {
  gitops: "GitOps",
  kubernetes: "Kubernetes",
  broadside: "Broadside",
  draw: "draw",
};

function rate(value: number | null): string {
  return value === null ? "n/a" : `${Math.round(value * 100)}%`;
}

/** The row of figures every format shows for a score, in the same order. */
export const scoreColumns = [
  "attacks",
  "GitOps heals",
  "heal p50",
  "heal p95",
  "heal max",
  "misses",
  "cannot heal",
  "drift held p50",
  "drift held max",
  "self-heal",
  "pods started",
  "winner",
] as const;

export function scoreCells(score: Score): string[] {
  return [
    String(score.attacks),
    String(score.healsByGitOps.count),
    formatMs(score.healsByGitOps.p50Ms),
    formatMs(score.healsByGitOps.p95Ms),
    formatMs(score.healsByGitOps.maxMs),
    String(score.misses),
    String(score.cannotHeal),
    formatMs(score.persistence.p50Ms),
    formatMs(score.persistence.maxMs),
    rate(score.selfHealRate),
    String(score.podsStarted),
    winnerWords[score.winner],
  ];
}

/** One line per attack, the same words in every format. */
export function attackLine(outcome: AttackOutcome): string {
  const held = formatMs(persistedMs(outcome));
  const who = healerWords[outcome.healer];
  const by = outcome.restoredBy === null ? "" : ` (${outcome.restoredBy})`;
  const cannot = outcome.gitDefines === false ? "; GitOps cannot heal this: Git does not define it" : "";
  const pods = outcome.podsStarted === null ? "" : `; ${count(outcome.podsStarted, "pod")} started meanwhile`;
  const detail = outcome.detail === undefined ? "" : `; ${outcome.detail}`;
  return `${outcome.leg} #${outcome.round} ${outcome.attack}: ${outcome.description}: restored by ${who}${by} after ${held}${cannot}${pods}${detail}`;
}

function scoreRows(report: DuelReport): { label: string; score: Score }[] {
  return [
    ...report.scoreboard.legs.flatMap((leg) => [
      ...leg.byKind.map((entry) => ({ label: `${leg.leg} ${entry.kind}`, score: entry.score })),
      { label: `${leg.leg} overall`, score: leg.overall },
    ]),
    { label: "duel overall", score: report.scoreboard.overall },
  ];
}

function headline(report: DuelReport): string {
  const winner = winnerWords[report.scoreboard.overall.winner];
  const cut = report.interrupted ? " (interrupted)" : "";
  return `Duel ${report.name}: Broadside vs ${report.gitops.description}: winner ${winner}${cut}`;
}

function legLines(report: DuelReport): string[] {
  return report.legs.map((leg) => {
    const change = leg.intervalChange;
    const set =
      change === null || change.ledgerIds.length === 0
        ? "already set"
        : `set from ${change.from ?? "(none)"} and ${change.reverted ? "reverted" : "NOT reverted"}`;
    return `leg ${leg.name}: interval ${leg.interval} (${set}), deadline ${leg.deadline}, ${count(leg.rounds, "round")}`;
  });
}

function padTable(header: readonly string[], rows: readonly string[][]): string[] {
  const widths = header.map((cell, index) =>
    Math.max(cell.length, ...rows.map((row) => row[index]?.length ?? 0)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, index) =>
        index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0),
      )
      .join("  ");
  return [line(header), ...rows.map(line)];
}

export function renderDuelTerminal(report: DuelReport): string {
  const rows = scoreRows(report).map(({ label, score }) => [label, ...scoreCells(score)]);
  return [
    headline(report),
    ...legLines(report),
    "",
    ...padTable(["", ...scoreColumns], rows),
    "",
    "attacks:",
    ...report.attacks.map((outcome) => `  ${attackLine(outcome)}`),
    "",
  ].join("\n");
}

export function renderDuelMarkdown(report: DuelReport): string {
  const cell = (text: string): string => text.replaceAll("|", "\\|");
  const rows = scoreRows(report).map(
    ({ label, score }) => `| ${[label, ...scoreCells(score)].map(cell).join(" | ")} |`,
  );
  return [
    `# ${cell(headline(report))}`,
    "",
    ...legLines(report).map((line) => `- ${cell(line)}`),
    "",
    `| | ${scoreColumns.join(" | ")} |`,
    `|---|${scoreColumns.map(() => "---:").join("|")}|`,
    ...rows,
    "",
    "## Attacks",
    "",
    ...report.attacks.map((outcome) => `- ${cell(attackLine(outcome))}`),
    "",
  ].join("\n");
}

export function renderDuelJson(report: DuelReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * JUnit: a testsuite per leg, a testcase per attack; a failure where the cluster did not heal itself
 * before the deadline (Broadside's revert, or nobody, restored it), with "GitOps cannot heal this" where
 * Git does not define what was changed.
 */
export function renderDuelJunit(report: DuelReport): string {
  const suites = report.legs.map((leg) => {
    const attacks = report.attacks.filter((outcome) => outcome.leg === leg.name);
    const failures = attacks.filter((outcome) => sideOf(outcome) === "broadside").length;
    const cases = attacks.map((outcome) => {
      const name = escapeXml(`round ${outcome.round}: ${outcome.attack}`);
      const seconds = ((persistedMs(outcome) ?? 0) / 1000).toFixed(3);
      const open = `    <testcase classname="${escapeXml(`duel.${report.name}.${leg.name}`)}" name="${name}" time="${seconds}"`;
      if (sideOf(outcome) !== "broadside") return `${open}/>`;
      const message =
        outcome.gitDefines === false
          ? "GitOps cannot heal this: Git does not define it"
          : "not healed before the deadline";
      return `${open}>\n      <failure type="not-healed" message="${escapeXml(message)}">${escapeXml(attackLine(outcome))}</failure>\n    </testcase>`;
    });
    return [
      `  <testsuite name="${escapeXml(`duel ${report.name} ${leg.name}`)}" tests="${attacks.length}" failures="${failures}" errors="0" timestamp="${formatInstant(report.startedAt)}">`,
      ...cases,
      "  </testsuite>",
    ].join("\n");
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    "<testsuites>",
    ...suites,
    `  <system-out>${escapeXml(renderDuelTerminal(report))}</system-out>`,
    "</testsuites>",
    "",
  ].join("\n");
}

const healerColours: Readonly<Record<AttackOutcome["healer"], string>> = {
  gitops: "#2da44e",
  kubernetes: "#1f6feb",
  kubectl: "#8250df",
  broadside: "#cf222e",
  other: "#bf8700",
  nobody: "#59636e",
};

/**
 * The timeline: a row per attack, a bar from injection to restoration coloured by who restored it, the
 * legs' spans behind. rect.attack[data-healer][data-start][data-end] for tests and readers' scripts.
 */
function duelTimeline(report: DuelReport): string {
  const width = 960;
  const left = 220;
  const right = 16;
  const rowHeight = 18;
  const top = 24;
  const height = top + report.attacks.length * rowHeight + 32;
  const start = report.startedAt;
  const span = Math.max(1, report.endedAt - start);
  const x = (at: number): number => left + ((at - start) / span) * (width - left - right);
  const step = niceStep(span / 1000, 8);
  const ticks: string[] = [];
  for (let second = 0; second <= span / 1000; second += step) {
    const at = x(start + second * 1000).toFixed(1);
    ticks.push(
      `<line x1="${at}" y1="${top}" x2="${at}" y2="${height - 28}" stroke="#eaeef2"/><text x="${at}" y="${height - 12}" font-size="11" fill="#59636e" text-anchor="middle">+${Number(second.toFixed(3))} s</text>`,
    );
  }
  const bars = report.attacks.map((outcome, index) => {
    const y = top + index * rowHeight;
    const end = outcome.restoredAt ?? report.endedAt;
    const x0 = x(outcome.injectedAt);
    const w = Math.max(1.5, x(end) - x0);
    const label = escapeXml(`${outcome.leg} #${outcome.round} ${outcome.attack}`);
    return (
      `<text x="${left - 6}" y="${(y + 12).toFixed(1)}" font-size="11" text-anchor="end" fill="#1f2328">${label}</text>` +
      `<rect class="attack" data-healer="${outcome.healer}" data-start="${outcome.injectedAt}" data-end="${end}" x="${x0.toFixed(1)}" y="${(y + 3).toFixed(1)}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="${healerColours[outcome.healer]}"><title>${escapeXml(attackLine(outcome))}</title></rect>`
    );
  });
  return `<svg id="duel-timeline" viewBox="0 0 ${width} ${height}" role="img" aria-label="attacks over time, coloured by who restored them">${ticks.join("")}${bars.join("")}</svg>`;
}

function legend(): string {
  return `<div class="legend">${Object.entries(healerColours)
    .map(
      ([healer, colour]) =>
        `<span><span class="swatch" style="background:${colour}"></span>${escapeXml(healerWords[healer as AttackOutcome["healer"]])}</span>`,
    )
    .join("")}</div>`;
}

export function renderDuelHtml(report: DuelReport): string {
  const header = `<tr><th></th>${scoreColumns.map((column) => `<th>${escapeXml(column)}</th>`).join("")}</tr>`;
  const rows = scoreRows(report)
    .map(
      ({ label, score }) =>
        `<tr><td>${escapeXml(label)}</td>${scoreCells(score)
          .map((cell) => `<td>${escapeXml(cell)}</td>`)
          .join("")}</tr>`,
    )
    .join("");
  const attacks = report.attacks.map((outcome) => `<li>${escapeXml(attackLine(outcome))}</li>`).join("");
  return [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${escapeXml(headline(report))}</title>`,
    `<style>${reportCss}</style></head><body>`,
    `<h1>${escapeXml(headline(report))}</h1>`,
    `<p class="meta">${legLines(report).map(escapeXml).join("<br>")}</p>`,
    `<section id="scoreboard"><h2>Scoreboard</h2><table id="duel-scoreboard">${header}${rows}</table></section>`,
    `<section id="timeline"><h2>Timeline</h2>${duelTimeline(report)}${legend()}</section>`,
    `<section id="attacks"><h2>Attacks</h2><ul class="details">${attacks}</ul></section>`,
    `<footer>${escapeXml(`${formatInstant(report.startedAt)} to ${formatInstant(report.endedAt)}`)}</footer>`,
    "</body></html>",
    "",
  ].join("\n");
}

const renderers: Record<ReportFormat, (report: DuelReport) => string> = {
  text: renderDuelTerminal,
  json: renderDuelJson,
  md: renderDuelMarkdown,
  junit: renderDuelJunit,
  html: renderDuelHtml,
};

/** A duel report in `format`, URL credentials dropped as from every report. */
export function renderDuelReport(report: DuelReport, format: ReportFormat): string {
  return redactUrl(renderers[format](report));
}

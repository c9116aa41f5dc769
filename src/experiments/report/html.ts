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
import { failureKind, isWithin, phaseNames, type ProbeFigures, type Sample } from "./samples.js";
import type { FaultReport } from "./fault-outcome.js";
import { count, escapeXml as esc, formatInstant, formatMs, formatOffset } from "./format.js";
import { reportApiVersion, reportKind, reportSchemaVersion, type RunReport } from "./run-report.js";

/**
 * The report as ONE self-contained HTML page: inline CSS, an inline SVG latency timeline drawn here, no
 * script, font, image or URL, so it can be mailed, attached to a CI run or opened offline years later.
 * A Content-Security-Policy forbids any load should something slip in. Every text from the run is
 * escaped. Elements carry classes, ids and data attributes that browser tests (and readers' scripts)
 * can check: rect.chaos-window[data-start][data-end], g.failure[data-probe][data-sent-at] (one per
 * failed sample in the run window), rect.unreachable (each probe's longest stretch), #summary-table.
 */

/** The drawing area of the timeline, in SVG user units. */
const chart = { width: 960, height: 320, left: 64, right: 16, top: 36, bottom: 40, failureBand: 18 };
const plot = {
  x0: chart.left,
  x1: chart.width - chart.right,
  y0: chart.top,
  y1: chart.height - chart.bottom,
};
const palette = ["#1f6feb", "#2da44e", "#8250df", "#bf8700", "#0a8a8a", "#cf222e"];

export const reportCss = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
  max-width: 1000px; padding: 0 1rem; color: #1f2328; background: #fff; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.verdict { display: inline-block; padding: .2rem .7rem; border-radius: 4px; font-weight: 700; }
.verdict-passed { background: #dafbe1; color: #116329; } .verdict-failed { background: #ffebe9; color: #a40e26; }
.verdict-aborted { background: #fff8c5; color: #7d4e00; }
.meta { color: #59636e; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #d1d9e0; padding: .3rem .5rem; text-align: right; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
tr.fail td { background: #fff5f5; } .pass-mark { color: #116329; } .fail-mark { color: #a40e26; font-weight: 700; }
svg { width: 100%; height: auto; border: 1px solid #d1d9e0; border-radius: 4px; }
.axis line, .axis path { stroke: #8c959f; } .axis text { fill: #59636e; font-size: 11px; }
.grid line { stroke: #eaeef2; }
.chaos-window { fill: #ffb86c; fill-opacity: .22; stroke: #f08a24; stroke-opacity: .5; }
.phase-boundary { stroke: #f08a24; stroke-dasharray: 4 3; }
.series polyline { fill: none; stroke-width: 1.5; } .series circle { stroke: none; }
.failure path { stroke: #cf222e; stroke-width: 2; }
.unreachable { fill: #cf222e; fill-opacity: .25; }
.legend { display: flex; gap: 1.2rem; flex-wrap: wrap; color: #59636e; margin: .4rem 0; }
.swatch { display: inline-block; width: 1.2em; height: .8em; vertical-align: middle; margin-right: .3em; }
ul.details { margin: .2rem 0 .8rem; } .problem { color: #a40e26; }
footer { margin-top: 2rem; color: #59636e; font-size: .9em; }
${palette.map((colour, index) => `.series-${index} { stroke: ${colour}; fill: ${colour}; }`).join("\n")}
`;

const round = (value: number): string => value.toFixed(1);

interface Scale {
  readonly x: (epochMs: number) => number;
  readonly y: (latencyMs: number) => number;
  readonly yMax: number;
}

/** The smallest 1, 2 or 5 times a power of ten that splits `range` into at most `ticks` steps. */
export function niceStep(range: number, ticks: number): number {
  const raw = Math.max(range, 1e-9) / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((factor) => factor * magnitude).find((step) => step >= raw) ?? raw * 10;
}

function scaleOf(report: RunReport, samples: readonly Sample[]): Scale {
  const span = Math.max(1, report.endedAt - report.startedAt);
  // A loop, not Math.max(...): an hour at 5 Hz over a few probes is more arguments than a call takes.
  const slowest = samples.reduce((max, s) => (s.ok ? Math.max(max, s.latencyMs) : max), 0);
  const step = niceStep(slowest * 1.1, 5);
  const yMax = Math.max(step, Math.ceil((slowest * 1.1) / step) * step);
  return {
    x: (t) => plot.x0 + ((t - report.startedAt) / span) * (plot.x1 - plot.x0),
    y: (v) => plot.y1 - (Math.min(v, yMax) / yMax) * (plot.y1 - plot.y0),
    yMax,
  };
}

const timeSteps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400];

function timeAxis(report: RunReport, scale: Scale): string {
  const span = report.endedAt - report.startedAt;
  const step = (timeSteps.find((seconds) => span / (seconds * 1000) <= 10) ?? 86_400) * 1000;
  const ticks: string[] = [];
  for (let offset = 0; offset <= span; offset += step) {
    const x = round(scale.x(report.startedAt + offset));
    const label = step < 60_000 ? `+${offset / 1000}s` : `+${offset / 60_000}m`;
    ticks.push(
      `<line x1="${x}" y1="${plot.y1}" x2="${x}" y2="${plot.y1 + 5}"/>` +
        `<text x="${x}" y="${plot.y1 + 18}" text-anchor="middle">${label}</text>`,
    );
  }
  const axisLine = `<line x1="${plot.x0}" y1="${plot.y1}" x2="${plot.x1}" y2="${plot.y1}"/>`;
  const title = `<text x="${(plot.x0 + plot.x1) / 2}" y="${chart.height - 6}" text-anchor="middle">time since start</text>`;
  return `<g class="axis x-axis">${axisLine}${ticks.join("")}${title}</g>`;
}

function latencyAxis(scale: Scale): string {
  const step = niceStep(scale.yMax, 5);
  const ticks: string[] = [];
  const grid: string[] = [];
  for (let value = 0; value <= scale.yMax + step / 1000; value += step) {
    const y = round(scale.y(value));
    grid.push(`<line x1="${plot.x0}" y1="${y}" x2="${plot.x1}" y2="${y}"/>`);
    ticks.push(
      `<text x="${plot.x0 - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(formatMs(value))}</text>`,
    );
  }
  const axisLine = `<line x1="${plot.x0}" y1="${plot.y0}" x2="${plot.x0}" y2="${plot.y1}"/>`;
  const failures = `<text x="${plot.x0 - 6}" y="${chart.failureBand}" text-anchor="end" dominant-baseline="middle">failed</text>`;
  return `<g class="grid">${grid.join("")}</g><g class="axis y-axis">${axisLine}${ticks.join("")}${failures}</g>`;
}

function chaosRects(report: RunReport, scale: Scale): string {
  const top = chart.failureBand - 10;
  const rects = report.chaosWindows.map((window) => {
    const x = scale.x(window.start);
    const width = Math.max(1, scale.x(window.end) - x);
    const label = `${window.label ?? "chaos"}: ${formatOffset(window.start, report.startedAt)} to ${formatOffset(window.end, report.startedAt)}`;
    return (
      `<rect class="chaos-window" data-start="${window.start}" data-end="${window.end}"` +
      (window.label === undefined ? "" : ` data-label="${esc(window.label)}"`) +
      ` x="${round(x)}" y="${top}" width="${round(width)}" height="${plot.y1 - top}"><title>${esc(label)}</title></rect>`
    );
  });
  const chaos = report.phases.chaos;
  const boundaries =
    report.chaosWindows.length === 0
      ? ""
      : [chaos.start, chaos.end]
          .map(
            (t) =>
              `<line class="phase-boundary" x1="${round(scale.x(t))}" y1="${top}" x2="${round(scale.x(t))}" y2="${plot.y1}"/>`,
          )
          .join("");
  return `<g class="chaos-windows">${rects.join("")}${boundaries}</g>`;
}

/** Successful samples as lines broken at every failure, so a line never bridges an outage. */
function series(probe: string, index: number, samples: readonly Sample[], scale: Scale): string {
  const runs: Sample[][] = [];
  let current: Sample[] = [];
  for (const sample of samples) {
    if (sample.ok) {
      current.push(sample);
    } else if (current.length > 0) {
      runs.push(current);
      current = [];
    }
  }
  if (current.length > 0) runs.push(current);
  const shapes = runs.map(([first, ...rest]) => {
    const point = (s: Sample): [string, string] => [round(scale.x(s.sentAt)), round(scale.y(s.latencyMs))];
    if (first === undefined) return "";
    // A lone success between failures has no neighbour to draw a line to: a dot shows it.
    if (rest.length === 0) {
      const [x, y] = point(first);
      return `<circle cx="${x}" cy="${y}" r="2"/>`;
    }
    return `<polyline points="${[first, ...rest].map((s) => point(s).join(",")).join(" ")}"/>`;
  });
  return `<g class="series series-${index % palette.length}" data-probe="${esc(probe)}">${shapes.join("")}</g>`;
}

function failureMarks(
  probe: string,
  index: number,
  samples: readonly Sample[],
  report: RunReport,
  scale: Scale,
): string {
  const y = chart.failureBand + (index % 3) * 4 - 4;
  return samples
    .filter((sample) => !sample.ok)
    .map((sample) => {
      const kind = failureKind(sample);
      const text = `${probe} failed at ${formatOffset(sample.sentAt, report.startedAt)}: ${kind}`;
      return (
        `<g class="failure" data-probe="${esc(probe)}" data-sent-at="${sample.sentAt}" data-kind="${esc(kind)}"` +
        ` transform="translate(${round(scale.x(sample.sentAt))} ${y})"><path d="M-4 -4L4 4M-4 4L4 -4"/><title>${esc(text)}</title></g>`
      );
    })
    .join("");
}

function unreachableBar(figures: ProbeFigures | undefined, index: number, scale: Scale): string {
  const stretch = figures?.longestUnreachable;
  if (figures === undefined || stretch === undefined || stretch === null) return "";
  const x = scale.x(stretch.from);
  const width = Math.max(1, scale.x(stretch.to) - x);
  const text = `${figures.probe}: longest unreachable ${formatMs(stretch.ms)}${stretch.stillFailing ? " (still failing at the end)" : ""}`;
  return (
    `<rect class="unreachable" data-probe="${esc(figures.probe)}" data-from="${stretch.from}" data-to="${stretch.to}"` +
    ` data-ms="${stretch.ms}" x="${round(x)}" y="${chart.failureBand + 8 + (index % 3) * 3}" width="${round(width)}" height="3">` +
    `<title>${esc(text)}</title></rect>`
  );
}

function timeline(report: RunReport): string {
  const inRun = report.samples.filter((sample) =>
    isWithin(sample, { start: report.startedAt, end: report.endedAt }),
  );
  const scale = scaleOf(report, inRun);
  const probes = report.probes.map((probe, index) => {
    const mine = inRun.filter((sample) => sample.probe === probe.name);
    const figures = report.overall.probes.find((candidate) => candidate.probe === probe.name);
    return (
      series(probe.name, index, mine, scale) +
      unreachableBar(figures, index, scale) +
      failureMarks(probe.name, index, mine, report, scale)
    );
  });
  const label = `Latency of each probe over time; ${count(inRun.filter((s) => !s.ok).length, "failed sample")} marked at the top; chaos windows shaded.`;
  return [
    `<svg id="latency-timeline" viewBox="0 0 ${chart.width} ${chart.height}" role="img" aria-label="${esc(label)}"`,
    ` data-start="${report.startedAt}" data-end="${report.endedAt}">`,
    chaosRects(report, scale),
    latencyAxis(scale),
    timeAxis(report, scale),
    probes.join(""),
    "</svg>",
  ].join("");
}

function legend(report: RunReport): string {
  const probes = report.probes.map(
    (probe, index) =>
      `<span><span class="swatch" style="background:${palette[index % palette.length] ?? "#000"}"></span>${esc(probe.name)}` +
      ` (every ${esc(formatMs(probe.intervalMs))}${probe.target === undefined ? "" : `, ${esc(probe.target)}`})</span>`,
  );
  return (
    `<div class="legend">${probes.join("")}` +
    `<span><span class="swatch" style="background:#ffb86c"></span>chaos window</span>` +
    `<span><span class="fail-mark">&#x2715;</span> failed sample</span>` +
    `<span><span class="swatch" style="background:#f3a5ab"></span>longest unreachable stretch</span></div>`
  );
}

function summaryTable(report: RunReport): string {
  const scopes = [
    ...phaseNames.map((phase) => [phase, report.phases[phase]] as const),
    ["overall", report.overall] as const,
  ];
  const rows = report.probes.flatMap((probe) =>
    scopes.flatMap(([scope, window]) => {
      const figures = window.probes.find((candidate) => candidate.probe === probe.name);
      return figures === undefined ? [] : [summaryRow(figures, scope)];
    }),
  );
  const header = [
    "Probe",
    "Phase",
    "Sent",
    "OK",
    "Availability",
    "Longest unreachable",
    "p50",
    "p95",
    "p99",
    "max",
    "Failures",
  ]
    .map((text, index) => `<th${index < 2 || index === 10 ? ' class="text"' : ""}>${esc(text)}</th>`)
    .join("");
  const table = `<table id="summary-table"><thead><tr>${header}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
  return table + outageList(report);
}

/** One line per probe that failed: the window its failed samples lie in. */
function outageList(report: RunReport): string {
  const items = report.overall.probes.flatMap((figures) => {
    const line = outageLine(figures);
    const outage = figures.outage;
    if (line === undefined || outage === null) return [];
    const data = `data-probe="${esc(figures.probe)}" data-from="${outage.from}" data-to="${outage.to}"`;
    return [`<li class="outage" ${data}>${esc(`${figures.probe}: ${line}`)}</li>`];
  });
  return items.length === 0 ? "" : `<ul class="details" id="outages">${items.join("")}</ul>`;
}

const cellClasses = ["sent", "successes", "availability", "unreachable", "p50", "p95", "p99", "max"];

function summaryRow(figures: ProbeFigures, scope: keyof typeof phaseLabels): string {
  const cells = [
    ["text probe", figures.probe],
    ["text phase", phaseLabels[scope]],
    ...figureCells(figures).map((text, index) => [cellClasses[index] ?? "", text]),
    ["text errors", failureText(figures)],
  ];
  const tds = cells.map(([cls, text]) => `<td class="${cls ?? ""}">${esc(text ?? "")}</td>`).join("");
  return `<tr data-probe="${esc(figures.probe)}" data-phase="${scope}">${tds}</tr>`;
}

function list(items: readonly string[], className = "details"): string {
  return items.length === 0
    ? ""
    : `<ul class="${className}">${items.map((item) => `<li>${esc(item)}</li>`).join("")}</ul>`;
}

function faultHtml(fault: FaultReport, index: number): string {
  const ledger = fault.type === "pod" ? fault.ledgerIds : fault.changes.map((change) => change.ledgerId);
  const details =
    fault.type === "pod"
      ? [
          ...fault.victims.flatMap((v) => [victimLine(v), replacementLine(v)]),
          ...fault.workloads.map(workloadLine),
          ...feltLines(fault),
        ]
      : [...fault.changes.map(changeLine), ...feltLines(fault)];
  const problems = fault.problems.map((problem) => `<li class="problem">${esc(problem)}</li>`).join("");
  return (
    `<article class="fault" data-index="${index}" data-kind="${esc(fault.kind)}" data-recovered="${fault.recovered}">` +
    `<h3>${esc(faultHeadline(fault, index))}</h3>` +
    list([
      `targets: ${fault.targets.join(", ") || "none"}`,
      `ledger records: ${ledger.join(", ") || "none"}`,
      ...details,
    ]) +
    (problems === "" ? "" : `<ul class="details">${problems}</ul>`) +
    "</article>"
  );
}

function faultSection(report: RunReport): string {
  if (report.faults.length === 0) return "";
  return (
    `<section id="faults"><h2>Faults</h2>${report.faults.map(faultHtml).join("")}` +
    `<p>Replacements observed: <span id="replacements">${report.replacements.length}</span></p></section>`
  );
}

function restartSection(report: RunReport): string {
  const restarts = report.restarts;
  const summary = isolationSummary(report);
  if (restarts === undefined || summary === undefined) return "";
  return (
    `<section id="restarts" data-isolation-held="${restarts.isolationHeld}"><h2>Restarts</h2>` +
    `<p>Isolation held: <strong>${esc(summary)}</strong></p>` +
    list([
      ...restarts.targets.map((change) => `target ${restartLine(change)}`),
      ...restarts.nodeMates.map((change) => `node-mate ${restartLine(change)}`),
    ]) +
    "</section>"
  );
}

function checkSection(report: RunReport): string {
  if (report.checks.length === 0) return "";
  const rows = report.checks.map(
    (check) =>
      `<tr class="${check.passed ? "pass" : "fail"}" data-passed="${check.passed}">` +
      `<td class="text">${check.passed ? '<span class="pass-mark">pass</span>' : '<span class="fail-mark">FAIL</span>'}</td>` +
      `<td class="text">${esc(check.name)}</td><td class="text">${esc(describeSubject(check.subject))}</td>` +
      `<td class="text">${esc(describeOutcome(check))}</td></tr>`,
  );
  return (
    `<section id="checks"><h2>Hypothesis checks</h2><table id="checks-table"><thead><tr>` +
    `<th class="text">Result</th><th class="text">Check</th><th class="text">Figure</th><th class="text">Observed</th>` +
    `</tr></thead><tbody>${rows.join("")}</tbody></table></section>`
  );
}

export function renderHtml(report: RunReport): string {
  const result = report.verdict.result;
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Broadside run: ${esc(report.title)}</title>`,
    `<style>${reportCss}</style>`,
    "</head>",
    "<body>",
    `<header><h1>Broadside run: ${esc(report.title)}</h1>`,
    `<p id="verdict" class="verdict verdict-${result}" data-result="${result}">Verdict: ${verdictWord(report)}</p>`,
    list(verdictReasons(report), "details reasons"),
    `<p class="meta">Started ${esc(formatInstant(report.startedAt))}, ended ${esc(formatInstant(report.endedAt))}` +
      ` (${esc(formatMs(report.endedAt - report.startedAt))}); ${count(report.chaosWindows.length, "chaos window")}.</p></header>`,
    `<section id="timeline"><h2>Latency timeline</h2>${timeline(report)}${legend(report)}</section>`,
    `<section id="summary"><h2>Probe figures</h2>${summaryTable(report)}</section>`,
    faultSection(report),
    restartSection(report),
    checkSection(report),
    `<footer>${count(report.samples.length, "raw sample")} are kept in the JSON report (${reportApiVersion} ${reportKind},` +
      ` schema ${reportSchemaVersion}), so every figure on this page can be recomputed.</footer>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

import type { CliRun } from "./cli-runs.js";
import { total } from "./cluster-lists.js";
import { fitLine, median } from "./fit.js";
import type { AgentFigures, DryRuns, WarmFigures } from "./measure.js";
import type { Panel, Series } from "./plot.js";

/** Everything measured at one size of the envelope. */
export interface SizeResult {
  readonly pods: number;
  readonly namespaces: number;
  /** Growing from the previous size to this one, creates and Ready included. */
  readonly growMs: number;
  readonly machineUsedGiB: number;
  readonly loadAverage: readonly number[];
  readonly dryRuns: DryRuns;
  readonly agent: AgentFigures;
  readonly warm: WarmFigures;
}

/** One fitted quantity: its value per size, and the line through them (x in thousands of pods). */
interface Metric {
  readonly name: string;
  readonly unit: string;
  readonly value: (result: SizeResult) => number;
}

const medianMs = (runs: readonly CliRun[]) => median(runs.map((run) => run.ms));
const medianPeak = (runs: readonly CliRun[]) => median(runs.map((run) => run.peakMiB));

export const timeMetrics: readonly Metric[] = [
  { name: "kill --dry-run -A -l", unit: "ms", value: (r) => medianMs(r.dryRuns.all) },
  { name: "kill --dry-run -n NS -l", unit: "ms", value: (r) => medianMs(r.dryRuns.namespace) },
  { name: "agent: spawn to synced", unit: "ms", value: (r) => r.agent.syncMs },
];

export const shotMetrics: readonly Metric[] = [
  { name: "warm shot: raw DELETE", unit: "ms", value: (r) => r.warm.p50.raw },
  { name: "warm shot: cache pick + DELETE", unit: "ms", value: (r) => r.warm.p50.pick },
  { name: "warm shot: engine path", unit: "ms", value: (r) => r.warm.p50.engine },
];

export const memoryMetrics: readonly Metric[] = [
  { name: "kill --dry-run -A -l, peak", unit: "MiB", value: (r) => medianPeak(r.dryRuns.all) },
  { name: "kill --dry-run -n NS -l, peak", unit: "MiB", value: (r) => medianPeak(r.dryRuns.namespace) },
  { name: "agent, resident after quiet window", unit: "MiB", value: (r) => r.agent.quietEndMiB },
  { name: "agent, peak (VmHWM)", unit: "MiB", value: (r) => r.agent.peakMiB },
];

const allMetrics = [...timeMetrics, ...shotMetrics, ...memoryMetrics];

export interface Fit {
  readonly name: string;
  readonly unit: string;
  readonly perThousandPods: number;
  readonly atZero: number;
  readonly r2: number;
  readonly at150k: number;
}

export function fits(results: readonly SizeResult[]): Fit[] {
  return allMetrics.flatMap((metric) => {
    const line = fitLine(results.map((result) => [result.pods / 1000, metric.value(result)] as const));
    if (line === undefined) return [];
    const { slope, intercept, r2 } = line;
    const fit = { name: metric.name, unit: metric.unit, perThousandPods: slope, atZero: intercept, r2 };
    return [{ ...fit, at150k: intercept + slope * 150 }];
  });
}

export function panels(results: readonly SizeResult[]): Panel[] {
  const series = (metrics: readonly Metric[], scale = 1): Series[] =>
    metrics.map((metric) => ({
      name: metric.name,
      points: results.map((result) => [result.pods, metric.value(result) / scale] as const),
    }));
  return [
    { title: "Time, spawn to exit / to synced", unit: "s", series: series(timeMetrics, 1000) },
    { title: "Warm shot, median", unit: "ms", series: series(shotMetrics) },
    { title: "Memory", unit: "MiB", series: series(memoryMetrics) },
  ];
}

const n = (value: number, digits = 0) =>
  value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function markdown(results: readonly SizeResult[]): string {
  const head = [
    "| pods | ns | -A time | -A peak | -n time | -n peak | agent synced | agent RSS ready / after | agent peak | warm raw / pick / engine | cluster LISTs in quiet window (all clients / agent) | machine used |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  const rows = results.map((r) => {
    const agentLists = r.agent.agentRequests?.list;
    return `| ${n(r.pods)} | ${r.namespaces} | ${n(medianMs(r.dryRuns.all))} ms | ${n(medianPeak(r.dryRuns.all))} MiB | ${n(medianMs(r.dryRuns.namespace))} ms | ${n(medianPeak(r.dryRuns.namespace))} MiB | ${n(r.agent.syncMs / 1000, 1)} s | ${n(r.agent.readyMiB)} / ${n(r.agent.quietEndMiB)} MiB | ${n(r.agent.peakMiB)} MiB | ${n(r.warm.p50.raw, 1)} / ${n(r.warm.p50.pick, 1)} / ${n(r.warm.p50.engine, 1)} ms | ${total(r.agent.apiserverClusterLists)} / ${agentLists ?? "?"} in ${r.agent.quietSeconds} s | ${n(r.machineUsedGiB, 1)} GiB |`;
  });
  const fitRows = fits(results).map(
    (fit) =>
      `| ${fit.name} | ${n(fit.perThousandPods, 2)} ${fit.unit} | ${n(fit.atZero, 1)} ${fit.unit} | ${n(fit.r2, 3)} | ${n(fit.at150k)} ${fit.unit} |`,
  );
  return [
    ...head,
    ...rows,
    "",
    "| quantity | growth per 1,000 pods | fitted at 0 pods | r² | extrapolated to 150,000 pods |",
    "| --- | --- | --- | --- | --- |",
    ...fitRows,
    "",
  ].join("\n");
}

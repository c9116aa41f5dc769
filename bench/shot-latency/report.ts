import type { FleetTimings } from "./fleet.js";
import type { ShotMeasurement, Tool } from "./shots.js";

/** Everything measured for one size: the counted rounds, the warm-up round, and the set-up timings. */
export interface SizeResult {
  readonly pods: number;
  readonly namespace: string;
  readonly fleet: FleetTimings;
  /** Bytes of `GET /api/v1/namespaces/bench-N/pods` as JSON: the LIST both tools pay for. */
  readonly listBytes: number;
  readonly warmup: readonly ShotMeasurement[];
  /** In the order they ran: broadside, kubectl, broadside, kubectl... */
  readonly shots: readonly ShotMeasurement[];
  /** Per counted round, each tool's start-up floor in ms (see startupFloor). */
  readonly floors: { readonly broadside: readonly number[]; readonly kubectl: readonly number[] };
}

export interface ToolSummary {
  readonly rounds: number;
  readonly latencyMs: { readonly median: number; readonly min: number; readonly max: number };
  readonly requestsToDelete: number;
  readonly requestsTotal: number;
  readonly exitMs: number;
  /** Median start-up floor: one process doing nothing but start and exit. */
  readonly startupFloorMs: number;
  /** kubectl only: median time until the victim was chosen (get | sort | head). */
  readonly pickMs?: number;
}

export interface SizeSummary {
  readonly pods: number;
  readonly broadside: ToolSummary;
  readonly kubectl: ToolSummary;
  /** kubectl's median latency divided by Broadside's: above 1, Broadside is faster. */
  readonly ratio: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  if (sorted.length % 2 === 1) return upper;
  return ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

function summarizeTool(result: SizeResult, tool: Tool): ToolSummary {
  const mine = result.shots.filter((shot) => shot.tool === tool);
  const latencies = mine.map((shot) => shot.latencyMs);
  const picks = mine.flatMap((shot) => (shot.pickMs === undefined ? [] : [shot.pickMs]));
  return {
    rounds: mine.length,
    latencyMs: { median: median(latencies), min: Math.min(...latencies), max: Math.max(...latencies) },
    requestsToDelete: median(mine.map((shot) => shot.requestsToDelete)),
    requestsTotal: median(mine.map((shot) => shot.requestsTotal)),
    exitMs: median(mine.map((shot) => shot.exitMs)),
    startupFloorMs: median(result.floors[tool]),
    ...(picks.length === 0 ? {} : { pickMs: median(picks) }),
  };
}

export function summarize(result: SizeResult): SizeSummary {
  const broadside = summarizeTool(result, "broadside");
  const kubectl = summarizeTool(result, "kubectl");
  return {
    pods: result.pods,
    broadside,
    kubectl,
    ratio: kubectl.latencyMs.median / broadside.latencyMs.median,
  };
}

function latencyCell(summary: ToolSummary): string {
  const { median: mid, min, max } = summary.latencyMs;
  return `${Math.round(mid)} (${min}-${max})`;
}

function requestsCell(summary: ToolSummary): string {
  return summary.requestsTotal === summary.requestsToDelete
    ? String(summary.requestsToDelete)
    : `${summary.requestsToDelete} (${summary.requestsTotal} with its wait)`;
}

/** The results as a Markdown table: one row per size, both tools side by side, and their ratio. */
export function markdownTable(summaries: readonly SizeSummary[]): string {
  const header = [
    "| pods | Broadside ms, median (min-max) | kubectl script ms, median (min-max) | kubectl / Broadside | Broadside API requests | kubectl script API requests |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const rows = summaries.map(
    (s) =>
      `| ${s.pods.toLocaleString("en-US")} | ${latencyCell(s.broadside)} | ${latencyCell(s.kubectl)} | ${s.ratio.toFixed(2)} | ${requestsCell(s.broadside)} | ${requestsCell(s.kubectl)} |`,
  );
  return `${[...header, ...rows].join("\n")}\n`;
}

const ms = (value: number | undefined): string => (value === undefined ? "-" : String(Math.round(value)));

/**
 * Where the time goes, from the medians: each tool's start-up floor, and for kubectl the two halves of the
 * script (choosing the victim, then the second kubectl up to "deleted").
 */
export function breakdownTable(summaries: readonly SizeSummary[]): string {
  const header = [
    "| pods | Broadside: start-up floor | Broadside: the rest | kubectl: start-up floor | kubectl script: get, sort, head | kubectl script: delete |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const rows = summaries.map((s) => {
    const { broadside: b, kubectl: k } = s;
    const pick = k.pickMs;
    const cells = [
      s.pods.toLocaleString("en-US"),
      ms(b.startupFloorMs),
      ms(b.latencyMs.median - b.startupFloorMs),
      ms(k.startupFloorMs),
      ms(pick),
      ms(pick === undefined ? undefined : k.latencyMs.median - pick),
    ];
    return `| ${cells.join(" | ")} |`;
  });
  return `${[...header, ...rows].join("\n")}\n`;
}

import type { FleetTimings } from "./fleet.js";
import type { ShotMeasurement, Tool } from "./shots.js";

/** Everything measured for one size: the counted rounds, the warm-up round, and the set-up timings. */
export interface SizeResult {
  readonly pods: number;
  readonly namespace: string;
  readonly fleet: FleetTimings;
  /** Bytes of `GET /api/v1/namespaces/bench-N/pods` as JSON: the LIST every tool pays for. */
  readonly listBytes: number;
  readonly warmup: readonly ShotMeasurement[];
  /** In the order they ran, tool after tool, round after round. */
  readonly shots: readonly ShotMeasurement[];
  /** Per counted round, each process tool's start-up floor in ms (see startupFloor). */
  readonly floors: Partial<Record<Tool, readonly number[]>>;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface ToolSummary {
  readonly rounds: number;
  readonly latencyMs: Spread;
  readonly exitMs: Spread;
  /** The tool's own count up to the DELETE (undefined: the tool cannot tell). */
  readonly requestsToDelete?: number;
  readonly requestsTotal?: number;
  /** The API server's count during the shot: the median total, and the verbs of a shot with that total. */
  readonly serverCounted?: { readonly total: number; readonly verbs: Record<string, number> };
  readonly maxRssKiB?: Spread;
  /** Median start-up floor: one process doing nothing but start and exit. */
  readonly startupFloorMs?: number;
  /** kubectl only: median time until the victim was chosen (get | sort | head). */
  readonly pickMs?: number;
  /** raw only: the median LIST and DELETE. */
  readonly listMs?: number;
  readonly deleteMs?: number;
}

export interface SizeSummary {
  readonly pods: number;
  readonly listBytes: number;
  readonly tools: Partial<Record<Tool, ToolSummary>>;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  if (sorted.length % 2 === 1) return upper;
  return ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** The median of the values present; undefined when no shot had one. */
function medianOf(values: readonly (number | undefined)[]): number | undefined {
  const present = values.filter((value): value is number => value !== undefined);
  return present.length === 0 ? undefined : median(present);
}

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

function serverCounted(shots: readonly ShotMeasurement[]): ToolSummary["serverCounted"] {
  const counted = shots.flatMap((shot) => (shot.serverCounted === undefined ? [] : [shot.serverCounted]));
  if (counted.length === 0) return undefined;
  const total = median(counted.map(sum));
  const typical = counted.find((verbs) => sum(verbs) === total) ?? counted[0] ?? {};
  return { total, verbs: typical };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function summarizeTool(result: SizeResult, mine: readonly ShotMeasurement[], tool: Tool): ToolSummary {
  const rss = mine.flatMap((shot) => (shot.maxRssKiB === undefined ? [] : [shot.maxRssKiB]));
  const floors = result.floors[tool];
  return {
    rounds: mine.length,
    latencyMs: spread(mine.map((shot) => shot.latencyMs)),
    exitMs: spread(mine.map((shot) => shot.exitMs)),
    ...optional("requestsToDelete", medianOf(mine.map((shot) => shot.requestsToDelete))),
    ...optional("requestsTotal", medianOf(mine.map((shot) => shot.requestsTotal))),
    ...optional("serverCounted", serverCounted(mine)),
    ...optional("maxRssKiB", rss.length === 0 ? undefined : spread(rss)),
    ...optional("startupFloorMs", floors === undefined ? undefined : median(floors)),
    ...optional("pickMs", medianOf(mine.map((shot) => shot.pickMs))),
    ...optional("listMs", medianOf(mine.map((shot) => shot.listMs))),
    ...optional("deleteMs", medianOf(mine.map((shot) => shot.deleteMs))),
  };
}

export function summarize(result: SizeResult): SizeSummary {
  const tools: Partial<Record<Tool, ToolSummary>> = {};
  for (const tool of toolOrder) {
    const mine = result.shots.filter((shot) => shot.tool === tool);
    if (mine.length > 0) tools[tool] = summarizeTool(result, mine, tool);
  }
  return { pods: result.pods, listBytes: result.listBytes, tools };
}

export const toolOrder: readonly Tool[] = ["broadside", "kubectl", "chaostoolkit", "raw"];

const toolTitle: Record<Tool, string> = {
  broadside: "Broadside",
  kubectl: "kubectl script",
  chaostoolkit: "Chaos Toolkit",
  raw: "raw LIST + DELETE",
};

const ms = (value: number | undefined): string => (value === undefined ? "-" : String(Math.round(value)));
const count = (pods: number): string => pods.toLocaleString("en-US");

function spreadCell(value: Spread | undefined, scale = 1): string {
  if (value === undefined) return "-";
  const r = (x: number) => Math.round(x / scale);
  return `${r(value.median)} (${r(value.min)}-${r(value.max)})`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [header, header.map((_, i) => (i === 0 ? "---" : "---:")), ...rows];
  return `${lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n")}\n`;
}

function presentTools(summaries: readonly SizeSummary[]): Tool[] {
  return toolOrder.filter((tool) => summaries.some((s) => s.tools[tool] !== undefined));
}

/** Median (min-max) ms from start to the DELETE accepted, one column per tool, and each peer's ratio. */
export function latencyTable(summaries: readonly SizeSummary[]): string {
  const tools = presentTools(summaries);
  const peers = tools.filter((tool) => tool !== "broadside");
  const header = [
    "pods",
    ...tools.map((tool) => `${toolTitle[tool]} ms`),
    ...(tools.includes("broadside") ? peers.map((tool) => `${toolTitle[tool]} / Broadside`) : []),
  ];
  const rows = summaries.map((s) => {
    const base = s.tools.broadside?.latencyMs.median;
    const ratios = tools.includes("broadside")
      ? peers.map((tool) => ratioCell(s.tools[tool]?.latencyMs.median, base))
      : [];
    return [count(s.pods), ...tools.map((tool) => spreadCell(s.tools[tool]?.latencyMs)), ...ratios];
  });
  return table(header, rows);
}

function ratioCell(peer: number | undefined, base: number | undefined): string {
  return peer === undefined || base === undefined ? "-" : (peer / base).toFixed(2);
}

/** Median (min-max) ms from start to the last process's exit. */
export function exitTable(summaries: readonly SizeSummary[]): string {
  const tools = presentTools(summaries).filter((tool) => tool !== "raw");
  const rows = summaries.map((s) => [
    count(s.pods),
    ...tools.map((tool) => spreadCell(s.tools[tool]?.exitMs)),
  ]);
  return table(["pods", ...tools.map((tool) => `${toolTitle[tool]} ms`)], rows);
}

/**
 * What the server counts beyond a shot's own requests: the raw shot sends exactly 2 (LIST, DELETE), so
 * its server count less 2 is the echo of a pod deletion (kwok's own final DELETE). Undefined without raw.
 */
function serverEcho(s: SizeSummary): number | undefined {
  const raw = s.tools.raw;
  if (raw?.serverCounted === undefined || raw.requestsToDelete === undefined) return undefined;
  return raw.serverCounted.total - raw.requestsToDelete;
}

function ownCount(summary: ToolSummary, echo: number | undefined): string {
  if (summary.requestsToDelete !== undefined) {
    return summary.requestsTotal === summary.requestsToDelete
      ? String(summary.requestsToDelete)
      : `${summary.requestsToDelete} (${summary.requestsTotal ?? "?"} to exit)`;
  }
  // A tool that cannot count (Chaos Toolkit): the server's count less the echo the raw shot measured.
  const server = summary.serverCounted;
  if (server === undefined || echo === undefined) return "n/a";
  return `${server.total - echo} (server's, less ${echo} as for raw)`;
}

function requestsCell(summary: ToolSummary | undefined, echo: number | undefined): string {
  if (summary === undefined) return "-";
  const own = ownCount(summary, echo);
  const server = summary.serverCounted;
  if (server === undefined) return own;
  const verbs = Object.entries(server.verbs)
    .map(([verb, n]) => `${n} ${verb}`)
    .join(", ");
  return `${own}; server: ${server.total} (${verbs})`;
}

/** API requests: the tool's own count to the DELETE, and the API server's count to the tool's exit. */
export function requestsTable(summaries: readonly SizeSummary[]): string {
  const tools = presentTools(summaries);
  const rows = summaries.map((s) => [
    count(s.pods),
    ...tools.map((tool) => requestsCell(s.tools[tool], serverEcho(s))),
  ]);
  return table(["pods", ...tools.map((tool) => toolTitle[tool])], rows);
}

/** Peak RSS per process, MiB, median (min-max). */
export function memoryTable(summaries: readonly SizeSummary[]): string {
  const tools = presentTools(summaries).filter((tool) => tool !== "raw");
  const rows = summaries.map((s) => [
    count(s.pods),
    (s.listBytes / 2 ** 20).toFixed(1),
    ...tools.map((tool) => spreadCell(s.tools[tool]?.maxRssKiB, 1024)),
  ]);
  return table(["pods", "LIST MiB (JSON)", ...tools.map((tool) => `${toolTitle[tool]} MiB`)], rows);
}

/**
 * Where the time goes, from the medians: each tool's start-up floor, the kubectl script's two halves
 * (choosing the victim, then the second kubectl up to "deleted"), and the raw LIST and DELETE.
 */
export function breakdownTable(summaries: readonly SizeSummary[]): string {
  const header = [
    "pods",
    "Broadside: start-up floor",
    "Broadside: the rest",
    "kubectl: start-up floor",
    "kubectl script: get, sort, head",
    "kubectl script: delete",
    "Chaos Toolkit: start-up floor",
    "raw LIST",
    "raw DELETE",
  ];
  return table(header, summaries.map(breakdownRow));
}

function difference(whole: number | undefined, part: number | undefined): number | undefined {
  return whole === undefined || part === undefined ? undefined : whole - part;
}

function breakdownRow(s: SizeSummary): string[] {
  const { broadside: b, kubectl: k, chaostoolkit: c, raw } = s.tools;
  const rest = difference(b?.latencyMs.median, b?.startupFloorMs);
  const pick = k?.pickMs;
  const deletion = difference(k?.latencyMs.median, pick);
  return [
    count(s.pods),
    ms(b?.startupFloorMs),
    ms(rest),
    ms(k?.startupFloorMs),
    ms(pick),
    ms(deletion),
    ms(c?.startupFloorMs),
    ms(raw?.listMs),
    ms(raw?.deleteMs),
  ];
}

/** One of issue 14's goals at one size. */
export interface GoalCheck {
  readonly goal: string;
  readonly pods: number;
  /** The measured ratio, or undefined when a tool it needs was not run. */
  readonly measured: number | undefined;
  readonly wanted: string;
  readonly met: boolean | undefined;
}

/** The issue's latency goals, as ratios of the medians (to the DELETE accepted). */
export function goals(summaries: readonly SizeSummary[]): GoalCheck[] {
  const minimumVsKubectl: Record<number, number> = { 100: 1, 1000: 2, 10000: 5 };
  return summaries.flatMap((s) => {
    const b = s.tools.broadside?.latencyMs.median;
    const checks: GoalCheck[] = [];
    const atLeast = (goal: string, peer: number | undefined, minimum: number): GoalCheck => {
      const measured = peer === undefined || b === undefined ? undefined : peer / b;
      const wanted = minimum === 1 ? "≥ 1 (no slower)" : `≥ ${minimum}×`;
      return {
        goal,
        pods: s.pods,
        measured,
        wanted,
        met: measured === undefined ? undefined : measured >= minimum,
      };
    };
    const vsKubectl = minimumVsKubectl[s.pods];
    if (vsKubectl !== undefined) {
      checks.push(atLeast("kubectl script / Broadside", s.tools.kubectl?.latencyMs.median, vsKubectl));
    }
    checks.push(atLeast("Chaos Toolkit / Broadside", s.tools.chaostoolkit?.latencyMs.median, 5));
    if (s.pods === 10000) {
      const limit = s.tools.raw?.latencyMs.median;
      const measured = limit === undefined || b === undefined ? undefined : b / limit;
      checks.push({
        goal: "Broadside / (raw LIST + raw DELETE)",
        pods: s.pods,
        measured,
        wanted: "≤ 1.5×",
        met: measured === undefined ? undefined : measured <= 1.5,
      });
    }
    return checks;
  });
}

export function goalsTable(checks: readonly GoalCheck[]): string {
  const rows = checks.map((c) => [
    c.goal,
    count(c.pods),
    c.measured === undefined ? "-" : c.measured.toFixed(2),
    c.wanted,
    c.met === undefined ? "not measured" : c.met ? "met" : "not met",
  ]);
  return table(["goal (ratio of medians)", "pods", "measured", "wanted", "verdict"], rows);
}

import { systemClock } from "../../core/clock.js";
import { BroadsideError } from "../../core/errors.js";
import { isRecord } from "../../core/objects.js";
import type { PromComparator, PrometheusProbe } from "../files/model.js";
import type { Sample } from "../report/samples.js";
import type { ProbeOptions, RunningProbe } from "./http-probe.js";
import { guardLoopback, sampleAtFixedRate } from "./http-probe.js";
import { send } from "./request.js";
import type { ProbeOutcome } from "./request.js";

/**
 * Instant PromQL queries (GET /api/v1/query). A sample succeeds when the result has at least one value
 * and every value satisfies `<value> <comparator> <threshold>`: an empty vector is no evidence, and one
 * bad series among many is a breach.
 */

export function compare(value: number, comparator: PromComparator, threshold: number): boolean {
  switch (comparator) {
    case ">":
      return value > threshold;
    case ">=":
      return value >= threshold;
    case "<":
      return value < threshold;
    case "<=":
      return value <= threshold;
    case "==":
      return value === threshold;
    case "!=":
      return value !== threshold;
  }
}

/** Prometheus writes sample values as strings, in Go's spelling of infinities and NaN. */
export function parsePromNumber(text: unknown): number | undefined {
  if (typeof text !== "string") return undefined;
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const value = Number(text);
  return text.trim() === "" || Number.isNaN(value) ? undefined : value;
}

/** The values of an instant query's answer, or why there are none. */
export type QueryResult = { readonly values: readonly number[] } | { readonly error: string };

/** [timestamp, "value"], as in a scalar result and in each series of a vector. */
function pointValue(point: unknown): number | undefined {
  return Array.isArray(point) && point.length === 2 ? parsePromNumber(point[1]) : undefined;
}

function resultValues(resultType: unknown, result: unknown): QueryResult {
  if (resultType === "scalar") {
    const value = pointValue(result);
    return value === undefined ? { error: "malformed scalar" } : { values: [value] };
  }
  if (resultType !== "vector") return { error: `unsupported result type ${String(resultType)}` };
  if (!Array.isArray(result)) return { error: "malformed vector" };
  const values: number[] = [];
  for (const series of result) {
    const value = isRecord(series) ? pointValue(series.value) : undefined;
    if (value === undefined) return { error: "malformed vector" };
    values.push(value);
  }
  return { values };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** "errorType: error" of an error document (`{status: "error", ...}`), else undefined. */
export function apiErrorOf(json: unknown): string | undefined {
  if (!isRecord(json) || json.status !== "error") return undefined;
  const kind = typeof json.errorType === "string" ? json.errorType : "error";
  return typeof json.error === "string" ? `${kind}: ${json.error}` : kind;
}

/**
 * Reads the JSON of the Prometheus HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/):
 * `{status: "success", data: {resultType, result}}` or `{status: "error", errorType, error}`.
 */
export function parseQueryResponse(body: string): QueryResult {
  const json = parseJson(body);
  if (json === undefined) return { error: "not JSON" };
  const apiError = apiErrorOf(json);
  if (apiError !== undefined) return { error: apiError };
  if (!isRecord(json) || json.status !== "success" || !isRecord(json.data))
    return { error: "not a Prometheus API answer" };
  return resultValues(json.data.resultType, json.data.result);
}

/** Whether the values pass; NaN never does, since it is no measurement at all. */
export function judge(result: QueryResult, comparator: PromComparator, threshold: number): Sample["error"] {
  if ("error" in result) return result.error;
  if (result.values.length === 0) return "empty result";
  if (result.values.some((value) => Number.isNaN(value))) return "NaN value";
  // One constant text per probe, so that reports group these failures together.
  const holds = result.values.every((value) => compare(value, comparator, threshold));
  return holds ? undefined : `not ${comparator} ${threshold}`;
}

export function prometheusSample(probe: PrometheusProbe, sentAt: number, outcome: ProbeOutcome): Sample {
  const base = { probe: probe.name, sentAt, latencyMs: outcome.latencyMs };
  if ("error" in outcome) return { ...base, ok: false, error: outcome.error };
  const { status } = outcome;
  if (status !== 200) {
    // Prometheus answers 400/422/503 with an error document whose message says more than the status;
    // anything else (a proxy's page) is reported by its status alone.
    const error = apiErrorOf(parseJson(outcome.body));
    return error === undefined ? { ...base, ok: false, status } : { ...base, ok: false, status, error };
  }
  const error = judge(parseQueryResponse(outcome.body), probe.comparator, probe.threshold);
  return error === undefined ? { ...base, ok: true, status } : { ...base, ok: false, status, error };
}

/** `<base>/api/v1/query?query=...`, keeping any path prefix of the base (Prometheus behind a proxy). */
export function queryUrl(base: URL, query: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/api/v1/query`;
  url.search = "";
  url.searchParams.set("query", query);
  return url;
}

export interface PrometheusProbeOptions extends ProbeOptions {
  /** The configured Prometheus URL, for probes that name none. */
  readonly defaultUrl?: string;
}

/** Starts querying at the probe's frequency. Throws for a missing URL or one the loopback guard refuses. */
export function startPrometheusProbe(probe: PrometheusProbe, options: PrometheusProbeOptions): RunningProbe {
  const base = probe.url ?? options.defaultUrl;
  if (base === undefined) {
    throw new BroadsideError(
      "BRD_USAGE",
      `probe ${probe.name}: no Prometheus URL; set prometheus.url or configure one`,
    );
  }
  const url = queryUrl(guardLoopback(probe.name, base, options.loopbackOnly), probe.query);
  const clock = options.clock ?? systemClock;
  const request = {
    url,
    method: "GET",
    headers: { accept: "application/json" },
    timeoutMs: probe.timeout.milliseconds,
    keepBodyBytes: 4 * 1024 * 1024,
  };
  // At most 1 Hz with a timeout of seconds: a few overlapping queries at most; more would only pile
  // load on a Prometheus that is already slow.
  return sampleAtFixedRate(clock, probe.frequencyHz, options.maxInFlight ?? 4, options, async (sentAt) =>
    prometheusSample(probe, sentAt, await send(request)),
  );
}

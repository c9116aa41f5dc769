import { usageError } from "../core/errors.js";
import { optional } from "../core/objects.js";
import type { Probe } from "../experiments/files/model.js";
import { httpProbeSchema, toProbe } from "../experiments/files/probes.js";

/**
 * `--probe SPEC`: an http probe given on the command line, for Chaos Mesh manifests (which have no
 * hypothesis) or to add one to an Experiment. SPEC is a URL, or comma-separated key=value pairs:
 *
 *   --probe http://127.0.0.1:18080/
 *   --probe "url=http://127.0.0.1:18080/,frequency=5,tolerance=availability >= 99.9%,tolerance=p95 <= 200ms"
 *
 * Keys mean what the file's http probe fields mean (docs/experiments.md) and are checked by the same
 * schema, so a flag and a file can never disagree about what a probe is.
 */

const keys = [
  "name",
  "url",
  "method",
  "frequency",
  "timeout",
  "expect",
  "latency-threshold",
  "tolerance",
] as const;
type Key = (typeof keys)[number];

function isKey(key: string): key is Key {
  return (keys as readonly string[]).includes(key);
}

function pairsOf(spec: string, flag: string): Map<Key, string[]> {
  const pairs = new Map<Key, string[]>();
  for (const part of spec.split(",")) {
    const at = part.indexOf("=");
    const key = part.slice(0, at).trim();
    if (at < 0 || !isKey(key)) {
      throw usageError(flag, `"${part}" is not key=value with a key among ${keys.join(", ")}`);
    }
    pairs.set(key, [...(pairs.get(key) ?? []), part.slice(at + 1).trim()]);
  }
  return pairs;
}

function single(pairs: Map<Key, string[]>, key: Key, flag: string): string | undefined {
  const values = pairs.get(key);
  if (values !== undefined && values.length > 1) throw usageError(flag, `${key} is given more than once`);
  return values?.[0];
}

function numberOrText(text: string): number | string {
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

/** The probe as a file would write it, for probeSchema to check. */
function rawProbe(spec: string, index: number, flag: string): Record<string, unknown> {
  const pairs =
    /^(https?|front-door):\/\//.test(spec) && !spec.includes(",")
      ? new Map([["url", [spec]]] as [Key, string[]][])
      : pairsOf(spec, flag);
  const http: Record<string, unknown> = {};
  const fields: [Key, string, (text: string) => unknown][] = [
    ["url", "url", (text) => text],
    ["method", "method", (text) => text.toUpperCase()],
    ["frequency", "frequency", numberOrText],
    ["timeout", "timeout", (text) => text],
    ["expect", "expectStatus", (text) => text.split("|").map(numberOrText)],
    ["latency-threshold", "latencyThreshold", (text) => text],
  ];
  for (const [key, field, convert] of fields) {
    const value = single(pairs, key, flag);
    if (value !== undefined) http[field] = convert(value);
  }
  const tolerances = pairs.get("tolerance");
  return {
    name: single(pairs, "name", flag) ?? `probe-${String(index + 1)}`,
    http,
    ...optional("tolerances", tolerances),
  };
}

/** Parses every --probe; the error names the flag occurrence and the bad field. */
export function probesFromFlags(specs: readonly string[]): Probe[] {
  return specs.map((spec, index) => {
    const flag = specs.length === 1 ? "--probe" : `--probe #${String(index + 1)}`;
    const result = httpProbeSchema.safeParse(rawProbe(spec, index, flag), { reportInput: true });
    if (result.success) return toProbe(result.data);
    const problems = result.error.issues.map((issue) => {
      const path = issue.path
        .filter((part) => part !== "http")
        .map(String)
        .join(".");
      return path === "" ? issue.message : `${path}: ${issue.message}`;
    });
    throw usageError(flag, problems.join("; "));
  });
}

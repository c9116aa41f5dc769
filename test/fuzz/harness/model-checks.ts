import { Duration } from "../adapters.js";
import { int32Max, isDnsLabel, isDnsSubdomain } from "../generators/rules.js";

/**
 * What must hold of anything Broadside accepted from a file, whatever the file said: names that can
 * reach a path or an API URL are names, durations fit a timer, counts fit int32, and no selector key
 * written in the file was lost on the way (a lost key widens the target).
 */

type Walker = (key: string, value: unknown, path: string) => string | undefined;

const timerMax = 2 ** 31 - 1;

function walk(value: unknown, visit: Walker, path = "", seen = new Set<unknown>()): string[] {
  if (typeof value !== "object" || value === null || seen.has(value)) return [];
  seen.add(value);
  const problems: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const where = `${path}.${key}`;
    const problem = visit(key, child, where);
    if (problem !== undefined) problems.push(`${where}: ${problem}`);
    if (!(child instanceof Duration)) problems.push(...walk(child, visit, where, seen));
  }
  return problems;
}

function durationProblem(value: unknown): string | undefined {
  if (!(value instanceof Duration)) return undefined;
  const ms = value.milliseconds;
  return Number.isFinite(ms) && ms <= timerMax ? undefined : `a duration of ${String(ms)} ms was accepted`;
}

const countKeys = new Set([
  "gracePeriodSeconds",
  "replicas",
  "historyLimit",
  "startingDeadlineSeconds",
  "count",
  "workers",
]);

function countProblem(key: string, value: unknown): string | undefined {
  if (!countKeys.has(key) || typeof value !== "number") return undefined;
  return Number.isInteger(value) && value >= 0 && value <= int32Max
    ? undefined
    : `${String(value)} was accepted`;
}

function listProblem(values: unknown, valid: (text: unknown) => boolean, what: string): string | undefined {
  if (!Array.isArray(values)) return undefined;
  const bad: unknown = (values as unknown[]).find((item) => !valid(item));
  return bad === undefined ? undefined : `${JSON.stringify(bad)} was accepted as ${what}`;
}

function refProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { namespace, name } = value as { namespace?: unknown; name?: unknown };
  if (namespace !== undefined && !isDnsLabel(namespace))
    return `namespace ${JSON.stringify(namespace)} was accepted`;
  if (name !== undefined && !isDnsSubdomain(name)) return `name ${JSON.stringify(name)} was accepted`;
  return undefined;
}

function nameProblem(key: string, value: unknown): string | undefined {
  switch (key) {
    case "namespaces":
      return listProblem(value, isDnsLabel, "a namespace");
    case "nodeNames":
      return listProblem(value, isDnsSubdomain, "a node name");
    case "pods":
      return Array.isArray(value)
        ? value.map(refProblem).find((problem) => problem !== undefined)
        : undefined;
    case "params":
    case "target":
      return refProblem(value);
    default:
      return undefined;
  }
}

/** Problems of an accepted model or plan, each "path: what was accepted". */
export function acceptedProblems(model: unknown): string[] {
  return walk(
    model,
    (key, value) => durationProblem(value) ?? countProblem(key, value) ?? nameProblem(key, value),
  );
}

function selectorsIn(value: unknown): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  walk(value, (key, child) => {
    if (key === "selector" && typeof child === "object" && child !== null)
      found.push(child as Record<string, unknown>);
    return undefined;
  });
  return found;
}

function ownKeys(value: unknown): string[] {
  return typeof value === "object" && value !== null ? Object.keys(value) : [];
}

/** Selector keys the file wrote that the model lost: each one widens the target. */
export function lostSelectorKeys(doc: unknown, model: unknown): string[] {
  const written = selectorsIn(doc);
  const kept = selectorsIn(model);
  const labels = kept
    .map((selector) => (typeof selector.labelSelector === "string" ? selector.labelSelector : ""))
    .join(",");
  const annotations = new Set(kept.flatMap((selector) => ownKeys(selector.annotationSelectors)));
  return written.flatMap((selector) => [
    ...ownKeys(selector.labelSelectors)
      .filter((key) => !labels.split(",").some((requirement) => requirement.startsWith(`${key}=`)))
      .map((key) => `labelSelectors ${JSON.stringify(key)}`),
    ...ownKeys(selector.annotationSelectors)
      .filter((key) => !annotations.has(key))
      .map((key) => `annotationSelectors ${JSON.stringify(key)}`),
  ]);
}

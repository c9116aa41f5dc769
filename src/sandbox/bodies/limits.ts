import type { V1Container } from "@kubernetes/client-node";
import type { Limits } from "./cgroups.js";

/*
 * A container's resources.limits as numbers for its cgroup. Kubernetes quantities: memory in bytes with
 * the binary (Ki, Mi, Gi, Ti) or decimal (k, M, G, T) suffixes, CPU in cores or millicores ("500m").
 * The API server has already checked them; a value that does not read is reported and left unlimited.
 */

const memoryUnits: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

export function parseMemory(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text.trim());
  if (match === null) return undefined;
  const bytes = Math.ceil(Number(match[1]) * (memoryUnits[match[2] ?? ""] ?? Number.NaN));
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

export function parseCpuMillis(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(m)?$/.exec(text.trim());
  if (match === null) return undefined;
  const millis = Math.ceil(Number(match[1]) * (match[2] === "m" ? 1 : 1000));
  return Number.isSafeInteger(millis) && millis > 0 ? millis : undefined;
}

export interface ParsedLimits {
  readonly limits: Limits;
  readonly problems: readonly string[];
}

export function containerLimits(container: Pick<V1Container, "resources">): ParsedLimits {
  const raw = container.resources?.limits ?? {};
  const problems: string[] = [];
  const read = (name: string, parse: (text: string) => number | undefined): number | undefined => {
    const text = raw[name];
    if (text === undefined) return undefined;
    const value = parse(text);
    if (value === undefined)
      problems.push(`limits.${name} ${JSON.stringify(text)} does not read; left unlimited`);
    return value;
  };
  return {
    limits: { memoryBytes: read("memory", parseMemory), cpuMillis: read("cpu", parseCpuMillis) },
    problems,
  };
}

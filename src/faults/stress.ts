import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { BroadsideError } from "../core/errors.js";
import { stressWorkSchema } from "../core/node-work.js";
import type { NodeWorkSpec, StressWork } from "../core/node-work.js";
import { planNetworkTargets } from "./network.js";
import type { NetworkTarget } from "./network.js";

/*
 * StressChaos (issue 12, ADR 0040): memory and CPU stressors run by the node daemon inside the target
 * container's cgroups. This module plans: the container chosen and checked on every pod, and the seed's
 * safety check, before anything is written: a memory stress on a container without a memory limit is
 * refused, naming the container, unless --unsafe (the daemon checks the cgroup's limit again).
 */

/**
 * Every chosen pod on a node, with the container (by default its first), and, for a memory stress, a
 * memory limit on that container. Nothing is written either way.
 */
export function planStressTargets(
  pods: readonly V1Pod[],
  stress: StressWork,
  options: { readonly container?: string | undefined; readonly unsafe: boolean },
): NetworkTarget[] {
  const targets = planNetworkTargets(pods);
  return targets.map((target, at) => checkTarget(target, pods[at], stress, options));
}

function checkTarget(
  target: NetworkTarget,
  pod: V1Pod | undefined,
  stress: StressWork,
  options: { readonly container?: string | undefined; readonly unsafe: boolean },
): NetworkTarget {
  const where = `pod ${target.pod.namespace}/${target.pod.name}`;
  const name = options.container ?? target.container;
  const containers = pod?.spec?.containers ?? [];
  const container = containers.find((each) => each.name === name);
  if (container === undefined)
    throw new BroadsideError(
      "BRD_USAGE",
      `--container: ${where} has no container ${JSON.stringify(name)} (it has ${containers.map((each) => each.name).join(", ")})`,
    );
  if (stress.memory !== undefined && !hasMemoryLimit(container) && !options.unsafe)
    throw new BroadsideError(
      "BRD_REFUSED_BY_RAIL",
      `container ${name} of ${where} has no memory limit: a memory stress would take the node's memory, not the container's (set resources.limits.memory, or pass --unsafe)`,
    );
  return { ...target, container: name };
}

function hasMemoryLimit(container: V1Container): boolean {
  const limit: unknown = container.resources?.limits?.memory;
  return limit !== undefined && limit !== "";
}

/** The work of one stress on one container, under the ledger record written for it. */
export function stressWork(
  target: NetworkTarget,
  stress: StressWork,
  unsafe: boolean,
  record: {
    readonly ledgerId: string;
    readonly createdAt: number;
    readonly deadline: number;
    readonly durationMs: number;
    readonly actor: string;
  },
): NodeWorkSpec {
  const memory =
    stress.memory === undefined
      ? undefined
      : { ...stress.memory, ...(unsafe ? { unlimitedAllowed: true } : {}) };
  return {
    kind: "stress",
    ledgerId: record.ledgerId,
    node: target.node,
    pod: target.pod,
    container: target.container,
    stress: stressWorkSchema.parse({ ...stress, ...(memory === undefined ? {} : { memory }) }),
    durationMs: record.durationMs,
    createdAt: record.createdAt,
    deadline: record.deadline,
    actor: record.actor,
  };
}

const scale: Readonly<Record<string, number>> = { "": 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/**
 * `--memory`: a size, decimal as Chaos Mesh reads it (512MB, 512M: 512·10^6 bytes) or binary as
 * Kubernetes writes limits (512Mi, 512MiB: 512·2^20), or a percentage of the container's limit (50%).
 */
export function parseMemorySize(text: string): { bytes: number } | { percent: number } | undefined {
  const percent = /^(\d{1,3}(?:\.\d{1,4})?)%$/.exec(text);
  if (percent !== null) {
    const value = Number(percent[1]);
    return value > 0 && value <= 100 ? { percent: value } : undefined;
  }
  const size = /^(\d{1,15}(?:\.\d{1,6})?) ?([kKmMgGtT]?)(i?)[bB]?$/.exec(text);
  if (size === null) return undefined;
  const bytes = Math.round(Number(size[1]) * unitFactor((size[2] ?? "").toLowerCase(), size[3] === "i"));
  return bytes >= 1 && bytes <= Number.MAX_SAFE_INTEGER ? { bytes } : undefined;
}

function unitFactor(unit: string, binary: boolean): number {
  return binary && unit !== "" ? 1024 ** Object.keys(scale).indexOf(unit) : (scale[unit] ?? 1);
}

import { BroadsideError } from "../../core/errors.js";
import { cgroupLayoutOf } from "./cgroups.js";
import type { CgroupLayout } from "./cgroups.js";
import type { Host } from "./host.js";

/** `sandbox up --pod-bodies`: real bodies (netns), loopback listeners, or whichever the machine allows. */
export const podBodiesChoices = ["auto", "netns", "loopback"] as const;
export type PodBodiesChoice = (typeof podBodiesChoices)[number];

/** What the machine allows, as probed. */
export interface BodiesCapabilities {
  readonly root: boolean;
  /** Why `ip netns` cannot be used, or undefined when it can. */
  readonly netnsProblem: string | undefined;
  readonly cgroups: { layout: CgroupLayout } | { problem: string };
}

export type BodiesDecision =
  | { readonly mode: "netns"; readonly cgroups: CgroupLayout }
  | { readonly mode: "loopback"; readonly reason: string };

/**
 * auto: netns when running as root, `ip netns` works and the memory and cpu cgroups are there, else
 * loopback with the reason; netns: the same conditions, but one unmet is BRD_PREREQUISITE_MISSING;
 * loopback: always.
 */
export function decideBodies(choice: PodBodiesChoice, capabilities: BodiesCapabilities): BodiesDecision {
  if (choice === "loopback") return { mode: "loopback", reason: "--pod-bodies loopback" };
  const problem = unmet(capabilities);
  if (problem === undefined && "layout" in capabilities.cgroups)
    return { mode: "netns", cgroups: capabilities.cgroups.layout };
  const reason = problem ?? "no cgroups";
  if (choice === "netns")
    throw new BroadsideError("BRD_PREREQUISITE_MISSING", `--pod-bodies netns needs ${reason}`);
  return { mode: "loopback", reason };
}

function unmet(capabilities: BodiesCapabilities): string | undefined {
  if (!capabilities.root) return "root (network namespaces and cgroups are root's); not running as root";
  if (capabilities.netnsProblem !== undefined) return `\`ip netns\` to work: ${capabilities.netnsProblem}`;
  if ("problem" in capabilities.cgroups) return `cgroups: ${capabilities.cgroups.problem}`;
  return undefined;
}

/** Probes this machine: effective uid 0, `ip netns list` exits 0, the cgroup layout. */
export async function probeBodies(host: Host, uid: number | undefined): Promise<BodiesCapabilities> {
  const root = uid === 0;
  if (!root) return { root, netnsProblem: undefined, cgroups: { problem: "not probed" } };
  const listed = await host.run(["ip", "netns", "list"]);
  const netnsProblem = listed.exitCode === 0 ? undefined : listed.stderr.trim() || `exit ${listed.exitCode}`;
  return { root, netnsProblem, cgroups: await cgroupLayoutOf(host) };
}

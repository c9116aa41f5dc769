import { BroadsideError } from "../core/errors.js";
import { decideBodies, probeBodies } from "./bodies/mode.js";
import { FileRecords } from "./bodies/records.js";
import { makeSandboxNetwork, removeSandboxNetwork } from "./bodies/sandbox-network.js";
import type { SandboxEnvironment, SandboxRequest } from "./environment.js";
import type { SandboxLayout } from "./state-dir.js";
import type { BodiesState } from "./state-file.js";

/*
 * The sandbox's steps for pod bodies: decide how pods answer (--pod-bodies), make the bridge and the
 * sandbox's cgroups before kwok starts, and remove everything the records name on down, and on up
 * before a state directory is cleared (leftovers of a killed run).
 */

export async function prepareBodies(
  request: SandboxRequest,
  env: SandboxEnvironment,
  layout: SandboxLayout,
): Promise<BodiesState> {
  const choice = request.podBodies ?? "loopback";
  const capabilities =
    choice === "loopback"
      ? { root: false, netnsProblem: undefined, cgroups: { problem: "not probed" } }
      : await probeBodies(env.host, env.uid);
  const decision = decideBodies(choice, capabilities);
  if (decision.mode === "loopback") return { mode: "loopback", reason: decision.reason };
  const records = new FileRecords(layout.bodiesDir);
  const network = await makeSandboxNetwork(env.host, records, layout.name, decision.cgroups);
  return {
    mode: "netns",
    podCidr: network.cidr,
    bridge: network.bridge,
    gateway: network.gateway,
    cgroups: decision.cgroups.version,
    // A restarted body is ready after the same delay kwok gives a new pod (its minimum, without jitter).
    readyDelayMs: request.lifecycle.readyDelay.milliseconds,
  };
}

/**
 * Removes every namespace, link and cgroup the sandbox's records name; throws `code` listing what could
 * not be removed (the records stay, so running it again finishes the job).
 */
export async function removeBodies(
  env: SandboxEnvironment,
  layout: SandboxLayout,
  code: "BRD_SANDBOX_STOP_FAILED" | "BRD_SANDBOX_START_FAILED",
): Promise<string[]> {
  const report = await removeSandboxNetwork(env.host, new FileRecords(layout.bodiesDir), layout.name);
  if (report.problems.length > 0) {
    throw new BroadsideError(
      code,
      `sandbox "${layout.name}": some of its pod bodies could not be removed (${report.problems.join("; ")}); the records in ${layout.bodiesDir} are kept: run \`broadside sandbox down --name ${layout.name}\` again as root`,
    );
  }
  return report.removed;
}

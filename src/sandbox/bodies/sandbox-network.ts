import { BroadsideError } from "../../core/errors.js";
import type { SandboxName } from "../sandbox-name.js";
import { sandboxCgroupDirs, sandboxCgroupPlan } from "./cgroups.js";
import type { CgroupLayout } from "./cgroups.js";
import { cleanUpRecords } from "./cleanup.js";
import type { CleanupReport } from "./cleanup.js";
import type { Host } from "./host.js";
import { bridgeUpPlan, choosePodCidr, listRoutesArgv, podNetwork } from "./network.js";
import type { PodNetwork } from "./network.js";
import type { RecordStore } from "./records.js";

/*
 * The sandbox's share of the pod bodies, made by `sandbox up` before kwok starts (kwok's --cidr is the
 * pod CIDR chosen here) and removed by `sandbox down`: the bridge and the sandbox's own cgroups.
 */

/** Chooses a pod CIDR no route of the host overlaps, records the bridge and cgroups, then makes them. */
export async function makeSandboxNetwork(
  host: Host,
  records: RecordStore,
  sandbox: SandboxName,
  cgroups: CgroupLayout,
): Promise<PodNetwork> {
  const routes = await host.run(listRoutesArgv);
  if (routes.exitCode !== 0) throw failed(`${listRoutesArgv.join(" ")}: ${routes.stderr.trim()}`);
  const cidr = choosePodCidr(routeDestinations(routes.stdout));
  if (cidr === undefined)
    throw failed(
      "every candidate pod CIDR (10.244.0.0/16 to 10.255.0.0/16) overlaps a route of this machine",
    );
  const network = podNetwork(sandbox, cidr);
  const plan = sandboxCgroupPlan(cgroups, sandbox);
  await records.writeNetwork({ kind: "network", ...network, cgroups: sandboxCgroupDirs(cgroups, sandbox) });
  for (const argv of bridgeUpPlan(network)) {
    const outcome = await host.run(argv);
    if (outcome.exitCode !== 0) throw failed(`${argv.join(" ")}: ${outcome.stderr.trim()}`);
  }
  for (const dir of plan.mkdirs) await host.mkdir(dir);
  for (const write of plan.writes) await host.write(write.path, write.value);
  return network;
}

/** The `dst` of each route in `ip -j route` output. */
export function routeDestinations(json: string): string[] {
  try {
    const routes = JSON.parse(json) as unknown;
    if (!Array.isArray(routes)) return [];
    return routes.flatMap((route: unknown) =>
      typeof route === "object" && route !== null && "dst" in route && typeof route.dst === "string"
        ? [route.dst]
        : [],
    );
  } catch {
    return [];
  }
}

/** Removes every body, then the bridge and the sandbox's cgroups, as the records name them. */
export function removeSandboxNetwork(
  host: Host,
  records: RecordStore,
  sandbox: SandboxName,
): Promise<CleanupReport> {
  return cleanUpRecords(host, records, sandbox, { network: true });
}

function failed(problem: string): BroadsideError {
  return new BroadsideError("BRD_SANDBOX_START_FAILED", `making the pod bodies' network: ${problem}`);
}

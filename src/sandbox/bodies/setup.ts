import { fileURLToPath } from "node:url";
import { BroadsideError } from "../../core/errors.js";
import type { KubeClients } from "../../kube/client.js";
import type { BodiesArgs } from "../traffic/daemon.js";
import type { PodBodiesOptions } from "./pod-bodies.js";
import { processLauncher } from "./body-process.js";
import { cgroupLayoutOf } from "./cgroups.js";
import { systemHost } from "./host.js";
import { podNetwork } from "./network.js";
import { FileRecords } from "./records.js";
import { kubePodStatusWriter } from "./status.js";

/** The compiled body program beside this file (dist/sandbox/bodies/body-main.js). */
export const bodyScript = fileURLToPath(new URL("body-main.js", import.meta.url));

/**
 * What the traffic process's pod bodies run on: this machine (ip, /sys/fs/cgroup), the records in the
 * sandbox's state directory, the body program run by this Node, and the pod status through the API.
 */
export async function bodiesSetup(
  args: BodiesArgs,
  kube: Pick<KubeClients, "core">,
): Promise<Omit<PodBodiesOptions, "namespaces" | "sources" | "onError" | "clock" | "onEvent">> {
  const detected = await cgroupLayoutOf(systemHost);
  if ("problem" in detected)
    throw new BroadsideError("BRD_PREREQUISITE_MISSING", `pod bodies need cgroups: ${detected.problem}`);
  return {
    sandbox: args.sandbox,
    network: podNetwork(args.sandbox, args.podCidr),
    cgroups: detected.layout,
    host: systemHost,
    records: new FileRecords(args.bodiesDir),
    launcher: processLauncher({ node: process.execPath, script: bodyScript }, systemHost),
    status: kubePodStatusWriter(kube),
    readyDelayMs: args.readyDelayMs,
  };
}

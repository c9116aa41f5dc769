import { BroadsideError } from "../core/errors.js";
import { Duration } from "../core/duration.js";
import { runPlanOf } from "../experiments/run/plan.js";
import { loadAsFile } from "./chaos-object.js";
import type { PlanReader } from "./experiment-reconciler.js";

/**
 * Chaos Mesh kinds the agent serves as `broadside run` runs their manifests (ADR 0042 for NetworkChaos):
 * the spec read as the file would be, one step, run once per generation by the Experiment reconciler's
 * machinery (claimed, watched for deletion, pause and the kill switch, reported). There is no --probe in
 * a cluster, so such a run is judged on its faults alone: applied, held, and reverted.
 */

/** No before or after window: nothing samples it. */
const noWindow = Duration.ofMilliseconds(0);

/** A NetworkChaos's spec as the plan of its run (bandwidth, delay, loss or partition through the daemons). */
export const networkChaosPlan: PlanReader = (object, ref, { resource, settings }) => {
  const { loaded, source } = loadAsFile(resource.apiVersion, "NetworkChaos", ref, object.spec);
  if (loaded.kind !== "NetworkChaos")
    throw new BroadsideError("BRD_INTERNAL", `${source}: read as ${loaded.kind}`);
  return runPlanOf(loaded, {
    extraProbes: [],
    window: noWindow,
    maxFaultDuration: settings.maxFaultDuration,
    loopbackOnly: settings.loopbackOnly,
    withoutProbes: true,
  });
};

/** Why an agent without --node-daemons refuses a kind the daemons run (ADR 0037's rule, for every such kind). */
export function noNodeDaemons(kind: string): { readonly reason: string; readonly message: string } {
  return {
    reason: "NoNodeDaemons",
    message: `${kind} runs through a node daemon (\`broadside daemon\`) on each target pod's node, and this agent was started without --node-daemons (the chart runs the daemons and sets the flag with nodeDaemons.enabled=true; a sandbox with pod bodies runs one daemon per node): nothing was done`,
  };
}

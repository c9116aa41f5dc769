import type { V1Pod } from "@kubernetes/client-node";
import type { PodShotOptions, ShotOutcome } from "../core/shot.js";
import { apiStatus } from "../kube/api-errors.js";
import { goneRefusal, kubeApiError, podIdentity } from "./pod-shot.js";
import type { PodFault, PodShotContext } from "./types.js";

async function fire(ctx: PodShotContext, pod: V1Pod, options: PodShotOptions): Promise<ShotOutcome> {
  const target = podIdentity(pod);
  try {
    await ctx.pods.delete(target, options);
    return { accepted: true, at: ctx.clock.now() };
  } catch (error: unknown) {
    const reason = goneRefusal(apiStatus(error));
    if (reason === undefined) throw kubeApiError("deleting", target, error);
    return { accepted: false, at: ctx.clock.now(), reason };
  }
}

/** Deletes the pod, gracefully unless the shot asks for a shorter grace period. PDBs do not apply. */
export const podKill: PodFault = { kind: "pod-kill", fire };

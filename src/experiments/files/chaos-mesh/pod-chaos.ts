import { z } from "zod";
import { gracePeriodSecondsSchema } from "../../../core/schemas.js";
import { formatPath } from "../../../core/field-path.js";
import { optional } from "../../../core/objects.js";
import type { LoadContext } from "../context.js";
import { parseAt, readTargeting } from "../context.js";
import { goDurationField, toDuration } from "../durations.js";
import { faultDurationBound } from "./manifest.js";
import type { ChaosMeshPodChaos, PodChaosAction, PodChaosSpec, Runnability } from "../model.js";
import { podChaosActions } from "../model.js";
import type { FieldPath } from "../problems.js";
import { manifestRoot } from "../problems.js";
import {
  containerNames,
  isSet,
  loadManifest,
  rawAction,
  rawSpec,
  refuseRemoteCluster,
  remoteCluster,
  selectorFields,
} from "./manifest.js";

/** PodChaos, field by field as chaos-mesh/chaos-mesh api/v1alpha1/podchaos_types.go defines it. */

export const podChaosSpecSchema = z.strictObject({
  ...selectorFields,
  containerNames,
  action: z
    .enum(podChaosActions)
    .describe(
      "What happens to each pod hit: pod-kill deletes it; pod-failure swaps its images for a pause image for duration; container-kill kills the containerNames' processes (through the node daemon).",
    ),
  duration: goDurationField(faultDurationBound)
    .optional()
    .describe(
      "How long the fault lasts (Go duration); required by pod-failure, ignored by pod-kill and container-kill, which are one-shot.",
    ),
  gracePeriod: gracePeriodSecondsSchema
    .optional()
    .describe("The deletion's grace period in seconds; default 0, as Chaos Mesh."),
  remoteCluster,
});

function podChaosRunnability(context: LoadContext, path: FieldPath, action: PodChaosAction): Runnability {
  const spec = rawSpec(context, path);
  const at = (field: string) => `${context.fileName}: ${formatPath([...path, field], manifestRoot)}`;
  switch (action) {
    case "pod-kill":
      // Chaos Mesh treats pod-kill as one-shot (podchaos_types.go: +chaos-mesh:oneshot).
      if (isSet(spec.duration)) context.warnings.push(`${at("duration")} is ignored: pod-kill is one-shot`);
      if (isSet(spec.containerNames)) {
        context.warnings.push(`${at("containerNames")} is ignored by pod-kill, which kills whole pods`);
      }
      return { runnable: true };
    case "pod-failure":
      // PodChaosSpec.Duration: "It is required when the action is PodFailureAction."
      if (!isSet(spec.duration))
        context.problems.add([...path, "duration"], "is required for action pod-failure");
      if (isSet(spec.containerNames)) {
        context.warnings.push(
          `${at("containerNames")} is ignored: pod-failure pauses every container of each pod`,
        );
      }
      return { runnable: true };
    case "container-kill":
      // podchaos_webhook.go validateContainerName.
      if (!isSet(spec.containerNames)) {
        context.problems.add(
          [...path, "containerNames"],
          "needs at least one container for action container-kill",
        );
      }
      // Run by the node daemon of each pod's node (ADR 0029); one-shot, like pod-kill.
      if (isSet(spec.duration))
        context.warnings.push(`${at("duration")} is ignored: container-kill is one-shot`);
      return { runnable: true };
  }
}

/** A PodChaos spec at `path` (a PodChaos's spec, or a Schedule's spec.podChaos). */
export function loadPodChaosSpec(
  context: LoadContext,
  path: FieldPath,
): (PodChaosSpec & Runnability) | undefined {
  const spec = parseAt(context, podChaosSpecSchema, path);
  const targeting = readTargeting(context, path);
  refuseRemoteCluster(context, path);
  const action = rawAction(context, path, podChaosActions);
  const runnability = action === undefined ? undefined : podChaosRunnability(context, path, action);
  if (spec === undefined || targeting === undefined || runnability === undefined) return undefined;
  return {
    action: spec.action,
    selector: targeting.selector,
    mode: targeting.mode,
    // PodChaosSpec.GracePeriod: "The default value is zero that indicates delete immediately."
    gracePeriodSeconds: spec.gracePeriod ?? 0,
    ...optional("duration", spec.duration, toDuration),
    containerNames: spec.containerNames ?? [],
    ...runnability,
  };
}

export function loadPodChaos(context: LoadContext): ChaosMeshPodChaos | undefined {
  return loadManifest(context, "PodChaos", loadPodChaosSpec);
}

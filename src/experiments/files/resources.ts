import { z } from "zod";
import { durationLimits } from "../../core/input-limits.js";
import { configDriftParams } from "../../faults/config-drift.js";
import { resourceSqueezeParams } from "../../faults/resource-squeeze.js";
import { scaleParams } from "../../faults/scale.js";
import type { CelRule } from "./cel.js";
import { withCel } from "./cel.js";
import { modeValueRules } from "./mode-rules.js";
import { networkChaosSchema } from "./chaos-mesh/network-chaos.js";
import { podChaosSpecSchema } from "./chaos-mesh/pod-chaos.js";
import { otherEmbedded, scheduleSpecSchema } from "./chaos-mesh/schedule.js";
import { durationField } from "./durations.js";
import { experimentSchema } from "./experiment-schema.js";

/**
 * The specs of Broadside's in-cluster resources (group broadside.dev, version v1alpha1), built from the
 * schemas that read the files, so a spec means the same in a file and in the cluster. src/agent/crds/
 * generates the CRDs from these; the CEL rules attached here say in the API server's terms what the files'
 * loaders check in code (a value a mode needs, a field Broadside refuses). Each spec is narrowed to what
 * the agent serves: PodChaos kills pods (pod-kill), pauses them (pod-failure) or kills named containers in
 * them (container-kill, through the node daemons), alone or on a Schedule.
 */

/** What fromChaosMesh and the PodChaos loader refuse in a Chaos Mesh spec that the schema accepts. */
const refusedChaosMeshFields: readonly CelRule[] = [
  {
    rule: "!has(self.selector.nodeSelectors) || size(self.selector.nodeSelectors) == 0",
    message:
      "is not supported: Broadside does not read node labels; list the nodes by name in selector.nodes",
    fieldPath: ".selector.nodeSelectors",
  },
  {
    rule:
      "!has(self.selector.fieldSelectors) || " +
      "self.selector.fieldSelectors.all(key, key in ['spec.nodeName', 'status.phase'])",
    message: "Broadside supports the field selectors spec.nodeName and status.phase",
    fieldPath: ".selector.fieldSelectors",
  },
  {
    rule: "!has(self.remoteCluster) || self.remoteCluster == ''",
    message: "is not supported: Broadside acts on the cluster it runs in only",
    fieldPath: ".remoteCluster",
  },
];

/** The actions the agent serves, alone or scheduled. */
const servedAction = z.enum(["pod-kill", "pod-failure", "container-kill"], {
  error: "must be pod-kill, pod-failure or container-kill",
});

/** Chaos Mesh requires it too: a pause of unstated length is not guessed. */
const podFailureNeedsDuration: CelRule = {
  rule: "self.action != 'pod-failure' || has(self.duration)",
  message: "is required by pod-failure: how long the pods stay paused",
  fieldPath: ".duration",
};

/** Chaos Mesh's webhook (validateContainerName) refuses it too: which containers to kill is not guessed. */
const containerKillNeedsContainers: CelRule = {
  rule: "self.action != 'container-kill' || (has(self.containerNames) && size(self.containerNames) > 0)",
  message: "needs at least one container for action container-kill",
  fieldPath: ".containerNames",
};

/** PodChaos as Chaos Mesh writes it, with the actions the agent serves. */
export const podChaosResourceSpec = withCel(
  podChaosSpecSchema.extend({ action: servedAction }),
  ...modeValueRules("string"),
  ...refusedChaosMeshFields,
  podFailureNeedsDuration,
  containerKillNeedsContainers,
);

/** What a Schedule's PodChaos may do: the same, each round of a pod-failure holding for its duration. */
const scheduledPodChaosSpec = withCel(
  podChaosSpecSchema.extend({ action: servedAction }),
  ...modeValueRules("string"),
  ...refusedChaosMeshFields,
  podFailureNeedsDuration,
  containerKillNeedsContainers,
);

/**
 * NetworkChaos as Chaos Mesh writes it, run through the node daemons as `broadside run` runs the file
 * (an agent started with --node-daemons). Broadside bounds every fault: a duration is required.
 */
export const networkChaosResourceSpec = withCel(
  networkChaosSchema,
  ...modeValueRules("string"),
  ...refusedChaosMeshFields,
  {
    rule: "has(self.duration)",
    message: "is required: Broadside holds a network fault for a stated time and reverts it at its end",
    fieldPath: ".duration",
  },
);

/** Chaos Mesh's other embedded kinds, which a Broadside Schedule does not take. */
const otherKinds = {
  networkChaos: true,
  stressChaos: true,
  awsChaos: true,
  azureChaos: true,
  blockChaos: true,
  dnsChaos: true,
  gcpChaos: true,
  httpChaos: true,
  ioChaos: true,
  jvmChaos: true,
  kernelChaos: true,
  physicalmachineChaos: true,
  timeChaos: true,
  workflow: true,
} as const satisfies Record<keyof typeof otherEmbedded | "networkChaos" | "stressChaos", true>;

/** Schedule as Chaos Mesh writes it, scheduling a PodChaos. */
export const scheduleResourceSpec = scheduleSpecSchema.omit(otherKinds).extend({
  type: z.enum(["PodChaos"], { error: "must be PodChaos: Broadside's agent schedules PodChaos" }),
  podChaos: scheduledPodChaosSpec.describe("The PodChaos spec each instant runs."),
});

const faultDuration = durationField(durationLimits.faultDuration)
  .prefault("5m")
  .meta({ description: "How long the fault holds before Broadside reverts it (default 5m)." });

/**
 * An object fault's parameters as an Experiment's step writes them under `params`, flat in the spec, with
 * its duration. The fault's own schema runs again on them, for the checks that relate parameters.
 */
function objectFaultSpec<Shape extends z.core.$ZodLooseShape>(params: z.ZodObject<Shape>) {
  return z.strictObject({ ...params.shape, duration: faultDuration }).superRefine((spec, context) => {
    const withoutDuration = Object.fromEntries(Object.entries(spec).filter(([key]) => key !== "duration"));
    const result = params.safeParse(withoutDuration);
    if (!result.success) for (const issue of result.error.issues) context.addIssue({ ...issue });
  });
}

export const configDriftResourceSpec = withCel(objectFaultSpec(configDriftParams), {
  rule: "has(self.value) != (has(self.remove) && self.remove)",
  message: "give exactly one of value or remove: true",
  fieldPath: ".value",
});

export const resourceSqueezeResourceSpec = objectFaultSpec(resourceSqueezeParams);

export const scaleResourceSpec = withCel(objectFaultSpec(scaleParams), {
  rule: "self.replicas > 0 || (has(self.unsafe) && self.unsafe)",
  message: "scaling to 0 takes the workload down entirely; set unsafe: true to mean it",
  fieldPath: ".replicas",
});

export const experimentResourceSpec = experimentSchema.shape.spec;

/** Every resource kind, with the spec that reads it. */
export const resourceSpecs = {
  PodChaos: podChaosResourceSpec,
  Schedule: scheduleResourceSpec,
  ConfigDrift: configDriftResourceSpec,
  ResourceSqueeze: resourceSqueezeResourceSpec,
  Scale: scaleResourceSpec,
  Experiment: experimentResourceSpec,
  NetworkChaos: networkChaosResourceSpec,
} as const satisfies Record<string, z.ZodType>;

export type ResourceKind = keyof typeof resourceSpecs;
export const resourceKinds = Object.keys(resourceSpecs) as ResourceKind[];

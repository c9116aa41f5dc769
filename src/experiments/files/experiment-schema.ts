import { z } from "zod";
import {
  chaosMeshPodSelectorSchema,
  chaosMeshSelectorSchema,
  maxModeValueLength,
} from "./chaos-mesh/selector.js";
import { objectFaults } from "../../faults/object-registry.js";
import { defaultPauseImage, pauseImageSchema } from "../../faults/pod-failure.js";
import type { PodFaultKind } from "../../faults/types.js";
import { countLimits, durationLimits } from "../../core/input-limits.js";
import {
  gracePeriodSecondsSchema,
  keyedRecord,
  namespaceNameSchema,
  objectNameSchema,
} from "../../core/schemas.js";
import { labelKeyProblem } from "../../core/targeting/label-selector.js";
import { withCel } from "./cel.js";
import { durationField } from "./durations.js";
import { modeValueRules } from "./mode-rules.js";
import { experimentApiVersion, hypothesisChecks, type ObjectStepKind } from "./model.js";
import { probeSchema } from "./probes.js";

/**
 * The schema of Broadside's own kind, `broadside.dev/v1alpha1` `Experiment`. It checks shapes, types and
 * ranges, and turns leaf values into their models (durations, tolerances); what needs the whole file
 * (selectors, unique names) is checked in experiment.ts. docs/schema/experiment.schema.json is generated
 * from it (json-schema.ts), so editors and this parser never disagree.
 */

const stepName = z.string().min(1).meta({ description: "Shown in progress and reports." });

const metadataSchema = z.strictObject({
  name: objectNameSchema,
  namespace: namespaceNameSchema
    .optional()
    .meta({ description: "Default namespace of selectors that name none, as in Chaos Mesh." }),
  labels: keyedRecord(labelKeyProblem, z.string()).optional(),
  annotations: keyedRecord(labelKeyProblem, z.string()).optional(),
});

const waitStep = z.strictObject({
  wait: durationField(durationLimits.waitStep).meta({
    description: "How long to wait, e.g. 30s (at most 24h).",
  }),
  name: stepName.optional(),
});

const modeValue = z
  .union([z.string().max(maxModeValueLength), z.number()], { error: "must be a number or a string" })
  .optional()
  .meta({ description: "Pods for fixed, percentage for fixed-percent and random-max-percent." });

function podFaultStep<Kind extends PodFaultKind>(kind: Kind) {
  const step = z.strictObject({
    fault: z.literal(kind),
    name: stepName.optional(),
    // Chaos Mesh's selector, so selectors read the same in both kinds of file (chaos-mesh/selector.ts).
    selector: chaosMeshSelectorSchema,
    mode: chaosMeshPodSelectorSchema.shape.mode.default("one"),
    value: modeValue,
    gracePeriod: gracePeriodSecondsSchema
      .optional()
      .meta({ description: "Seconds; absent: each pod's own terminationGracePeriodSeconds." }),
    waitForRecovery: z.boolean().default(true),
    timeout: durationField(durationLimits.recoveryTimeout)
      .prefault("5m")
      .meta({ description: "How long to wait for the targets' recovery once every shot is answered." }),
  });
  return withCel(step, ...modeValueRules("int-or-string"));
}

/**
 * pod-failure: targets as a pod fault's, and a duration as an object fault's, which has no default:
 * Chaos Mesh requires one for this action, and a pause of unstated length is not something to guess.
 */
function podFailureStep() {
  const step = z.strictObject({
    fault: z.literal("pod-failure"),
    name: stepName.optional(),
    selector: chaosMeshSelectorSchema,
    mode: chaosMeshPodSelectorSchema.shape.mode.default("one"),
    value: modeValue,
    pauseImage: pauseImageSchema.default(defaultPauseImage),
    duration: durationField(durationLimits.faultDuration).meta({
      description: "How long the pods stay paused before Broadside puts their images back (required).",
    }),
  });
  return withCel(step, ...modeValueRules("int-or-string"));
}

function objectFaultStep<Kind extends ObjectStepKind>(kind: Kind) {
  return z.strictObject({
    fault: z.literal(kind),
    name: stepName.optional(),
    params: objectFaults[kind].params,
    duration: durationField(durationLimits.faultDuration)
      .prefault("5m")
      .meta({ description: "How long the fault holds before Broadside reverts it." }),
  });
}

export const faultStepSchema = z.discriminatedUnion(
  "fault",
  [
    podFaultStep("pod-kill"),
    podFaultStep("pod-evict"),
    podFailureStep(),
    objectFaultStep("config-drift"),
    objectFaultStep("resource-squeeze"),
    objectFaultStep("scale"),
  ],
  { error: "must be one of pod-kill, pod-evict, pod-failure, config-drift, resource-squeeze, scale" },
);

export const methodStepSchema = z.union([faultStepSchema, waitStep], {
  error: "must be a step: either fault: <kind> with its fields, or wait: <duration>",
});

const hypothesisSchema = z.strictObject({
  probes: z
    .array(probeSchema)
    .min(1, { error: "must have at least one probe" })
    .max(countLimits.probes.max, { error: `must have at most ${countLimits.probes.max} probes` }),
  checks: z
    .array(z.enum(hypothesisChecks))
    .min(1, { error: "must name at least one of before, during, after" })
    .default([...hypothesisChecks]),
  abortOnBreach: z.boolean().default(true).meta({
    description: "A tolerance breached during the method stops it: faults are reverted, rollbacks run.",
  }),
  window: durationField(durationLimits.checkWindow)
    .prefault("10s")
    .meta({ description: "How long before/after checks sample; the sliding window of during checks." }),
});

const maxSteps = countLimits.experimentSteps.max;
const tooManySteps = { error: `must have at most ${maxSteps} steps` };

const specSchema = z.strictObject({
  title: z.string().trim().min(1, { error: "must not be empty" }),
  description: z.string().optional(),
  hypothesis: hypothesisSchema,
  method: z
    .array(methodStepSchema)
    .min(1, { error: "must have at least one step" })
    .max(maxSteps, tooManySteps),
  rollbacks: z.array(waitStep).max(maxSteps, tooManySteps).default([]).meta({
    description: "Steps run after the method, even when it was aborted, once its faults are reverted.",
  }),
});

export const experimentSchema = z
  .strictObject({
    apiVersion: z.literal(experimentApiVersion),
    kind: z.literal("Experiment"),
    metadata: metadataSchema,
    spec: specSchema,
  })
  .meta({
    title: "Broadside Experiment",
    description:
      "A hypothesis-driven chaos experiment: probes with tolerances, a method of faults and waits, and " +
      "rollbacks. See docs/experiments.md.",
  });

export type ParsedExperiment = z.output<typeof experimentSchema>;
export type ParsedMethodStep = z.output<typeof methodStepSchema>;

import { z } from "zod";
import { namespaceNameSchema, objectNameSchema } from "../../core/schemas.js";

/**
 * The status the agent writes on its resources: a view for people and `kubectl get`, never read back to
 * decide what to revert (the ledger is the only memory, ADR 0007). One schema for every kind, the source of
 * the CRDs' status schema and of the agent's type for it. Times are RFC 3339, durations whole
 * milliseconds since the shot, as the CLI reports them.
 */

const time = z.string().meta({ format: "date-time" });
const milliseconds = z.number().int().nonnegative();

/** The condition types the agent sets (issue 10): what a user asks of a chaos resource. */
export const conditionTypes = ["Selected", "Injected", "Recovered", "Paused", "Failed"] as const;

/** metav1.Condition, with the bounds Kubernetes gives it. */
const conditionSchema = z.strictObject({
  type: z
    .string()
    .min(1)
    .max(316)
    .meta({ description: `One of ${conditionTypes.join(", ")}.` }),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string().max(1024).optional().meta({ description: "A CamelCase word, for machines." }),
  message: z.string().max(32_768).optional().meta({ description: "What happened, for people." }),
  lastTransitionTime: time.meta({ description: "When the status last changed." }),
  observedGeneration: z.number().int().nonnegative().optional(),
});

/** The recovery milestones of one target, in ms since its shot was sent (kube/recovery/). */
const milestonesSchema = z
  .strictObject({
    acceptedMs: milliseconds.optional().meta({ description: "The API server accepted the shot." }),
    goneMs: milliseconds.optional().meta({ description: "The victim is gone." }),
    replacementCreatedMs: milliseconds.optional().meta({ description: "Its replacement was created." }),
    scheduledMs: milliseconds.optional().meta({ description: "The replacement was scheduled." }),
    readyMs: milliseconds
      .optional()
      .meta({ description: "The replacement is Ready (container-kill: the pod is Ready again)." }),
    runningAgainMs: milliseconds
      .optional()
      .meta({ description: "container-kill: the killed container runs again, restarted." }),
    workloadRestoredMs: milliseconds
      .optional()
      .meta({ description: "The workload is back at its desired available replicas." }),
  })
  .meta({ description: "Recovery milestones in milliseconds since the shot." });

export const targetOutcomes = [
  "pending",
  "injected",
  "recovered",
  "reverted",
  "healed",
  "gone",
  "refused",
] as const;

const targetSchema = z.strictObject({
  kind: z.string().meta({ description: "Pod, ConfigMap, Secret, Deployment, StatefulSet, DaemonSet." }),
  namespace: namespaceNameSchema,
  name: objectNameSchema,
  uid: z.string().optional(),
  container: z
    .string()
    .max(253)
    .optional()
    .meta({ description: "container-kill: the container killed in the pod." }),
  restartCount: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .meta({ description: "container-kill: the container's restartCount once it ran again." }),
  outcome: z.enum(targetOutcomes),
  ledgerRecord: z.string().optional().meta({ description: "The ledger record of this mutation." }),
  injectedAt: time.optional(),
  recoveredAt: time.optional(),
  milestones: milestonesSchema.optional(),
  message: z.string().max(32_768).optional(),
});

export const resourceStatusSchema = z.strictObject({
  observedGeneration: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .meta({ description: "The metadata.generation this status describes." }),
  conditions: z
    .array(conditionSchema)
    .optional()
    .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }),
  targets: z
    .array(targetSchema)
    .optional()
    .meta({ description: "One record per target of the last run, with its recovery milestones." }),
});

/** A Schedule's status: the instants it fired, recorded before each fires (at most once per instant). */
export const scheduleStatusSchema = resourceStatusSchema.extend({
  lastScheduleTime: time.optional().meta({ description: "The last instant fired (written before firing)." }),
  active: z
    .array(z.strictObject({ name: objectNameSchema, instant: time }))
    .optional()
    .meta({ description: "Runs still going." }),
  pending: z.strictObject({ name: objectNameSchema, instant: time }).optional().meta({
    description:
      "The run claimed at lastScheduleTime whose PodChaos is not created yet (an agent stopped in between).",
  }),
});

/** One check of a probe's tolerance over one phase of the run, as the run report judged it. */
const probeCheckSchema = z.strictObject({
  name: z
    .string()
    .max(1024)
    .meta({ description: 'The check, as the report names it: "web: availability >= 99% (before)".' }),
  phase: z
    .enum(["before", "during", "after", "overall"])
    .meta({ description: "The phase judged: before the method, during it, after it, or the whole run." }),
  passed: z.boolean(),
  observed: z
    .string()
    .max(1024)
    .meta({ description: 'What was measured and what was wanted: "0.9861 (wanted >= 0.9900)".' }),
});

/** A probe of the hypothesis: what it sent over the whole run, and its checks. */
const probeResultSchema = z.strictObject({
  name: z.string().max(253),
  sent: z.number().int().nonnegative().meta({ description: "Samples taken over the whole run." }),
  failed: z.number().int().nonnegative().meta({ description: "Samples that failed." }),
  checks: z.array(probeCheckSchema).max(1000).optional(),
});

/** An Experiment's status: its last run (one per generation) besides the common fields. */
export const experimentStatusSchema = resourceStatusSchema.extend({
  verdict: z
    .enum(["passed", "failed", "aborted"])
    .optional()
    .meta({ description: "The hypothesis' verdict of the last run." }),
  startTime: time.optional().meta({ description: "When the run began (written before its first probe)." }),
  completionTime: time.optional().meta({ description: "When the run ended, with its verdict." }),
  probes: z.array(probeResultSchema).max(100).optional().meta({
    description: "Each probe of the hypothesis: its samples and its checks before, during and after.",
  }),
});

export type ResourceStatus = z.infer<typeof resourceStatusSchema>;
export type ScheduleStatus = z.infer<typeof scheduleStatusSchema>;
export type ExperimentStatus = z.infer<typeof experimentStatusSchema>;

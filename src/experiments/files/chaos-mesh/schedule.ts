import { z } from "zod";
import { countLimits } from "../../../core/input-limits.js";
import { optional } from "../../../core/objects.js";
import type { LoadContext } from "../context.js";
import { parseAt } from "../context.js";
import type { CronSpec } from "../cron.js";
import { parseCron } from "../cron.js";
import type { ChaosMeshSchedule, ScheduledChaos, ScheduledKind } from "../model.js";
import { scheduledKinds } from "../model.js";
import { valueAt } from "../problems.js";
import { envelopeSchema, infoOf, specPath } from "./manifest.js";
import { loadNetworkChaosSpec } from "./network-chaos.js";
import { loadPodChaosSpec } from "./pod-chaos.js";
import { loadStressChaosSpec } from "./stress-chaos.js";

/**
 * Schedule, as chaos-mesh/chaos-mesh api/v1alpha1/schedule_types.go defines it: a cron, its policies, and
 * the spec of one of the kinds above, which is loaded by that kind's own module.
 */

/** The keys of Chaos Mesh's EmbedChaos and ScheduleItem: one holds the spec that spec.type names. */
const embeddedKeys = {
  PodChaos: "podChaos",
  NetworkChaos: "networkChaos",
  StressChaos: "stressChaos",
} as const satisfies Record<ScheduledKind, string>;

const unknownOptional = z.unknown().optional();

/**
 * The other kinds a Schedule may carry in Chaos Mesh (EmbedChaos and ScheduleItem.Workflow): accepted by
 * the schema so that spec.type can say they are unsupported, rather than each being an "unknown field".
 */
export const otherEmbedded = {
  awsChaos: unknownOptional,
  azureChaos: unknownOptional,
  blockChaos: unknownOptional,
  dnsChaos: unknownOptional,
  gcpChaos: unknownOptional,
  httpChaos: unknownOptional,
  ioChaos: unknownOptional,
  jvmChaos: unknownOptional,
  kernelChaos: unknownOptional,
  physicalmachineChaos: unknownOptional,
  timeChaos: unknownOptional,
  workflow: unknownOptional,
};

const embeddedFields: readonly string[] = [...Object.values(embeddedKeys), ...Object.keys(otherEmbedded)];

/**
 * The shape of every expression parseCron accepts (an optional CRON_TZ= or TZ= zone, then a descriptor,
 * `@every DURATION`, or 5 or 6 fields), so that the API server refuses a malformed schedule too; what the
 * fields mean (ranges, a date that never comes) is parseCron's alone.
 */
export const cronShape = /^\s*(?:(?:CRON_TZ|TZ)=\S+\s+)?(?:@every\s+\S+|@[a-z]+|\S+(?:\s+\S+){4,5})\s*$/;

export const cronField = z
  .string({
    error: (issue) => (issue.input === undefined ? "is required" : "must be a cron expression string"),
  })
  .regex(cronShape, {
    error: (issue) => {
      const result = parseCron(String(issue.input));
      return `${JSON.stringify(issue.input)}: ${result.ok ? "is not a cron expression" : result.problem}`;
    },
  })
  .transform((text, context) => {
    const result = parseCron(text);
    if (result.ok) return result;
    context.addIssue({ code: "custom", message: `${JSON.stringify(text)}: ${result.problem}` });
    return z.NEVER;
  });

export const scheduleSpecSchema = z.strictObject({
  schedule: cronField.describe(
    "When to fire: 5 cron fields, or 6 with seconds first; @every 30s; an optional TZ= or CRON_TZ= prefix.",
  ),
  // schedule_types.go: +optional +nullable, Minimum=0 (a later CRD makes it exclusive; 0 is read as unset).
  startingDeadlineSeconds: z
    .number()
    .int({ error: "must be a whole number of seconds" })
    .nonnegative()
    .max(countLimits.startingDeadlineSeconds.max, {
      error: `must be at most ${countLimits.startingDeadlineSeconds.max} seconds`,
    })
    .nullable()
    .optional()
    .describe("An instant missed by more than this many seconds is skipped; unset: never too late."),
  // Enum Forbid;Allow; ConcurrencyPolicy.IsForbid() also reads "" as Forbid.
  concurrencyPolicy: z
    .enum(["Forbid", "Allow", ""], { error: "must be Forbid (the default) or Allow" })
    .optional()
    .describe("Forbid (default): skip an instant while the last one still runs. Allow: run side by side."),
  historyLimit: z
    .number()
    .int({ error: "must be a whole number" })
    .min(countLimits.historyLimit.min)
    .max(countLimits.historyLimit.max, { error: `must be at most ${countLimits.historyLimit.max}` })
    .optional()
    .describe("How many finished runs to keep."),
  type: z.string().describe("The kind scheduled: PodChaos."),
  podChaos: unknownOptional,
  networkChaos: unknownOptional,
  stressChaos: unknownOptional,
  ...otherEmbedded,
});

function isScheduledKind(type: string): type is ScheduledKind {
  return (scheduledKinds as readonly string[]).includes(type);
}

/**
 * spec.type names a kind Broadside reads, its key holds the spec, and no other kind's key is set. Read
 * from the file as written, so that the scheduled spec is checked even when other Schedule fields are bad.
 */
function scheduledKind(context: LoadContext): ScheduledKind | undefined {
  const raw = valueAt(context.root, specPath);
  const type = valueAt(raw, ["type"]);
  if (typeof type !== "string") return undefined;
  if (!isScheduledKind(type)) {
    context.problems.add(
      [...specPath, "type"],
      `${JSON.stringify(type)} is not supported; Broadside schedules ${scheduledKinds.join(", ")}`,
    );
    return undefined;
  }
  const key = embeddedKeys[type];
  for (const field of embeddedFields) {
    if (field !== key && valueAt(raw, [field]) !== undefined) {
      context.problems.add([...specPath, field], `does not match spec.type ${type}`);
    }
  }
  if (valueAt(raw, [key]) === undefined) {
    context.problems.add([...specPath, key], `is required for type ${type}`);
    return undefined;
  }
  return type;
}

function loadScheduled(context: LoadContext, kind: ScheduledKind): ScheduledChaos | undefined {
  const path = [...specPath, embeddedKeys[kind]];
  switch (kind) {
    case "PodChaos": {
      // Every action runs on a schedule: a pod-failure round holds for its duration, a container-kill round
      // until its containers run and their pods are Ready again.
      const chaos = loadPodChaosSpec(context, path);
      return chaos === undefined ? undefined : { kind, ...chaos };
    }
    case "NetworkChaos": {
      const chaos = loadNetworkChaosSpec(context, path);
      // A Schedule runs PodChaos only so far; a scheduled NetworkChaos is read and checked.
      const reason = "a Schedule of NetworkChaos does not run yet (a NetworkChaos on its own does)";
      return chaos === undefined ? undefined : { kind, ...chaos, runnable: false, reason };
    }
    case "StressChaos": {
      const chaos = loadStressChaosSpec(context, path);
      // A Schedule runs PodChaos only so far; a scheduled StressChaos is read and checked.
      const reason = "a Schedule of StressChaos does not run yet (a StressChaos on its own does)";
      return chaos === undefined ? undefined : { kind, ...chaos, runnable: false, reason };
    }
  }
}

function cronWarnings(context: LoadContext, cron: CronSpec, warnings: readonly string[]): void {
  context.warnings.push(...warnings.map((warning) => `${context.fileName}: spec.schedule: ${warning}`));
  if (cron.kind === "cron" && cron.seconds) {
    context.warnings.push(
      `${context.fileName}: spec.schedule has a seconds field: Chaos Mesh documents five fields, and its ` +
        "standard cron parser refuses a sixth (chaos-mesh/chaos-mesh#2312)",
    );
  }
}

export function loadSchedule(context: LoadContext): ChaosMeshSchedule | undefined {
  const envelope = parseAt(context, envelopeSchema, []);
  const schedule = parseAt(context, scheduleSpecSchema, specPath);
  const kind = scheduledKind(context);
  const chaos = kind === undefined ? undefined : loadScheduled(context, kind);
  if (envelope === undefined || schedule === undefined || chaos === undefined) return undefined;
  cronWarnings(context, schedule.schedule.spec, schedule.schedule.warnings);
  const deadline = schedule.startingDeadlineSeconds ?? 0;
  return {
    ...infoOf(context, envelope),
    apiVersion: envelope.apiVersion,
    kind: "Schedule",
    cron: schedule.schedule.spec,
    concurrencyPolicy: schedule.concurrencyPolicy === "Allow" ? "Allow" : "Forbid",
    ...optional("historyLimit", schedule.historyLimit),
    ...(deadline > 0 ? { startingDeadlineSeconds: deadline } : {}),
    chaos,
    ...(chaos.runnable ? { runnable: true } : { runnable: false, reason: `its ${kind}: ${chaos.reason}` }),
  };
}

import { z } from "zod";
import { formatPath } from "../../../core/field-path.js";
import { optional } from "../../../core/objects.js";
import type { LoadContext } from "../context.js";
import { parseAt, readTargeting } from "../context.js";
import { goDurationField, toDuration } from "../durations.js";
import { faultDurationBound } from "./manifest.js";
import { durationLimits } from "../../../core/input-limits.js";
import type { ChaosMeshStressChaos, MemorySize, Runnability, StressChaosSpec } from "../model.js";
import type { FieldPath } from "../problems.js";
import { manifestRoot, valueAt } from "../problems.js";
import {
  containerNames,
  isSet,
  loadManifest,
  rawSpec,
  refuseRemoteCluster,
  remoteCluster,
  selectorFields,
} from "./manifest.js";

/**
 * StressChaos, field by field as chaos-mesh/chaos-mesh api/v1alpha1/stresschaos_types.go defines it, with
 * the checks of stresschaos_webhook.go. Parsed and checked; runnable as stressRunnability says (ADR 0040).
 */

/** Stressor.Workers: "+kubebuilder:validation:Maximum=8192", and the webhook wants it positive. */
const workers = z
  .number()
  .int({ error: "must be a whole number" })
  .min(1, { error: "must be at least 1" })
  .max(8192, { error: "must be at most 8192 (stress-ng's limit)" });

const decimalUnits: Readonly<Record<string, number>> = { "": 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

/** MemoryStressor.Size: a percentage of the memory, or a size as docker/go-units FromHumanSize reads it. */
function memorySize(text: string): MemorySize | string {
  const percent = /^([+-]?\d+)%$/.exec(text);
  if (percent !== null) {
    const value = Number(percent[1]);
    return value >= 0 && value <= 100
      ? { percent: value }
      : `the percentage must be from 0 to 100, got ${text}`;
  }
  const size = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (size === null)
    return `must be a size such as 256MB or a percentage such as 25%, got ${JSON.stringify(text)}`;
  return { bytes: Math.round(Number(size[1]) * (decimalUnits[(size[2] ?? "").toLowerCase()] ?? 1)) };
}

const stressChaosSchema = z.strictObject({
  ...selectorFields,
  containerNames,
  stressors: z
    .strictObject({
      memory: z
        .strictObject({
          workers,
          size: z
            .string()
            .transform((text, context) => {
              const size = memorySize(text);
              if (typeof size !== "string") return size;
              context.addIssue({ code: "custom", message: size });
              return z.NEVER;
            })
            .optional(),
          time: goDurationField(durationLimits.stressRampUp).optional(),
          oomScoreAdj: z.number().int().min(-1000).max(1000).optional(),
          options: z.array(z.string()).optional(),
        })
        .optional(),
      cpu: z
        .strictObject({
          workers,
          load: z.number().int().min(0).max(100).optional(),
          options: z.array(z.string()).optional(),
        })
        .optional(),
    })
    .optional(),
  stressngStressors: z.string().optional(),
  duration: goDurationField(faultDurationBound).optional(),
  remoteCluster,
});

type ParsedStressChaos = z.output<typeof stressChaosSchema>;

/** stresschaos_webhook.go: stressors or stressngStressors, and stressors hold memory or cpu. */
function checkStressors(context: LoadContext, path: FieldPath): void {
  const spec = rawSpec(context, path);
  const stressng = isSet(spec.stressngStressors);
  const stressors = valueAt(spec, ["stressors"]);
  if (!isSet(stressors) && !stressng) {
    context.problems.add([...path, "stressors"], "is required: give stressors or stressngStressors");
  } else if (
    isSet(stressors) &&
    !isSet(valueAt(stressors, ["memory"])) &&
    !isSet(valueAt(stressors, ["cpu"]))
  ) {
    context.problems.add([...path, "stressors"], "needs memory or cpu");
  }
  if (stressng && isSet(stressors)) {
    context.warnings.push(
      `${context.fileName}: ${formatPath([...path, "stressors"], manifestRoot)} is ignored: stressngStressors wins`,
    );
  }
}

function memoryOf(
  memory: NonNullable<NonNullable<ParsedStressChaos["stressors"]>["memory"]>,
): NonNullable<StressChaosSpec["memory"]> {
  return {
    workers: memory.workers,
    ...optional("size", memory.size),
    ...optional("timeMs", memory.time),
    ...optional("oomScoreAdj", memory.oomScoreAdj),
    options: memory.options ?? [],
  };
}

function cpuOf(
  cpu: NonNullable<NonNullable<ParsedStressChaos["stressors"]>["cpu"]>,
): NonNullable<StressChaosSpec["cpu"]> {
  return { workers: cpu.workers, ...optional("load", cpu.load), options: cpu.options ?? [] };
}

function stressorsOf(spec: ParsedStressChaos): Partial<StressChaosSpec> {
  const { memory, cpu } = spec.stressors ?? {};
  return {
    ...optional("memory", memory, memoryOf),
    ...optional("cpu", cpu, cpuOf),
  };
}

/**
 * Whether Broadside runs the spec (ADR 0040): memory (with a size) and cpu stressors, with a duration.
 * stress-ng's own strings (stressngStressors, options) are never run (no shell, no stress-ng); a memory
 * ramp-up (time) and oomScoreAdj are not modelled yet.
 */
export function stressRunnability(spec: StressChaosSpec): Runnability {
  const reason = notRunBecause(spec);
  return reason === undefined ? { runnable: true } : { runnable: false, reason };
}

function notRunBecause(spec: StressChaosSpec): string | undefined {
  const { memory } = spec;
  if (usesStressNg(spec))
    return "stressngStressors and stress-ng options do not run: Broadside runs its own stressor, not stress-ng";
  if (memory !== undefined && memory.size === undefined)
    return "stressors.memory.size is required to run it (a size such as 256MB, or a percentage)";
  if (memory !== undefined && (memory.timeMs !== undefined || memory.oomScoreAdj !== undefined))
    return "stressors.memory.time and oomScoreAdj do not run yet";
  if (spec.duration === undefined)
    return "spec.duration is required to run it: a stress of unstated length is not guessed";
  return undefined;
}

function usesStressNg({ stressngStressors, memory, cpu }: StressChaosSpec): boolean {
  const options = [...(memory?.options ?? []), ...(cpu?.options ?? [])];
  return stressngStressors !== undefined || options.length > 0;
}

/** A StressChaos spec at `path`; parsed and checked; runnable as stressRunnability says. */
export function loadStressChaosSpec(
  context: LoadContext,
  path: FieldPath,
): (StressChaosSpec & Runnability) | undefined {
  const spec = parseAt(context, stressChaosSchema, path);
  const targeting = readTargeting(context, path);
  refuseRemoteCluster(context, path);
  checkStressors(context, path);
  if (spec === undefined || targeting === undefined) return undefined;
  const loaded: StressChaosSpec = {
    selector: targeting.selector,
    mode: targeting.mode,
    containerNames: spec.containerNames ?? [],
    ...stressorsOf(spec),
    ...optional("stressngStressors", spec.stressngStressors),
    ...optional("duration", spec.duration, toDuration),
  };
  return { ...loaded, ...stressRunnability(loaded) };
}

export function loadStressChaos(context: LoadContext): ChaosMeshStressChaos | undefined {
  return loadManifest(context, "StressChaos", loadStressChaosSpec);
}

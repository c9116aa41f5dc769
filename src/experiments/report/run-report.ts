import { z } from "zod";
import { checkResultSchema, verdictSchema, type CheckSpec } from "./checks.js";
import { replacementSeenSchema, type FaultFacts, type FaultInput } from "./fault-facts.js";
import { faultReportSchema } from "./fault-outcome.js";
import { restartReportSchema, type RestartObservation } from "./restarts.js";
import { sampleSchema, timeWindowSchema, windowFiguresSchema, type Sample } from "./samples.js";
import { epochMs, name } from "./schema-fields.js";

/**
 * The RunReport: the JSON document a `broadside run` leaves behind, and the one input of every other
 * format (`broadside report run.json --format md|junit|html`). It keeps the evidence (raw samples, the
 * engine's recovery facts, the restart counts, the check definitions) next to the figures and verdict
 * derived from it; `recompute` derives them again, so a reader can check every figure against its samples.
 *
 * Versioning: apiVersion and kind name the document; schemaVersion changes whenever a field changes
 * meaning or a required field is added. Readers refuse other schema versions rather than misread them,
 * and drop fields they do not know (a later additive change does not stop an older reader).
 *
 * This module is the document's model: its zod schema, from which its TypeScript types are inferred and
 * docs/schema/run-report.schema.json is generated (json-schema.ts). build.ts builds and recomputes the
 * report, consistency.ts checks its evidence, json.ts writes it and reads it back.
 */

export const reportApiVersion = "broadside.dev/v1alpha1";
export const reportKind = "RunReport";
export const reportSchemaVersion = 2;

export const probeSpecSchema = z
  .object({
    name,
    intervalMs: z.number().positive().meta({
      description: "How often the probe sends: the resolution of its unreachable stretches.",
    }),
    target: z
      .string()
      .exactOptional()
      .meta({ description: 'What it probes, for people ("GET / on the front door").' }),
  })
  .readonly();
export type ProbeSpec = z.infer<typeof probeSpecSchema>;

/** A time some fault was active; the report shades these on its timeline. */
export const chaosWindowSchema = timeWindowSchema.extend({ label: z.string().exactOptional() }).readonly();
export type ChaosWindow = z.infer<typeof chaosWindowSchema>;

export const runReportSchema = z
  .object({
    apiVersion: z.literal(
      reportApiVersion,
      `must be "${reportApiVersion}": this is not a Broadside run report`,
    ),
    kind: z.literal(reportKind, `must be "${reportKind}"`),
    schemaVersion: z.literal(
      reportSchemaVersion,
      `this Broadside reads schemaVersion ${reportSchemaVersion}; the file was written by another version`,
    ),
    title: z.string(),
    startedAt: epochMs.meta({
      description: "Epoch ms: the run window [startedAt, endedAt) contains the three phases.",
    }),
    endedAt: epochMs,
    probes: z.array(probeSpecSchema).readonly(),
    chaosWindows: z.array(chaosWindowSchema).readonly(),
    phases: z
      .object({ baseline: windowFiguresSchema, chaos: windowFiguresSchema, recovery: windowFiguresSchema })
      .readonly(),
    overall: windowFiguresSchema.meta({
      description: "The whole run: unreachable stretches here are not cut at phase boundaries.",
    }),
    faults: z.array(faultReportSchema).readonly(),
    replacements: z.array(replacementSeenSchema).readonly(),
    restarts: restartReportSchema.exactOptional().meta({
      description: "Absent when restart counts were not observed (object faults touch no pods).",
    }),
    checks: z.array(checkResultSchema).readonly(),
    verdict: verdictSchema,
    samples: z.array(sampleSchema).readonly().meta({
      description:
        "Every sample, sorted by sentAt; samples outside the run window are kept but count nowhere.",
    }),
  })
  .readonly();
export type RunReport = z.infer<typeof runReportSchema>;

/** What a run hands over: the evidence, in the engine's own shapes. */
export interface RunInput {
  readonly title: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly probes: readonly ProbeSpec[];
  /** Sorted, not overlapping, inside the run. */
  readonly chaosWindows: readonly ChaosWindow[];
  readonly samples: readonly Sample[];
  readonly faults: readonly FaultInput[];
  readonly restarts?: readonly RestartObservation[];
  readonly checks: readonly CheckSpec[];
  /** Why the run was cut short, if it was. */
  readonly aborted?: string;
}

/** The evidence in the report's own shapes: what `recompute` starts from. */
export interface RunFacts extends Omit<RunInput, "faults"> {
  readonly faults: readonly FaultFacts[];
}

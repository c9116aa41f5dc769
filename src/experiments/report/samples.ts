import { nearestRank as nearestRankOf } from "../../core/percentile.js";
import { z } from "zod";
import { count, epochMs, ms, name } from "./schema-fields.js";

/**
 * The figures of a run, computed from probe samples alone: per phase and per probe, how many probes were
 * sent, how many succeeded, availability, the longest unreachable stretch, latency percentiles and the
 * failures by kind. Pure functions of the samples, so a report that keeps its samples can be recomputed
 * and checked by anyone. The shapes are zod schemas, the one source of their types (schema-fields.ts).
 */

/** One probe request and what came of it, as the probe recorded it. */
export const sampleSchema = z
  .object({
    probe: name,
    sentAt: epochMs.meta({
      description: "Epoch ms when the request was sent: every time figure is built from these stamps.",
    }),
    latencyMs: z.number().nonnegative().meta({
      description: "From sending to the answer, or to the failure (a refused connection, a timeout).",
    }),
    ok: z.boolean(),
    status: z
      .number()
      .int()
      .exactOptional()
      .meta({ description: "The HTTP status, when there was an answer." }),
    error: z.string().exactOptional().meta({
      description:
        'A short failure kind ("ECONNREFUSED", "timeout"), when the probe failed without a status.',
    }),
  })
  .readonly();
export type Sample = z.infer<typeof sampleSchema>;

/** [start, end) in epoch ms: a sample sent exactly at `end` belongs to the next window. */
export const timeWindowSchema = z.object({ start: epochMs, end: epochMs });
export type TimeWindow = Readonly<z.infer<typeof timeWindowSchema>>;

export const phaseNames = ["baseline", "chaos", "recovery"] as const;
export type PhaseName = (typeof phaseNames)[number];
export type Phases = Readonly<Record<PhaseName, TimeWindow>>;

/**
 * The three phases of a run from its chaos windows (the times some fault was active): baseline until the
 * first window starts, chaos until the last one ends, recovery after. Gaps between windows count as
 * chaos: the system is still inside the experiment's disturbance, and calling them baseline or recovery
 * would mix disturbed samples into the undisturbed figures. The phases are contiguous, so every sample of
 * the run belongs to exactly one of them. A run without chaos windows (aborted before the first fault) is
 * all baseline, with empty chaos and recovery phases at its end. Windows must be sorted and inside the run.
 */
export function phasesOf(startedAt: number, endedAt: number, chaosWindows: readonly TimeWindow[]): Phases {
  const first = chaosWindows[0];
  const last = chaosWindows[chaosWindows.length - 1];
  if (first === undefined || last === undefined) {
    return {
      baseline: { start: startedAt, end: endedAt },
      chaos: { start: endedAt, end: endedAt },
      recovery: { start: endedAt, end: endedAt },
    };
  }
  return {
    baseline: { start: startedAt, end: first.start },
    chaos: { start: first.start, end: last.end },
    recovery: { start: last.end, end: endedAt },
  };
}

export function isWithin(sample: Sample, window: TimeWindow): boolean {
  return sample.sentAt >= window.start && sample.sentAt < window.end;
}

/** Sorts by sentAt, keeping the given order for equal stamps, so figures do not depend on arrival order. */
export function bySentAt(samples: readonly Sample[]): Sample[] {
  return samples
    .map((sample, index) => ({ sample, index }))
    .sort((a, b) => a.sample.sentAt - b.sample.sentAt || a.index - b.index)
    .map((entry) => entry.sample);
}

/**
 * successes / sent, rounded to 4 decimals. Null for no samples: no evidence is neither 100% nor 0%, and a
 * hypothesis check on it must not pass by default (checks treat null as failed).
 */
export function availability(successes: number, sent: number): number | null {
  if (sent === 0) return null;
  return Math.round((successes / sent) * 10_000) / 10_000;
}

/** A stretch of time when a probe could not reach its target. */
export const stretchSchema = z
  .object({
    ms,
    from: epochMs.meta({ description: "sentAt of the first failed sample." }),
    to: epochMs.meta({
      description: "sentAt of the next successful sample, or the end of the window when none came.",
    }),
    stillFailing: z.boolean().meta({
      description: "No success came before the window ended: `ms` is then a lower bound of the outage.",
    }),
  })
  .readonly();
export type Stretch = z.infer<typeof stretchSchema>;

/**
 * The longest unreachable stretch of one probe's samples inside `window`: for each run of consecutive
 * failures, from the sentAt of its first failed sample to the sentAt of the next successful sample; a run
 * still failing when the window ends extends to the window's end. Ties keep the earliest stretch.
 *
 * Why this meets the fidelity rule (within one probe interval plus 50 ms of a known outage [T0, T0 + L)):
 * samples are sent every I ms and each one's outcome is that of the target when it was sent. The first
 * failed sample is sent in [T0, T0 + I) and the first success after the outage in [T0 + L, T0 + L + I),
 * so the stretch lies in (L - I, L + I): off by less than one interval either way. Measuring to the last
 * failed sample instead would always come out short (a single failed sample would be 0 ms). The 50 ms is
 * for what the arithmetic ignores: timer jitter of the probe loop, and a probe sent just before the outage
 * whose connection meets it.
 */
export function longestUnreachable(samples: readonly Sample[], window: TimeWindow): Stretch | null {
  let longest: Stretch | null = null;
  let failingSince: number | undefined;
  for (const sample of bySentAt(samples.filter((s) => isWithin(s, window)))) {
    if (!sample.ok) {
      failingSince ??= sample.sentAt;
    } else if (failingSince !== undefined) {
      longest = longer(longest, failingSince, sample.sentAt, false);
      failingSince = undefined;
    }
  }
  if (failingSince !== undefined) longest = longer(longest, failingSince, window.end, true);
  return longest;
}

function longer(current: Stretch | null, from: number, to: number, stillFailing: boolean): Stretch {
  const ms = to - from;
  return current !== null && current.ms >= ms ? current : { ms, from, to, stillFailing };
}

/**
 * The outage users felt through one probe: every failed sample of the window lies in [from, lastFailedAt],
 * both of them failed samples, whether the failures came in one run or scattered (a Service whose pods
 * go down one by one fails only some requests); `to` is when traffic had returned, the sentAt of the first
 * success after the last failure, or the window's end when none came. Within one probe interval of the
 * true end, as longestUnreachable's stretches are.
 */
export const outageSchema = z
  .object({
    from: epochMs.meta({ description: "sentAt of the first failed sample." }),
    lastFailedAt: epochMs.meta({ description: "sentAt of the last failed sample." }),
    to: epochMs.meta({
      description: "sentAt of the first success after the last failed sample, or the window's end.",
    }),
    failures: count.meta({ description: "Failed samples in [from, lastFailedAt]: all of the window's." }),
    stillFailing: z.boolean().meta({ description: "No success came after the last failure." }),
  })
  .readonly();
export type Outage = z.infer<typeof outageSchema>;

/** The outage of one probe's samples inside `window`; null when none of them failed. */
export function outageOf(samples: readonly Sample[], window: TimeWindow): Outage | null {
  const mine = bySentAt(samples.filter((s) => isWithin(s, window)));
  const failed = mine.filter((sample) => !sample.ok);
  const first = failed[0];
  const last = failed[failed.length - 1];
  if (first === undefined || last === undefined) return null;
  const returned = mine.find((sample) => sample.ok && sample.sentAt > last.sentAt);
  return {
    from: first.sentAt,
    lastFailedAt: last.sentAt,
    to: returned?.sentAt ?? window.end,
    failures: failed.length,
    stillFailing: returned === undefined,
  };
}

/**
 * The nearest-rank percentile of ascending `sorted`: the smallest value with at least p% of the values at
 * or below it, i.e. the value at rank ceil(p/100 * n). It is always a latency that was measured, never an
 * interpolation, which is what a reader checking the report against its samples expects. `percent` is an
 * integer in (0, 100]; the rank is computed as ceil(p * n / 100) so integer inputs stay exact.
 */
export function nearestRank(sorted: readonly number[], percent: number): number | null {
  return nearestRankOf(sorted, percent) ?? null;
}

export const latencyFiguresSchema = z
  .object({
    samples: count.meta({ description: "The successful samples the percentiles are taken over." }),
    p50Ms: ms,
    p95Ms: ms,
    p99Ms: ms,
    maxMs: ms,
  })
  .readonly();
export type LatencyFigures = z.infer<typeof latencyFiguresSchema>;

/**
 * Percentiles over successful samples only: a refused connection answers in microseconds and a timeout in
 * exactly the timeout, so failures would drag the figures toward values no user waited for. Failures are
 * counted by availability and the unreachable stretch instead. Null when nothing succeeded.
 */
export function latencyFigures(samples: readonly Sample[]): LatencyFigures | null {
  const sorted = samples
    .filter((sample) => sample.ok)
    .map((sample) => sample.latencyMs)
    .sort((a, b) => a - b);
  const p50Ms = nearestRank(sorted, 50);
  const p95Ms = nearestRank(sorted, 95);
  const p99Ms = nearestRank(sorted, 99);
  const maxMs = nearestRank(sorted, 100);
  if (p50Ms === null || p95Ms === null || p99Ms === null || maxMs === null) return null;
  return { samples: sorted.length, p50Ms, p95Ms, p99Ms, maxMs };
}

/**
 * What a failed sample counts as: its error ("ECONNREFUSED", "timeout"), else "HTTP <status>" for an
 * answer that was not a success, else "failed". Probes should keep `error` short for this to group.
 */
export function failureKind(sample: Sample): string {
  if (sample.error !== undefined && sample.error !== "") return sample.error;
  if (sample.status !== undefined) return `HTTP ${sample.status}`;
  return "failed";
}

export const errorCountSchema = z.object({ kind: z.string(), count }).readonly();
export type ErrorCount = z.infer<typeof errorCountSchema>;

/** Failed samples by kind, most frequent first, then by name: a stable order for reports and diffs. */
export function errorCounts(samples: readonly Sample[]): ErrorCount[] {
  const counts = new Map<string, number>();
  for (const sample of samples) {
    if (sample.ok) continue;
    const kind = failureKind(sample);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts]
    .map(([kind, count]) => ({ kind, count }))
    .sort((a, b) => b.count - a.count || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
}

/** Everything the report says about one probe in one window. */
export const probeFiguresSchema = z
  .object({
    probe: name,
    sent: count,
    successes: count,
    failures: count,
    availability: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .meta({ description: "successes / sent to 4 decimals; null without samples." }),
    longestUnreachable: stretchSchema
      .nullable()
      .meta({ description: "Null when no sample in the window failed." }),
    outage: outageSchema
      .nullable()
      .meta({ description: "From the first failed sample to the last; null when none failed." }),
    latency: latencyFiguresSchema.nullable().meta({ description: "Null when no sample succeeded." }),
    errors: z.array(errorCountSchema).readonly(),
  })
  .readonly();
export type ProbeFigures = z.infer<typeof probeFiguresSchema>;

/** The figures of `probe` from the samples sent inside `window`; other probes' samples are ignored. */
export function probeFigures(probe: string, samples: readonly Sample[], window: TimeWindow): ProbeFigures {
  const mine = samples.filter((sample) => sample.probe === probe && isWithin(sample, window));
  const successes = mine.filter((sample) => sample.ok).length;
  return {
    probe,
    sent: mine.length,
    successes,
    failures: mine.length - successes,
    availability: availability(successes, mine.length),
    longestUnreachable: longestUnreachable(mine, window),
    outage: outageOf(mine, window),
    latency: latencyFigures(mine),
    errors: errorCounts(mine),
  };
}

/** The figures of every probe over one window: a phase, or the whole run. */
export const windowFiguresSchema = timeWindowSchema
  .extend({ probes: z.array(probeFiguresSchema).readonly() })
  .readonly();
export type WindowFigures = z.infer<typeof windowFiguresSchema>;

/** One entry per declared probe, in the order given, even for probes without samples in the window. */
export function windowFigures(
  probes: readonly string[],
  samples: readonly Sample[],
  window: TimeWindow,
): WindowFigures {
  return {
    start: window.start,
    end: window.end,
    probes: probes.map((probe) => probeFigures(probe, samples, window)),
  };
}

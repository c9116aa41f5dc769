/**
 * The figures of a run, computed from probe samples alone: per phase and per probe, how many probes were
 * sent, how many succeeded, availability, the longest unreachable stretch, latency percentiles and the
 * failures by kind. Pure functions of the samples, so a report that keeps its samples can be recomputed
 * and checked by anyone.
 */

/** One probe request and what came of it, as the probe recorded it. */
export interface Sample {
  readonly probe: string;
  /** Epoch ms when the request was sent: every time figure below is built from these stamps. */
  readonly sentAt: number;
  /** From sending to the answer, or to the failure (a refused connection, a timeout). */
  readonly latencyMs: number;
  readonly ok: boolean;
  /** The HTTP status, when there was an answer. */
  readonly status?: number;
  /** A short failure kind ("ECONNREFUSED", "timeout"), when the probe failed without a status. */
  readonly error?: string;
}

/** [start, end) in epoch ms: a sample sent exactly at `end` belongs to the next window. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

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
export interface Stretch {
  readonly ms: number;
  /** sentAt of the first failed sample. */
  readonly from: number;
  /** sentAt of the next successful sample, or the end of the window when none came. */
  readonly to: number;
  /** No success came before the window ended: `ms` is then a lower bound of the outage. */
  readonly stillFailing: boolean;
}

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
 * The nearest-rank percentile of ascending `sorted`: the smallest value with at least p% of the values at
 * or below it, i.e. the value at rank ceil(p/100 * n). It is always a latency that was measured, never an
 * interpolation, which is what a reader checking the report against its samples expects. `percent` is an
 * integer in (0, 100]; the rank is computed as ceil(p * n / 100) so integer inputs stay exact.
 */
export function nearestRank(sorted: readonly number[], percent: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((percent * sorted.length) / 100));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

export interface LatencyFigures {
  /** The successful samples the percentiles are taken over. */
  readonly samples: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

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

export interface ErrorCount {
  readonly kind: string;
  readonly count: number;
}

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
export interface ProbeFigures {
  readonly probe: string;
  readonly sent: number;
  readonly successes: number;
  readonly failures: number;
  /** successes / sent to 4 decimals; null without samples. */
  readonly availability: number | null;
  /** Null when no sample in the window failed. */
  readonly longestUnreachable: Stretch | null;
  readonly latency: LatencyFigures | null;
  readonly errors: readonly ErrorCount[];
}

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
    latency: latencyFigures(mine),
    errors: errorCounts(mine),
  };
}

/** The figures of every probe over one window: a phase, or the whole run. */
export interface WindowFigures {
  readonly start: number;
  readonly end: number;
  readonly probes: readonly ProbeFigures[];
}

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

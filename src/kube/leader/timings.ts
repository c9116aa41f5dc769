import { usageError } from "../../core/errors.js";

/** How leader election paces itself, in milliseconds (client-go's LeaderElectionConfig). */
export interface LeaderTimings {
  /** How long a candidate waits, by its own clock, after the last change it saw before it takes over. */
  readonly leaseDurationMs: number;
  /** How long the leader keeps failing to renew before it steps down. */
  readonly renewDeadlineMs: number;
  /** How long every participant waits between tries. */
  readonly retryPeriodMs: number;
}

/** client-go's defaults, which kube-controller-manager and kube-scheduler use. */
export const defaultLeaderTimings: LeaderTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/**
 * client-go's JitterFactor: a candidate waits between retryPeriod and (1 + 1.2) x retryPeriod between
 * tries, so candidates started together do not try in lockstep. The renew deadline must leave room for it.
 */
export const jitterFactor = 1.2;

/** The names the options go by where they were given (flags, a config file), for error messages. */
export interface TimingNames {
  readonly leaseDurationMs: string;
  readonly renewDeadlineMs: string;
  readonly retryPeriodMs: string;
}

export const defaultTimingNames: TimingNames = {
  leaseDurationMs: "leaseDuration",
  renewDeadlineMs: "renewDeadline",
  retryPeriodMs: "retryPeriod",
};

/** The Lease carries its duration in whole seconds; a week is far past any sane lease. */
const leaseBounds = { min: 1_000, max: 7 * 24 * 3_600_000 };
/** Below 100 ms a retry loop is a busy loop against the API server. */
const minRetryPeriodMs = 100;

function seconds(ms: number): string {
  return `${ms / 1000}s`;
}

/**
 * The timings `given` overrides of the defaults, checked as client-go checks them (BRD_USAGE naming the
 * option): the leader must give up before a candidate may take over, and a retry must fit in the renew
 * deadline with its jitter.
 */
export function leaderTimings(
  given: Partial<LeaderTimings> = {},
  names: TimingNames = defaultTimingNames,
): LeaderTimings {
  const timings = { ...defaultLeaderTimings, ...given };
  checkLeaseDuration(timings.leaseDurationMs, names.leaseDurationMs);
  checkRetryPeriod(timings.retryPeriodMs, names.retryPeriodMs);
  checkRenewDeadline(timings, names);
  return timings;
}

function checkLeaseDuration(ms: number, name: string): void {
  if (!Number.isInteger(ms) || ms % 1000 !== 0) {
    throw usageError(name, `must be whole seconds (the Lease stores seconds), got ${ms} ms`);
  }
  if (ms < leaseBounds.min || ms > leaseBounds.max) {
    throw usageError(name, `must be between 1s and ${seconds(leaseBounds.max)}, got ${seconds(ms)}`);
  }
}

function checkRetryPeriod(ms: number, name: string): void {
  if (!Number.isFinite(ms) || ms < minRetryPeriodMs) {
    throw usageError(name, `must be at least ${minRetryPeriodMs}ms, got ${ms} ms`);
  }
}

function checkRenewDeadline(timings: LeaderTimings, names: TimingNames): void {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = timings;
  if (!Number.isFinite(renewDeadlineMs) || renewDeadlineMs >= leaseDurationMs) {
    throw usageError(
      names.renewDeadlineMs,
      `must be shorter than ${names.leaseDurationMs} (${seconds(leaseDurationMs)}), got ${seconds(renewDeadlineMs)}: ` +
        "the leader must give up before another may take over",
    );
  }
  if (renewDeadlineMs <= jitterFactor * retryPeriodMs) {
    throw usageError(
      names.renewDeadlineMs,
      `must be longer than ${jitterFactor} x ${names.retryPeriodMs} (${seconds(retryPeriodMs)}), got ${seconds(renewDeadlineMs)}: ` +
        "the leader must have time to retry a failed renewal",
    );
  }
}

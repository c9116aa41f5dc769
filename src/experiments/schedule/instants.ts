import { nextRuns, previousCronRun, type CronSpec } from "../files/cron.js";

/**
 * The instants a Schedule fires at, computed from the cron alone, never from when a run ended: Chaos Mesh's
 * controllers/schedule/cron/utils.go (getRecentUnmetScheduleTime, taken from Kubernetes' CronJob
 * controller) as pure functions of (cron, after, now). Times are epoch milliseconds.
 */

/**
 * Chaos Mesh gives up past this many unmet instants ("too many missed start time (> 100)"); Broadside stops
 * counting there too, but still starts the most recent instant, as Kubernetes' CronJob controller does.
 */
export const tooManyMissed = 100;

/** Instants that were due but will not start, oldest to newest. */
export interface MissedInstants {
  readonly first: number;
  readonly last: number;
  /** How many; `tooManyMissed + 1` when `tooMany`. */
  readonly count: number;
  /** More than `tooManyMissed` were missed, and counting stopped. */
  readonly tooMany: boolean;
}

export type DueInstants =
  | {
      readonly kind: "wait";
      /** The next instant; undefined if the cron never fires again. */
      readonly next: number | undefined;
    }
  | {
      readonly kind: "due";
      /** The most recent instant at or before now: the only one Chaos Mesh starts. */
      readonly latest: number;
      /** The instants due before it, which are missed; undefined when there were none. */
      readonly earlier: MissedInstants | undefined;
    };

function instantsAfter(cron: CronSpec, after: number, count: number): number[] {
  return nextRuns(cron, new Date(after), count).map((instant) => instant.getTime());
}

/** The first instant strictly after `after`, or undefined if the cron never fires again. */
export function nextInstant(cron: CronSpec, after: number): number | undefined {
  return instantsAfter(cron, after, 1)[0];
}

function missed(first: number, last: number, count: number): MissedInstants {
  return count > tooManyMissed
    ? { first, last, count: tooManyMissed + 1, tooMany: true }
    : { first, last, count, tooMany: false };
}

/** @every: instants at a fixed step from `after` truncated to the second (robfig's ConstantDelaySchedule). */
function dueEvery(step: number, after: number, now: number): DueInstants {
  const anchor = Math.floor(after / 1000) * 1000;
  const steps = Math.floor((now - anchor) / step);
  if (steps < 1) return { kind: "wait", next: anchor + step };
  const latest = anchor + steps * step;
  const earlier = steps > 1 ? missed(anchor + step, latest - step, steps - 1) : undefined;
  return { kind: "due", latest, earlier };
}

/** More than `tooManyMissed` instants are due: find the most recent from `now` backwards. */
function dueTooMany(cron: Extract<CronSpec, { kind: "cron" }>, first: number, now: number): DueInstants {
  const latest = previousCronRun(cron, new Date(now + 1))?.getTime() ?? first;
  const last = previousCronRun(cron, new Date(latest))?.getTime() ?? first;
  return { kind: "due", latest, earlier: missed(first, last, tooManyMissed + 1) };
}

function dueCron(cron: Extract<CronSpec, { kind: "cron" }>, after: number, now: number): DueInstants {
  const [first, second] = instantsAfter(cron, after, 2);
  if (first === undefined || first > now) return { kind: "wait", next: first };
  if (second === undefined || second > now) return { kind: "due", latest: first, earlier: undefined };
  const due = instantsAfter(cron, after, tooManyMissed + 2).filter((instant) => instant <= now);
  if (due.length > tooManyMissed + 1) return dueTooMany(cron, first, now);
  const latest = due.pop() ?? first;
  return { kind: "due", latest, earlier: missed(first, due.at(-1) ?? first, due.length) };
}

/**
 * The instants in (after, now]: none yet (wait for the next), or the most recent one and those it
 * supersedes. `after` is when the schedule started, then the last instant it dealt with.
 */
export function dueInstants(cron: CronSpec, after: number, now: number): DueInstants {
  return cron.kind === "every" ? dueEvery(cron.interval.milliseconds, after, now) : dueCron(cron, after, now);
}

/** Every instant due, the most recent included: what is missed when even that one is too late. */
export function allDue(due: Extract<DueInstants, { kind: "due" }>): MissedInstants {
  if (due.earlier === undefined) return missed(due.latest, due.latest, 1);
  return missed(due.earlier.first, due.latest, due.earlier.count + 1);
}

export interface FiringPlan {
  /** Epoch milliseconds, in order. */
  readonly instants: readonly number[];
  /** False when there are more instants in the window than the limit let through. */
  readonly complete: boolean;
}

/**
 * The instants at which a schedule started at `start` and stopped at `end` would fire, for --dry-run: the
 * first instant after `start` (never `start` itself: Chaos Mesh counts from the creation time, exclusive)
 * up to `end`, exclusive. At most `limit` of them. The runner may still skip some (Forbid, deadline).
 */
export function firingInstants(cron: CronSpec, start: number, end: number, limit = 1000): FiringPlan {
  const instants: number[] = [];
  let batch = 16;
  while (instants.length < limit) {
    const wanted = Math.min(batch, limit - instants.length);
    const found = instantsAfter(cron, instants.at(-1) ?? start, wanted);
    const inside = found.filter((instant) => instant < end);
    instants.push(...inside);
    // Past the end, or the cron never fires again.
    if (inside.length < wanted) return { instants, complete: true };
    batch *= 2;
  }
  const next = nextInstant(cron, instants.at(-1) ?? start);
  return { instants, complete: next === undefined || next >= end };
}

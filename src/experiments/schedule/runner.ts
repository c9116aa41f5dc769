import type { Clock } from "../../core/clock.js";
import { BroadsideError } from "../../core/errors.js";
import type { CronSpec } from "../files/cron.js";
import { retirable } from "./history.js";
import { allDue, dueInstants, type DueInstants, type MissedInstants } from "./instants.js";

/**
 * Runs a Chaos Mesh Schedule's runs on its cron, in process, the way Chaos Mesh's schedule controllers do
 * (controllers/schedule/cron/controller.go and utils.go, controllers/schedule/gc/controller.go):
 *
 * - the first run is at the first instant after the start, never at the start;
 * - every instant comes from the cron, never from when a run ended, so runs do not drift;
 * - when it wakes up late past several instants, only the most recent starts; the others are missed;
 * - with startingDeadlineSeconds, an instant reached later than that is missed, and nothing starts;
 * - Forbid: an instant reached while a run is still going is skipped; Allow: runs overlap;
 * - the history keeps `historyLimit` runs: the oldest finished ones beyond it are retired;
 * - a run that throws is recorded as failed, and the schedule goes on.
 *
 * Where Broadside parts from Chaos Mesh, and why:
 * - a skipped (Forbid) or missed instant is done with. Chaos Mesh leaves lastScheduleTime where it was, so
 *   it may start that instant late once the run ends, or never again when nothing requeues the Schedule
 *   (chaos-mesh issues #2984, #4470);
 * - past 100 missed instants Chaos Mesh starts nothing and stays stuck (issue #3882); Broadside counts 101
 *   and starts the most recent, as Kubernetes' CronJob controller does;
 * - @every counts from the instant, Chaos Mesh from the time it spawned the run (lastScheduleTime = now):
 *   the same unless a run started a second or more late;
 * - an instant exactly startingDeadlineSeconds late starts (controller.go's test); utils.go's window
 *   would already leave it out.
 */

/** A run the schedule started. `index` counts started runs from 0. */
export interface ScheduledRun {
  readonly index: number;
  /** The cron instant the run is for. */
  readonly scheduledAt: number;
  /** When it started: the instant, or later if the process was late. */
  readonly startedAt: number;
}

export type RunOutcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

export interface FinishedRun<T> extends ScheduledRun {
  readonly finishedAt: number;
  readonly outcome: RunOutcome<T>;
}

/** Instants that did not start. */
export interface MissedRuns extends MissedInstants {
  /**
   * late: the process woke up after later instants (event loop blocked, clock jumped) and, like Chaos Mesh,
   * starts only the most recent; deadline: even the most recent is later than startingDeadlineSeconds.
   */
  readonly reason: "late" | "deadline";
  /** When the schedule noticed. */
  readonly at: number;
}

export type ScheduleEvent<T> =
  | ({ readonly type: "started" } & ScheduledRun)
  | {
      /** Forbid: the instant came while these runs were still going (Chaos Mesh's ScheduleForbid). */
      readonly type: "skipped";
      readonly scheduledAt: number;
      readonly at: number;
      readonly running: readonly number[];
    }
  | ({ readonly type: "missed" } & MissedRuns)
  | ({ readonly type: "finished" } & FinishedRun<T>)
  | ({ readonly type: "retired" } & FinishedRun<T>);

export interface ScheduleRunnerOptions<T> {
  readonly cron: CronSpec;
  readonly concurrencyPolicy: "Forbid" | "Allow";
  /** An instant reached more than this many seconds late does not start. Absent: no deadline. */
  readonly startingDeadlineSeconds?: number;
  /** How many runs the history keeps (Chaos Mesh's historyLimit, at least 1); older finished ones retire. */
  readonly historyLimit: number;
  readonly clock: Clock;
  /** Stops the scheduling at once (Ctrl-C, or the schedule's time is up); runs in flight finish. */
  readonly signal: AbortSignal;
  /** One run. Its own failure (a throw, a rejection) is recorded; the schedule goes on. */
  readonly run: (run: ScheduledRun) => Promise<T>;
  /** Told of each event as it happens. Must not throw: if it does, the schedule stops and rejects. */
  readonly onEvent?: (event: ScheduleEvent<T>) => void;
}

export interface ScheduleSummary<T> {
  readonly started: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Forbid: instants skipped because a run was still going. */
  readonly skipped: number;
  /** Instants missed, late or past the deadline (a lower bound when `tooManyMissed`). */
  readonly missed: number;
  /** At least once more than 100 instants were missed at a time, which counted as 101. */
  readonly tooManyMissed: boolean;
  readonly retired: number;
  /** The runs the history kept, oldest first: the last `historyLimit` started. */
  readonly history: readonly FinishedRun<T>[];
}

/**
 * A sleep never lasts longer than this: Node's timers overflow past 24.8 days (and then fire at once), and
 * a wall clock that jumps while the schedule sleeps is noticed within this much.
 */
export const maxSleepMs = 60_000;

interface Slot<T> {
  readonly run: ScheduledRun;
  finished?: FinishedRun<T>;
}

type Due = Extract<DueInstants, { kind: "due" }>;

class Schedule<T> {
  private readonly inFlight = new Map<number, Promise<void>>();
  /** Started runs, oldest first, until retired: Chaos Mesh's chaos objects owned by the Schedule. */
  private readonly slots: Slot<T>[] = [];
  private readonly stop = new AbortController();
  private listenerError: { readonly error: unknown } | undefined;
  private counts = { started: 0, succeeded: 0, failed: 0, skipped: 0, missed: 0, retired: 0 };
  private tooManyMissed = false;

  constructor(private readonly options: ScheduleRunnerOptions<T>) {}

  async run(): Promise<ScheduleSummary<T>> {
    const signal = AbortSignal.any([this.options.signal, this.stop.signal]);
    // Chaos Mesh counts from the Schedule's creation, then from its last schedule time.
    let after = this.options.clock.now();
    while (!signal.aborted) after = await this.step(after, signal);
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
    if (this.listenerError !== undefined) {
      throw new BroadsideError("BRD_INTERNAL", "a schedule event listener threw", {
        cause: this.listenerError.error,
      });
    }
    return this.summary();
  }

  /** One reconcile: sleeps until the next instant, or deals with the instants due; returns the new `after`. */
  private async step(after: number, signal: AbortSignal): Promise<number> {
    const { clock, cron } = this.options;
    const now = clock.now();
    const due = dueInstants(cron, after, now);
    if (due.kind === "due") {
      this.fire(due, now);
      return due.latest;
    }
    const wait = due.next === undefined ? maxSleepMs : Math.min(due.next - now, maxSleepMs);
    await clock.sleep(wait, signal);
    return after;
  }

  private fire(due: Due, now: number): void {
    const { startingDeadlineSeconds, concurrencyPolicy } = this.options;
    if (startingDeadlineSeconds !== undefined && now - due.latest > startingDeadlineSeconds * 1000) {
      this.missed(allDue(due), "deadline", now);
      return;
    }
    if (due.earlier !== undefined) this.missed(due.earlier, "late", now);
    if (concurrencyPolicy === "Forbid" && this.inFlight.size > 0) {
      this.counts.skipped += 1;
      this.emit({ type: "skipped", scheduledAt: due.latest, at: now, running: [...this.inFlight.keys()] });
      return;
    }
    this.start(due.latest, now);
  }

  private missed(instants: MissedInstants, reason: MissedRuns["reason"], at: number): void {
    this.counts.missed += instants.count;
    this.tooManyMissed ||= instants.tooMany;
    this.emit({ type: "missed", ...instants, reason, at });
  }

  private start(scheduledAt: number, startedAt: number): void {
    const run: ScheduledRun = { index: this.counts.started, scheduledAt, startedAt };
    this.counts.started += 1;
    const slot: Slot<T> = { run };
    this.slots.push(slot);
    this.emit({ type: "started", ...run });
    this.retire();
    this.inFlight.set(
      run.index,
      this.execute(run).then((outcome) => {
        this.finish(slot, outcome);
      }),
    );
  }

  private async execute(run: ScheduledRun): Promise<RunOutcome<T>> {
    try {
      return { ok: true, value: await this.options.run(run) };
    } catch (error: unknown) {
      return { ok: false, error };
    }
  }

  private finish(slot: Slot<T>, outcome: RunOutcome<T>): void {
    this.inFlight.delete(slot.run.index);
    const finished: FinishedRun<T> = { ...slot.run, finishedAt: this.options.clock.now(), outcome };
    slot.finished = finished;
    if (outcome.ok) this.counts.succeeded += 1;
    else this.counts.failed += 1;
    this.emit({ type: "finished", ...finished });
    this.retire();
  }

  /** Chaos Mesh's gc pass, after each run starts or finishes. */
  private retire(): void {
    const retired = retirable(this.slots, this.options.historyLimit, (slot) => slot.finished !== undefined);
    for (const slot of retired) {
      this.slots.splice(this.slots.indexOf(slot), 1);
      this.counts.retired += 1;
      if (slot.finished !== undefined) this.emit({ type: "retired", ...slot.finished });
    }
  }

  private emit(event: ScheduleEvent<T>): void {
    try {
      this.options.onEvent?.(event);
    } catch (error: unknown) {
      this.listenerError ??= { error };
      this.stop.abort();
    }
  }

  private summary(): ScheduleSummary<T> {
    const history = this.slots.flatMap((slot) => (slot.finished === undefined ? [] : [slot.finished]));
    return { ...this.counts, tooManyMissed: this.tooManyMissed, history };
  }
}

/**
 * Runs the schedule until `signal` aborts, then waits for the runs in flight. Resolves with what happened;
 * rejects only when `onEvent` threw (after the runs in flight have settled).
 */
export function runSchedule<T>(options: ScheduleRunnerOptions<T>): Promise<ScheduleSummary<T>> {
  return new Schedule(options).run();
}

import { describeError } from "../../core/errors.js";
import { formatInstant, formatMs } from "../report/format.js";
import type { FinishedRun, MissedRuns, ScheduleEvent, ScheduleSummary } from "./runner.js";

/** One line per schedule event, for progress output. Runs are numbered from 1. */

function runName(index: number): string {
  return `run ${String(index + 1)}`;
}

function runs(count: number, tooMany: boolean): string {
  if (tooMany) return `more than ${String(count - 1)} runs`;
  return count === 1 ? "1 run" : `${String(count)} runs`;
}

function describeMissed(event: MissedRuns): string {
  const span =
    event.first === event.last
      ? `of ${formatInstant(event.first)}`
      : `from ${formatInstant(event.first)} to ${formatInstant(event.last)}`;
  const what = `missed ${runs(event.count, event.tooMany)} ${span}`;
  if (event.reason === "deadline") {
    return `${what}: ${formatMs(event.at - event.last)} late, past startingDeadlineSeconds`;
  }
  return `${what}: woke up late, only the most recent instant starts`;
}

function describeFinished<T>(event: FinishedRun<T>): string {
  const took = formatMs(event.finishedAt - event.startedAt);
  if (event.outcome.ok) return `${runName(event.index)} finished in ${took}`;
  return `${runName(event.index)} failed after ${took}: ${describeError(event.outcome.error)}`;
}

export function describeScheduleEvent<T>(event: ScheduleEvent<T>): string {
  switch (event.type) {
    case "started": {
      const late = event.startedAt - event.scheduledAt;
      const lateness = late > 0 ? ` (${formatMs(late)} late)` : "";
      return `${runName(event.index)} started for ${formatInstant(event.scheduledAt)}${lateness}`;
    }
    case "skipped": {
      const running = event.running.map(runName).join(", ");
      return `skipped the run of ${formatInstant(event.scheduledAt)}: concurrencyPolicy Forbid and ${running} still going`;
    }
    case "missed":
      return describeMissed(event);
    case "finished":
      return describeFinished(event);
    case "retired":
      return `${runName(event.index)} retired from the history (historyLimit)`;
  }
}

export function describeScheduleSummary<T>(summary: ScheduleSummary<T>): string {
  const missed = summary.tooManyMissed ? `at least ${String(summary.missed)}` : String(summary.missed);
  return [
    `${String(summary.started)} started (${String(summary.succeeded)} succeeded, ${String(summary.failed)} failed)`,
    `${String(summary.skipped)} skipped (Forbid)`,
    `${missed} missed`,
    `${String(summary.history.length)} kept in the history`,
  ].join(", ");
}

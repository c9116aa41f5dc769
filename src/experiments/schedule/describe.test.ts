import { describe, expect, it } from "vitest";
import { describeScheduleEvent, describeScheduleSummary } from "./describe.js";
import type { ScheduleEvent } from "./runner.js";

const T0 = Date.UTC(2024, 0, 1, 10, 0, 0);
const s = (seconds: number): number => T0 + seconds * 1000;

describe("describeScheduleEvent", () => {
  it.each<[ScheduleEvent<string>, string]>([
    [
      { type: "started", index: 0, scheduledAt: s(30), startedAt: s(30) },
      "run 1 started for 2024-01-01T10:00:30.000Z",
    ],
    [
      { type: "started", index: 1, scheduledAt: s(90), startedAt: s(95) },
      "run 2 started for 2024-01-01T10:01:30.000Z (5000 ms late)",
    ],
    [
      { type: "skipped", scheduledAt: s(60), at: s(60), running: [0] },
      "skipped the run of 2024-01-01T10:01:00.000Z: concurrencyPolicy Forbid and run 1 still going",
    ],
    [
      { type: "missed", reason: "late", first: s(30), last: s(60), count: 2, tooMany: false, at: s(95) },
      "missed 2 runs from 2024-01-01T10:00:30.000Z to 2024-01-01T10:01:00.000Z: woke up late, only the most recent instant starts",
    ],
    [
      { type: "missed", reason: "late", first: s(1), last: s(999), count: 101, tooMany: true, at: s(1000) },
      "missed more than 100 runs from 2024-01-01T10:00:01.000Z to 2024-01-01T10:16:39.000Z: woke up late, only the most recent instant starts",
    ],
    [
      { type: "missed", reason: "deadline", first: s(30), last: s(30), count: 1, tooMany: false, at: s(41) },
      "missed 1 run of 2024-01-01T10:00:30.000Z: 11.0 s late, past startingDeadlineSeconds",
    ],
    [
      {
        type: "finished",
        index: 0,
        scheduledAt: s(30),
        startedAt: s(30),
        finishedAt: s(75),
        outcome: { ok: true, value: "ok" },
      },
      "run 1 finished in 45.0 s",
    ],
    [
      {
        type: "finished",
        index: 2,
        scheduledAt: s(30),
        startedAt: s(30),
        finishedAt: s(31),
        outcome: { ok: false, error: new Error("boom") },
      },
      "run 3 failed after 1000 ms: boom",
    ],
    [
      {
        type: "retired",
        index: 0,
        scheduledAt: s(30),
        startedAt: s(30),
        finishedAt: s(31),
        outcome: { ok: true, value: "ok" },
      },
      "run 1 retired from the history (historyLimit)",
    ],
  ])("%#: %s", (event, line) => {
    expect(describeScheduleEvent(event)).toBe(line);
  });
});

describe("describeScheduleSummary", () => {
  it("counts what happened, and says when the missed count is a lower bound", () => {
    const summary = {
      started: 3,
      succeeded: 2,
      failed: 1,
      skipped: 1,
      missed: 101,
      tooManyMissed: true,
      retired: 2,
      history: [],
    };
    expect(describeScheduleSummary(summary)).toBe(
      "3 started (2 succeeded, 1 failed), 1 skipped (Forbid), at least 101 missed, 0 kept in the history",
    );
  });
});

import { describe, expect, it } from "vitest";
import { parseCron, type CronSpec } from "../files/cron.js";
import { allDue, dueInstants, firingInstants, tooManyMissed } from "./instants.js";

function cron(text: string): CronSpec {
  const result = parseCron(text);
  if (!result.ok) throw new Error(result.problem);
  return result.spec;
}

const at = (iso: string): number => Date.parse(iso);
const iso = (instants: readonly number[]): string[] => instants.map((i) => new Date(i).toISOString());

describe("dueInstants: Chaos Mesh's getRecentUnmetScheduleTime", () => {
  // controllers/schedule/cron/utils_test.go, TestGetRecentUnmetScheduleTime, case by case.
  it.each([
    { after: "05:59:38.000", now: "05:59:43.500", kind: "due", instant: "05:59:43.000" },
    { after: "06:49:35.000", now: "06:49:35.079", kind: "wait", instant: "06:49:40.000" },
    { after: "06:49:35.000", now: "06:49:38.079", kind: "wait", instant: "06:49:40.000" },
    { after: "06:49:35.000", now: "06:49:40.079", kind: "due", instant: "06:49:40.000" },
  ])("@every 5s after $after, at $now: $kind $instant", ({ after, now, kind, instant }) => {
    const time = (hms: string): number => at(`2021-04-28T${hms}Z`);
    const due = dueInstants(cron("@every 5s"), time(after), time(now));
    expect(due).toEqual(
      kind === "wait" ? { kind, next: time(instant) } : { kind, latest: time(instant), earlier: undefined },
    );
  });

  it("waits for the first instant strictly after `after`, even when `after` is an instant", () => {
    const after = at("2024-01-01T10:00:00Z");
    expect(dueInstants(cron("*/30 * * * * *"), after, after)).toEqual({
      kind: "wait",
      next: at("2024-01-01T10:00:30Z"),
    });
  });

  it("counts an instant reached exactly as due", () => {
    const due = dueInstants(cron("*/30 * * * * *"), at("2024-01-01T10:00:00Z"), at("2024-01-01T10:00:30Z"));
    expect(due).toEqual({ kind: "due", latest: at("2024-01-01T10:00:30Z"), earlier: undefined });
  });

  it("starts only the most recent of several instants due; the earlier ones are missed", () => {
    const due = dueInstants(cron("*/30 * * * * *"), at("2024-01-01T10:00:00Z"), at("2024-01-01T10:01:35Z"));
    expect(due).toEqual({
      kind: "due",
      latest: at("2024-01-01T10:01:30Z"),
      earlier: {
        first: at("2024-01-01T10:00:30Z"),
        last: at("2024-01-01T10:01:00Z"),
        count: 2,
        tooMany: false,
      },
    });
  });

  it.each([
    ["* * * * * *", 500],
    ["* * * * * *", 0],
    ["@every 1s", 500],
    ["@every 1s", 0],
  ])(
    "%s: stops counting past 100 missed, and still finds the most recent instant (+%i ms)",
    (text, extra) => {
      const start = at("2024-01-01T10:00:00Z");
      const due = dueInstants(cron(text), start, start + 1_000_000 + extra);
      expect(due).toEqual({
        kind: "due",
        latest: start + 1_000_000,
        earlier: { first: start + 1000, last: start + 999_000, count: tooManyMissed + 1, tooMany: true },
      });
    },
  );

  it("counts exactly 100 missed as not too many", () => {
    const start = at("2024-01-01T10:00:00Z");
    const due = dueInstants(cron("* * * * * *"), start, start + 101_000);
    expect(due.kind === "due" ? due.earlier : undefined).toEqual({
      first: start + 1000,
      last: start + 100_000,
      count: 100,
      tooMany: false,
    });
  });

  it("counts every instant due, the most recent included, when even that one is too late", () => {
    const start = at("2024-01-01T10:00:00Z");
    const several = dueInstants(cron("*/30 * * * * *"), start, start + 95_000);
    const one = dueInstants(cron("*/30 * * * * *"), start, start + 35_000);
    if (several.kind !== "due" || one.kind !== "due") throw new Error("expected instants due");
    expect(allDue(several)).toEqual({
      first: start + 30_000,
      last: start + 90_000,
      count: 3,
      tooMany: false,
    });
    expect(allDue(one)).toEqual({ first: start + 30_000, last: start + 30_000, count: 1, tooMany: false });
  });
});

describe("firingInstants: what a schedule would fire, for --dry-run", () => {
  it("fires after the start, never at it, and before the end", () => {
    const plan = firingInstants(
      cron("*/30 * * * * *"),
      at("2024-01-01T10:00:00Z"),
      at("2024-01-01T10:02:00Z"),
    );
    expect(iso(plan.instants)).toEqual([
      "2024-01-01T10:00:30.000Z",
      "2024-01-01T10:01:00.000Z",
      "2024-01-01T10:01:30.000Z",
    ]);
    expect(plan.complete).toBe(true);
  });

  it("runs @every from the start truncated to the second, as robfig's ConstantDelaySchedule", () => {
    const plan = firingInstants(
      cron("@every 5s"),
      at("2024-01-01T10:00:00.400Z"),
      at("2024-01-01T10:00:12Z"),
    );
    expect(iso(plan.instants)).toEqual(["2024-01-01T10:00:05.000Z", "2024-01-01T10:00:10.000Z"]);
  });

  it("runs a CRON_TZ expression in its zone", () => {
    const plan = firingInstants(
      cron("CRON_TZ=Asia/Tokyo 0 9 * * *"),
      at("2024-01-01T00:00:00Z"),
      at("2024-01-03T12:00:00Z"),
    );
    expect(iso(plan.instants)).toEqual(["2024-01-02T00:00:00.000Z", "2024-01-03T00:00:00.000Z"]);
  });

  it("stops at the limit and says whether more would fire", () => {
    const start = at("2024-01-01T10:00:00Z");
    const more = firingInstants(cron("* * * * * *"), start, start + 3_600_000, 5);
    expect(more.instants).toEqual([1, 2, 3, 4, 5].map((s) => start + s * 1000));
    expect(more.complete).toBe(false);
    const exactly = firingInstants(cron("* * * * * *"), start, start + 5_500, 5);
    expect(exactly.instants).toHaveLength(5);
    expect(exactly.complete).toBe(true);
  });

  it("enumerates a long window in batches, in order and without duplicates", () => {
    const start = at("2024-01-01T10:00:00Z");
    const plan = firingInstants(cron("*/10 * * * * *"), start, start + 3_600_000);
    expect(plan.instants).toHaveLength(359);
    expect(plan.instants.every((instant, i) => instant === start + (i + 1) * 10_000)).toBe(true);
    expect(plan.complete).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import type { CronSpec } from "./cron.js";
import { nextRuns, parseCron } from "./cron.js";

function spec(text: string): CronSpec {
  const result = parseCron(text);
  if (!result.ok) throw new Error(result.problem);
  return result.spec;
}

function runs(text: string, from: string, count = 3): string[] {
  return nextRuns(spec(text), new Date(from), count).map((run) => run.toISOString());
}

describe("parseCron: what Chaos Mesh's parser reads, and seconds", () => {
  it("runs five fields on the minute, in UTC", () => {
    expect(spec("5 * * * *")).toEqual({
      kind: "cron",
      text: "5 * * * *",
      pattern: "5 * * * *",
      seconds: false,
    });
    expect(runs("5 * * * *", "2025-01-01T00:10:00Z")).toEqual([
      "2025-01-01T01:05:00.000Z",
      "2025-01-01T02:05:00.000Z",
      "2025-01-01T03:05:00.000Z",
    ]);
  });

  it("takes a sixth field, seconds first, which Chaos Mesh refuses", () => {
    expect(spec("*/20 * * * * *")).toMatchObject({ seconds: true });
    expect(runs("*/20 * * * * *", "2025-01-01T00:00:05Z")).toEqual([
      "2025-01-01T00:00:20.000Z",
      "2025-01-01T00:00:40.000Z",
      "2025-01-01T00:01:00.000Z",
    ]);
  });

  it.each([
    ["@hourly", "0 * * * *"],
    ["@daily", "0 0 * * *"],
    ["@midnight", "0 0 * * *"],
    ["@weekly", "0 0 * * 0"],
    ["@monthly", "0 0 1 * *"],
    ["@yearly", "0 0 1 1 *"],
    ["@annually", "0 0 1 1 *"],
  ])("expands robfig's descriptor %s", (descriptor, pattern) => {
    expect(spec(descriptor)).toMatchObject({ kind: "cron", pattern });
  });

  it("reads robfig's N/step as from N, every step, and names of months and days", () => {
    expect(runs("5/20 * * * *", "2025-01-01T00:00:00Z")).toEqual([
      "2025-01-01T00:05:00.000Z",
      "2025-01-01T00:25:00.000Z",
      "2025-01-01T00:45:00.000Z",
    ]);
    expect(runs("0 9 * JAN MON-FRI", "2025-01-03T10:00:00Z", 2)).toEqual([
      "2025-01-06T09:00:00.000Z",
      "2025-01-07T09:00:00.000Z",
    ]);
  });

  it("runs in the zone of a CRON_TZ= or TZ= prefix", () => {
    expect(spec("CRON_TZ=Europe/Paris 0 9 * * *")).toMatchObject({
      pattern: "0 9 * * *",
      timezone: "Europe/Paris",
    });
    expect(runs("TZ=Europe/Paris 0 9 * * *", "2025-01-01T00:00:00Z", 1)).toEqual([
      "2025-01-01T08:00:00.000Z",
    ]);
  });

  it("runs @every as robfig does: from the start truncated to the second, in whole seconds", () => {
    expect(spec("@every 1m30s")).toMatchObject({ kind: "every", interval: { milliseconds: 90_000 } });
    expect(runs("@every 1m30s", "2025-01-01T00:00:00.700Z", 2)).toEqual([
      "2025-01-01T00:01:30.000Z",
      "2025-01-01T00:03:00.000Z",
    ]);
    const rounded = parseCron("@every 1500ms");
    expect(rounded).toMatchObject({ ok: true, spec: { interval: { milliseconds: 1000 } } });
    expect(rounded.ok && rounded.warnings).toEqual(["@every 1500ms: runs every whole second only"]);
    // Below a second is refused, not run every second as robfig would: the docs promise at least 1 s.
    expect(parseCron("@every 10ms")).toMatchObject({ ok: false });
    expect(parseCron("@every 0s")).toEqual({
      ok: false,
      problem: "@every 0s: the interval must be from 1s to 24h",
    });
  });

  it.each([
    ["", "must not be empty"],
    ["61 * * * *", "is not a valid cron expression: invalid value for minute: 61"],
    ["* 24 * * *", "is not a valid cron expression: invalid value for hour: 24"],
    ["60 * * * * *", "is not a valid cron expression: invalid value for second: 60"],
    ["* * 31 2 *", "never fires: no date matches every field (such as the 31st of February)"],
    ["0 0 31 4,6,9,11 *", "never fires"],
    [
      "* * * *",
      "must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got 4",
    ],
    // Six fields read seconds first, so a trailing year lands in day-of-week.
    ["0 0 1 1 * 2030", "is not a valid cron expression: invalid value for dayOfWeek: 2030"],
    ["* * * * * * *", "got 7"],
    ["0 0 L * *", 'field "L" uses L, W, # or +'],
    ["0 0 * * FRI#2", 'field "FRI#2" uses L, W, # or +'],
    ["@fortnightly", '"@fortnightly" is not a descriptor'],
    ["@every", '"@every" is not a descriptor'],
    ["@every soon", '@every "soon" is not a duration'],
    ["@every -5s", '@every must not be negative, got "-5s"'],
    ["TZ=Mars/Olympus 0 0 * * *", '"Mars/Olympus" is not a time zone'],
  ])("refuses %j: %s", (text, problem) => {
    const result = parseCron(text);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toContain(problem);
  });

  it("keeps a leap day, which fires every four years", () => {
    expect(runs("0 0 29 2 *", "2025-01-01T00:00:00Z", 2)).toEqual([
      "2028-02-29T00:00:00.000Z",
      "2032-02-29T00:00:00.000Z",
    ]);
  });
});

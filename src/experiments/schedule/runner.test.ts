import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../core/fake-clock.js";
import { BroadsideError } from "../../core/errors.js";
import { deferred } from "../../core/deferred.js";
import { parseCron, type CronSpec } from "../files/cron.js";
import {
  maxSleepMs,
  runSchedule,
  type ScheduledRun,
  type ScheduleEvent,
  type ScheduleRunnerOptions,
  type ScheduleSummary,
} from "./runner.js";

const T0 = Date.UTC(2024, 0, 1, 10, 0, 0);
const s = (seconds: number): number => T0 + seconds * 1000;

function cron(text: string): CronSpec {
  const result = parseCron(text);
  if (!result.ok) throw new Error(result.problem);
  return result.spec;
}

type Options<T> = Partial<Omit<ScheduleRunnerOptions<T>, "clock" | "signal" | "onEvent" | "cron" | "run">> & {
  readonly cron?: string;
  readonly start?: number;
  /** One run, given the schedule's clock. */
  readonly run?: (run: ScheduledRun, clock: FakeClock) => Promise<T>;
};

/** Starts a schedule on a fake clock; the test moves time and reads the events. */
function start<T = string>(options: Options<T> = {}) {
  const clock = new FakeClock(options.start ?? T0);
  const stop = new AbortController();
  const events: ScheduleEvent<T>[] = [];
  let summary: ScheduleSummary<T> | undefined;
  const run = options.run ?? (() => Promise.resolve("ok" as T));
  const done = runSchedule<T>({
    concurrencyPolicy: "Forbid",
    historyLimit: 10,
    ...options,
    cron: cron(options.cron ?? "*/30 * * * * *"),
    run: (scheduled) => run(scheduled, clock),
    clock,
    signal: stop.signal,
    onEvent: (event) => events.push(event),
  }).then((result) => {
    summary = result;
    return result;
  });
  const of = <K extends ScheduleEvent<T>["type"]>(type: K) =>
    events.filter((event): event is Extract<ScheduleEvent<T>, { type: K }> => event.type === type);
  return { clock, stop, events, done, of, summary: () => summary };
}

/** A run that lasts `ms` on the schedule's clock. */
const lasting =
  (ms: number) =>
  async (_run: ScheduledRun, clock: FakeClock): Promise<string> => {
    await clock.sleep(ms);
    return "ok";
  };

describe("runSchedule: when runs start", () => {
  it("starts the first run at the first cron instant after the start, not at the start", async () => {
    const schedule = start({ start: s(10) });
    await nextTurn();
    expect(schedule.events).toEqual([]);
    await schedule.clock.advance(19_999);
    expect(schedule.events).toEqual([]);
    await schedule.clock.advance(1);
    expect(schedule.of("started")).toEqual([
      { type: "started", index: 0, scheduledAt: s(30), startedAt: s(30) },
    ]);
  });

  it("does not fire at the start even when the start is an instant", async () => {
    const schedule = start({ start: s(0) });
    await nextTurn();
    expect(schedule.events).toEqual([]);
    await schedule.clock.advance(30_000);
    expect(schedule.of("started").map((e) => e.scheduledAt)).toEqual([s(30)]);
  });

  it.each(["*/30 * * * * *", "@every 30s"])(
    "%s: fires at each instant of the cron, not counted from the end of the previous run",
    async (text) => {
      const schedule = start({ cron: text, run: lasting(20_000) });
      await schedule.clock.advance(120_000);
      const started = schedule.of("started");
      expect(started.map((e) => e.scheduledAt)).toEqual([s(30), s(60), s(90), s(120)]);
      expect(started.map((e) => e.startedAt)).toEqual([s(30), s(60), s(90), s(120)]);
    },
  );

  it("runs @every from the start truncated to the second", async () => {
    const schedule = start({ cron: "@every 5s", start: s(0) + 400 });
    await schedule.clock.advance(10_000);
    expect(schedule.of("started").map((e) => e.scheduledAt)).toEqual([s(5), s(10)]);
  });

  it("asks for no sleep longer than maxSleepMs, however far the next instant", async () => {
    const schedule = start({ cron: "@yearly" });
    await schedule.clock.advance(5 * 60_000);
    expect(schedule.clock.sleeps.length).toBeGreaterThan(1);
    expect(Math.max(...schedule.clock.sleeps)).toBe(maxSleepMs);
    expect(schedule.events).toEqual([]);
  });
});

describe("runSchedule: late, missed and skipped instants", () => {
  it("starts only the most recent instant when it wakes up late, and counts the others as missed", async () => {
    const schedule = start();
    await schedule.clock.jumpTo(s(95));
    expect(schedule.events.map((e) => e.type)).toEqual(["missed", "started", "finished"]);
    expect(schedule.of("missed")).toEqual([
      { type: "missed", reason: "late", first: s(30), last: s(60), count: 2, tooMany: false, at: s(95) },
    ]);
    expect(schedule.of("started")).toEqual([
      { type: "started", index: 0, scheduledAt: s(90), startedAt: s(95) },
    ]);
    // And goes on from the cron: the next run is on time.
    await schedule.clock.advance(25_000);
    expect(schedule.of("started").map((e) => [e.scheduledAt, e.startedAt])).toEqual([
      [s(90), s(95)],
      [s(120), s(120)],
    ]);
    schedule.stop.abort();
    expect(await schedule.done).toMatchObject({ started: 2, missed: 2, tooManyMissed: false });
  });

  it("@every: after a late start, goes on from the instant, not from when it woke up", async () => {
    const schedule = start({ cron: "@every 30s" });
    await schedule.clock.jumpTo(s(95) + 500);
    expect(schedule.of("started").map((e) => e.scheduledAt)).toEqual([s(90)]);
    await schedule.clock.advance(25_000);
    expect(schedule.of("started").map((e) => e.scheduledAt)).toEqual([s(90), s(120)]);
  });

  it("past 100 missed instants, reports too many and still starts the most recent", async () => {
    const schedule = start({ cron: "* * * * * *" });
    await schedule.clock.jumpTo(s(1000) + 500);
    expect(schedule.of("missed")).toEqual([
      {
        type: "missed",
        reason: "late",
        first: s(1),
        last: s(999),
        count: 101,
        tooMany: true,
        at: s(1000) + 500,
      },
    ]);
    expect(schedule.of("started").map((e) => e.scheduledAt)).toEqual([s(1000)]);
    schedule.stop.abort();
    expect(await schedule.done).toMatchObject({ started: 1, missed: 101, tooManyMissed: true });
  });

  it("misses an instant reached later than startingDeadlineSeconds, and starts nothing for it", async () => {
    const schedule = start({ startingDeadlineSeconds: 10 });
    await schedule.clock.jumpTo(s(41));
    expect(schedule.events).toEqual([
      { type: "missed", reason: "deadline", first: s(30), last: s(30), count: 1, tooMany: false, at: s(41) },
    ]);
    await schedule.clock.advance(19_000);
    expect(schedule.of("started").map((e) => e.scheduledAt)).toEqual([s(60)]);
  });

  it("still starts an instant reached exactly startingDeadlineSeconds late", async () => {
    const schedule = start({ startingDeadlineSeconds: 10 });
    await schedule.clock.jumpTo(s(40));
    expect(schedule.of("started")).toEqual([
      { type: "started", index: 0, scheduledAt: s(30), startedAt: s(40) },
    ]);
    expect(schedule.of("missed")).toEqual([]);
  });

  it("with a deadline, starts the most recent instant if it is within it, the older ones missed", async () => {
    const schedule = start({ startingDeadlineSeconds: 10 });
    await schedule.clock.jumpTo(s(95));
    expect(schedule.of("missed").map((e) => [e.reason, e.count])).toEqual([["late", 2]]);
    expect(schedule.of("started").map((e) => e.scheduledAt)).toEqual([s(90)]);
  });

  it("misses every instant due when even the most recent is past the deadline", async () => {
    const schedule = start({ startingDeadlineSeconds: 2 });
    await schedule.clock.jumpTo(s(95));
    expect(schedule.of("missed")).toEqual([
      { type: "missed", reason: "deadline", first: s(30), last: s(90), count: 3, tooMany: false, at: s(95) },
    ]);
    expect(schedule.of("started")).toEqual([]);
  });

  it("does not run an instant again when the wall clock goes back", async () => {
    const schedule = start();
    await schedule.clock.advance(30_000);
    await schedule.clock.jumpTo(s(10));
    await schedule.clock.advance(20_000);
    expect(schedule.of("started").map((e) => e.scheduledAt)).toEqual([s(30)]);
    await schedule.clock.advance(30_000);
    expect(schedule.of("started").map((e) => e.scheduledAt)).toEqual([s(30), s(60)]);
  });
});

describe("runSchedule: concurrency", () => {
  it("Forbid: skips an instant reached while the previous run is still going", async () => {
    const schedule = start({ concurrencyPolicy: "Forbid", run: lasting(45_000) });
    await schedule.clock.advance(90_000);
    expect(schedule.events.map((e) => e.type)).toEqual(["started", "skipped", "finished", "started"]);
    expect(schedule.of("skipped")).toEqual([
      { type: "skipped", scheduledAt: s(60), at: s(60), running: [0] },
    ]);
    // The skipped instant is not started late when the run ends (at 75 s): the next run is at 90 s.
    expect(schedule.of("started").map((e) => [e.index, e.scheduledAt])).toEqual([
      [0, s(30)],
      [1, s(90)],
    ]);
    schedule.stop.abort();
    await schedule.clock.advance(45_000);
    expect(await schedule.done).toMatchObject({ started: 2, skipped: 1, succeeded: 2, failed: 0 });
  });

  it("Allow: runs overlap", async () => {
    let running = 0;
    let most = 0;
    const schedule = start({
      concurrencyPolicy: "Allow",
      run: async (_run, clock) => {
        running += 1;
        most = Math.max(most, running);
        await clock.sleep(45_000);
        running -= 1;
        return "ok";
      },
    });
    await schedule.clock.advance(90_000);
    expect(schedule.of("started").map((e) => e.scheduledAt)).toEqual([s(30), s(60), s(90)]);
    expect(schedule.of("skipped")).toEqual([]);
    expect(most).toBe(2);
  });
});

describe("runSchedule: results and history", () => {
  it("records a run that throws as failed, and goes on", async () => {
    const schedule = start({
      run: ({ index }: ScheduledRun) => {
        if (index === 1) throw new Error("boom");
        return Promise.resolve(`run ${String(index)}`);
      },
    });
    await schedule.clock.advance(90_000);
    const finished = schedule.of("finished");
    expect(finished.map((e) => e.outcome)).toEqual([
      { ok: true, value: "run 0" },
      { ok: false, error: new Error("boom") },
      { ok: true, value: "run 2" },
    ]);
    schedule.stop.abort();
    expect(await schedule.done).toMatchObject({ started: 3, succeeded: 2, failed: 1 });
  });

  it("records a rejected run as failed too", async () => {
    const schedule = start({ run: () => Promise.reject(new Error("refused")) });
    await schedule.clock.advance(30_000);
    schedule.stop.abort();
    const summary = await schedule.done;
    expect(summary.failed).toBe(1);
    expect(summary.history[0]?.outcome).toEqual({ ok: false, error: new Error("refused") });
  });

  it("retires the oldest finished runs beyond historyLimit", async () => {
    const schedule = start({ historyLimit: 2 });
    await schedule.clock.advance(120_000);
    expect(schedule.of("retired").map((e) => e.index)).toEqual([0, 1]);
    schedule.stop.abort();
    const summary = await schedule.done;
    expect(summary.history.map((run) => [run.index, run.scheduledAt])).toEqual([
      [2, s(90)],
      [3, s(120)],
    ]);
    expect(summary.retired).toBe(2);
  });

  it("retires as soon as a new run starts: the history counts the running run too", async () => {
    const schedule = start({ historyLimit: 1, run: lasting(10_000) });
    await schedule.clock.advance(65_000);
    expect(schedule.events.map((e) => `${e.type} ${"index" in e ? String(e.index) : ""}`)).toEqual([
      "started 0",
      "finished 0",
      "started 1",
      "retired 0",
    ]);
  });

  it("counts running runs towards historyLimit, but retires a run only once it has finished", async () => {
    const first = deferred<string>();
    const schedule = start({
      concurrencyPolicy: "Allow",
      historyLimit: 1,
      run: ({ index }) => (index === 0 ? first.promise : Promise.resolve("quick")),
    });
    await schedule.clock.advance(90_000);
    // Run 0 is the oldest and still going: it stays; the finished run 1 goes when run 2 starts.
    expect(schedule.of("retired").map((e) => e.index)).toEqual([1]);
    first.resolve("slow");
    await nextTurn();
    expect(schedule.of("retired").map((e) => e.index)).toEqual([1, 0]);
    schedule.stop.abort();
    expect((await schedule.done).history.map((run) => run.index)).toEqual([2]);
  });
});

describe("runSchedule: stopping", () => {
  it("stops at once when aborted in the middle of a sleep", async () => {
    const schedule = start({ cron: "@yearly" });
    await schedule.clock.advance(10_000);
    schedule.stop.abort();
    await nextTurn();
    expect(schedule.summary()).toMatchObject({ started: 0, missed: 0, history: [] });
    expect(schedule.clock.now()).toBe(s(10));
  });

  it("starts nothing when aborted before it starts", async () => {
    const clock = new FakeClock(T0);
    const summary = await runSchedule({
      cron: cron("* * * * * *"),
      concurrencyPolicy: "Allow",
      historyLimit: 1,
      clock,
      signal: AbortSignal.abort(),
      run: () => Promise.resolve(),
    });
    expect(summary).toMatchObject({ started: 0, history: [] });
    expect(clock.sleeps).toEqual([]);
  });

  it("waits for the runs in flight, and starts no more", async () => {
    const run = deferred<string>();
    const schedule = start({ concurrencyPolicy: "Allow", run: () => run.promise });
    await schedule.clock.advance(30_000);
    schedule.stop.abort();
    await schedule.clock.advance(120_000);
    expect(schedule.summary()).toBeUndefined();
    run.resolve("done");
    await nextTurn();
    expect(schedule.summary()).toMatchObject({ started: 1, succeeded: 1 });
    expect(schedule.summary()?.history).toEqual([
      {
        index: 0,
        scheduledAt: s(30),
        startedAt: s(30),
        finishedAt: s(150),
        outcome: { ok: true, value: "done" },
      },
    ]);
  });

  it("stops and rejects, once the runs in flight settle, when a listener throws", async () => {
    const run = deferred<string>();
    const clock = new FakeClock(T0);
    let rejected: unknown;
    const done = runSchedule({
      cron: cron("*/30 * * * * *"),
      concurrencyPolicy: "Allow",
      historyLimit: 1,
      clock,
      signal: new AbortController().signal,
      run: () => run.promise,
      onEvent: () => {
        throw new Error("listener bug");
      },
    }).catch((error: unknown) => {
      rejected = error;
    });
    await clock.advance(60_000);
    expect(rejected).toBeUndefined();
    run.resolve("done");
    await done;
    expect(rejected).toBeInstanceOf(BroadsideError);
    expect(rejected).toMatchObject({ code: "BRD_INTERNAL", cause: new Error("listener bug") });
  });
});

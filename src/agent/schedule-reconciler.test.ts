import { describe, expect, it } from "vitest";
import { FakeClock } from "../core/fake-clock.js";
import { MemoryHaltSwitch } from "../core/halt.js";
import { MemoryEventRecorder } from "../kube/events.js";
import { MemoryCustomObjects, type StoredObject } from "../kube/memory-custom-objects.js";
import type { ChaosObject } from "./chaos-object.js";
import type { ScheduleStatus } from "./crds/status.js";
import { childName, instantLabel, scheduleUidLabel } from "./schedule-children.js";
import { scheduleReconciler } from "./schedule-reconciler.js";

const schedules = { apiVersion: "broadside.dev/v1alpha1", kind: "Schedule", plural: "schedules" };
const podChaos = { apiVersion: "broadside.dev/v1alpha1", kind: "PodChaos", plural: "podchaos" };
/** 09:00:00 UTC: @every 10s instants fall on 09:00:10, 09:00:20... */
const epoch = Date.UTC(2026, 0, 15, 9, 0, 0);
const seconds = (ms: number) => Math.floor(ms / 1000);

const killOne = { action: "pod-kill", mode: "one", selector: { labelSelectors: { app: "web" } } };

/**
 * A namespace `shop` with the Schedule `monkey` over in-memory custom objects (the API server's part) and
 * a FakeClock; `replica()` is one agent's reconciler, reading the Schedule as its informer would.
 */
function world(spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}) {
  const clock = new FakeClock(epoch);
  const objects = new MemoryCustomObjects(() => clock.now());
  const halt = new MemoryHaltSwitch();
  const events = new MemoryEventRecorder();
  objects.put(schedules, "shop", {
    apiVersion: schedules.apiVersion,
    kind: "Schedule",
    metadata: { name: "monkey", annotations },
    spec: { schedule: "@every 10s", type: "PodChaos", podChaos: killOne, ...spec },
  });
  const replica = (cache?: () => ChaosObject | undefined) =>
    scheduleReconciler({
      resource: schedules,
      child: podChaos,
      clock,
      halt,
      get: (namespace, name) => (cache ? cache() : objects.get(schedules, namespace, name)),
      status: objects,
      children: objects,
      events,
      haltedRetryMs: 10_000,
    });
  const schedule = () => objects.get(schedules, "shop", "monkey") as StoredObject;
  const status = () => schedule().status as ScheduleStatus | undefined;
  const children = () => objects.all(podChaos, "shop");
  /** What the child's own reconciler would write once its run is over. */
  const finish = (name: string) => {
    objects.setStatus(podChaos, "shop", name, {
      observedGeneration: 1,
      conditions: [{ type: "Recovered", status: "True", reason: "Recovered", lastTransitionTime: "x" }],
    });
  };
  return { clock, objects, halt, events, replica, schedule, status, children, finish };
}

describe("a Schedule of pod-failure: each round a pod-failure PodChaos, the next only once it is reverted", () => {
  const pauseOne = {
    action: "pod-failure",
    duration: "15s",
    mode: "one",
    selector: { labelSelectors: { app: "web" } },
  };

  it("creates the child with the pod-failure spec as written, duration included", async () => {
    const w = world({ podChaos: pauseOne });
    await w.clock.advance(10_000);
    await w.replica()("shop/monkey");
    expect(w.children().map((child) => child.spec)).toEqual([pauseOne]);
  });

  it("Forbid: a round still injected (its revert pending) holds the next instant; once Recovered, the next fires", async () => {
    const w = world({ podChaos: pauseOne });
    const reconcile = w.replica();
    await w.clock.advance(10_000);
    await reconcile("shop/monkey");
    const first = `monkey-${seconds(epoch + 10_000)}`;
    // What the object-fault reconciler writes once the pods are paused: Injected, the revert to come.
    w.objects.setStatus(podChaos, "shop", first, {
      observedGeneration: 1,
      conditions: [
        { type: "Injected", status: "True", reason: "Injected", lastTransitionTime: "x" },
        { type: "Recovered", status: "False", reason: "RevertPending", lastTransitionTime: "x" },
      ],
    });
    await w.clock.advance(10_000);
    await reconcile("shop/monkey");
    expect(w.children().map((child) => child.metadata.name)).toEqual([first]);
    expect(w.events.events.at(-1)).toMatchObject({ reason: "Skipped" });

    w.finish(first);
    await w.clock.advance(10_000);
    await reconcile("shop/monkey");
    expect(w.children().map((child) => child.metadata.name)).toContain(`monkey-${seconds(epoch + 30_000)}`);
  });

  it("refuses a pod-failure without a duration, naming spec.podChaos.duration, and creates nothing", async () => {
    const withoutDuration = { action: "pod-failure", mode: "one", selector: pauseOne.selector };
    const w = world({ podChaos: withoutDuration });
    await w.clock.advance(10_000);
    await w.replica()("shop/monkey");
    expect(w.children()).toEqual([]);
    const failed = w.status()?.conditions?.find((condition) => condition.type === "Failed");
    expect(failed).toMatchObject({ status: "True", reason: "InvalidSpec" });
    expect(failed?.message).toContain("spec.podChaos.duration: is required for action pod-failure");
  });
});

describe("the Schedule reconciler: a child PodChaos per cron instant", () => {
  it("waits for the first instant after creation, then creates one child named from it, owned by the Schedule", async () => {
    const w = world();
    const reconcile = w.replica();
    expect(await reconcile("shop/monkey")).toEqual({ requeueAfterMs: 10_000 });
    expect(w.children()).toEqual([]);

    await w.clock.advance(10_000);
    const result = await reconcile("shop/monkey");
    const [child] = w.children();
    const instant = epoch + 10_000;
    expect(child?.metadata.name).toBe(`monkey-${seconds(instant)}`);
    expect(child?.spec).toEqual(killOne);
    expect(child?.kind).toBe("PodChaos");
    expect(child?.metadata.ownerReferences).toEqual([
      {
        apiVersion: schedules.apiVersion,
        kind: "Schedule",
        name: "monkey",
        uid: w.schedule().metadata.uid,
        controller: true,
      },
    ]);
    expect(child?.metadata.labels).toEqual({
      [scheduleUidLabel]: w.schedule().metadata.uid,
      [instantLabel]: String(seconds(instant)),
    });
    expect(w.status()?.lastScheduleTime).toBe(new Date(instant).toISOString());
    expect(w.status()?.active).toEqual([
      { name: child?.metadata.name, instant: new Date(instant).toISOString() },
    ]);
    expect(w.status()?.pending).toBeUndefined();
    // A child runs: looked at again before the next instant, to see it finish.
    expect(result.requeueAfterMs).toBe(5_000);
    expect(w.events.events.map((event) => event.reason)).toEqual(["Spawned"]);

    // The same instant reconciled again (an informer event) creates nothing more.
    await reconcile("shop/monkey");
    expect(w.children()).toHaveLength(1);
    expect(w.objects.log.filter((line) => line.startsWith("create"))).toHaveLength(1);
  });

  it("counts instants from the cron, not from when a reconcile ran: a late reconcile starts only the latest", async () => {
    const w = world({ concurrencyPolicy: "Allow", historyLimit: 10 });
    const reconcile = w.replica();
    await w.clock.advance(35_000);
    await reconcile("shop/monkey");
    expect(w.children().map((child) => child.metadata.name)).toEqual([`monkey-${seconds(epoch + 30_000)}`]);
    await w.clock.advance(5_000);
    await reconcile("shop/monkey");
    expect(w.children().map((child) => child.metadata.name)).toEqual([
      `monkey-${seconds(epoch + 30_000)}`,
      `monkey-${seconds(epoch + 40_000)}`,
    ]);
  });
});

describe("at most once per instant, across restarts and leader changes", () => {
  it("an agent that died after the claim, before the create: the next one creates that child, once", async () => {
    const w = world();
    await w.clock.advance(10_000);
    w.objects.failBeforeNextCreate = new Error("SIGKILL");
    await expect(w.replica()("shop/monkey")).rejects.toThrow("SIGKILL");
    // The instant was recorded first, with the child still owed.
    const name = `monkey-${seconds(epoch + 10_000)}`;
    expect(w.status()?.lastScheduleTime).toBe(new Date(epoch + 10_000).toISOString());
    expect(w.status()?.pending).toEqual({ name, instant: new Date(epoch + 10_000).toISOString() });
    expect(w.children()).toEqual([]);

    // A new leader, a second later.
    await w.clock.advance(1_000);
    await w.replica()("shop/monkey");
    expect(w.children().map((child) => child.metadata.name)).toEqual([name]);
    expect(w.status()?.pending).toBeUndefined();
    await w.replica()("shop/monkey");
    expect(w.children()).toHaveLength(1);
  });

  it("an agent whose create went through but whose reply was lost: the retry meets AlreadyExists, no second child", async () => {
    const w = world();
    await w.clock.advance(10_000);
    w.objects.failAfterNextCreate = new Error("connection reset");
    await expect(w.replica()("shop/monkey")).rejects.toThrow("connection reset");
    await w.replica()("shop/monkey");
    const name = `monkey-${seconds(epoch + 10_000)}`;
    expect(w.objects.log.filter((line) => line.startsWith("create"))).toEqual([
      `create ${name}`,
      `create ${name}: exists`,
    ]);
    expect(w.children()).toHaveLength(1);
    expect(w.status()?.active?.map((run) => run.name)).toEqual([name]);
  });

  it("two replicas that read the same version of the Schedule: the second's claim conflicts and it fires nothing", async () => {
    const w = world();
    await w.clock.advance(10_000);
    // Both caches hold the Schedule as it was before either acted (a leader change with a lagging cache).
    const before = w.schedule();
    await w.replica(() => before)("shop/monkey");
    const second = await w.replica(() => before)("shop/monkey");
    expect(w.children()).toHaveLength(1);
    expect(w.objects.log.filter((line) => line.startsWith("create"))).toHaveLength(1);
    expect(w.objects.log).toContain("claim monkey: conflict");
    // It looks again soon, from the newer version its informer brings.
    expect(second).toEqual({ requeueAfterMs: 1_000 });
  });

  it("over a minute of instants with a restart at each, every instant has exactly one child", async () => {
    const w = world({ concurrencyPolicy: "Allow", historyLimit: 100 });
    for (let step = 1; step <= 6; step += 1) {
      await w.clock.advance(10_000);
      // Each instant is reconciled by a fresh replica, twice (an informer event after its own write).
      await w.replica()("shop/monkey");
      await w.replica()("shop/monkey");
    }
    const instants = w.children().map((child) => Number(child.metadata.labels?.[instantLabel]));
    expect(instants).toEqual([1, 2, 3, 4, 5, 6].map((step) => seconds(epoch + step * 10_000)));
  });
});

describe("concurrencyPolicy, startingDeadlineSeconds and historyLimit, as Chaos Mesh", () => {
  it("Forbid skips an instant while the last child still runs, and fires the next once it has finished", async () => {
    const w = world({ concurrencyPolicy: "Forbid" });
    const reconcile = w.replica();
    await w.clock.advance(10_000);
    await reconcile("shop/monkey");
    await w.clock.advance(10_000);
    await reconcile("shop/monkey");
    expect(w.children()).toHaveLength(1);
    // Skipped, and done with: lastScheduleTime moved on, so it never starts late.
    expect(w.status()?.lastScheduleTime).toBe(new Date(epoch + 20_000).toISOString());
    expect(w.events.events.at(-1)).toMatchObject({ type: "Normal", reason: "Skipped" });

    w.finish(`monkey-${seconds(epoch + 10_000)}`);
    await w.clock.advance(10_000);
    await reconcile("shop/monkey");
    expect(w.children().map((child) => child.metadata.name)).toContain(`monkey-${seconds(epoch + 30_000)}`);
  });

  it("Allow runs children side by side, and status.active lists those still running", async () => {
    const w = world({ concurrencyPolicy: "Allow", historyLimit: 5 });
    const reconcile = w.replica();
    for (let step = 1; step <= 3; step += 1) {
      await w.clock.advance(10_000);
      await reconcile("shop/monkey");
    }
    expect(w.children()).toHaveLength(3);
    w.finish(`monkey-${seconds(epoch + 10_000)}`);
    await w.clock.advance(1_000);
    await reconcile("shop/monkey");
    expect(w.status()?.active?.map((run) => run.name)).toEqual([
      `monkey-${seconds(epoch + 20_000)}`,
      `monkey-${seconds(epoch + 30_000)}`,
    ]);
  });

  it("misses instants reached later than startingDeadlineSeconds, all of them, with a Warning", async () => {
    const w = world({ startingDeadlineSeconds: 5 });
    const reconcile = w.replica();
    // The agent was away for a minute: six instants passed, the latest 7 s ago.
    await w.clock.advance(67_000);
    const result = await reconcile("shop/monkey");
    expect(w.children()).toEqual([]);
    expect(w.events.events.at(-1)).toMatchObject({ type: "Warning", reason: "Missed" });
    expect(w.events.events.at(-1)?.message).toMatch(/^6 instant\(s\) up to .* missed/);
    expect(w.status()?.lastScheduleTime).toBe(new Date(epoch + 60_000).toISOString());
    expect(result).toEqual({ requeueAfterMs: 3_000 });
    // The next instant is on time, and fires.
    await w.clock.advance(3_000);
    await reconcile("shop/monkey");
    expect(w.children()).toHaveLength(1);
  });

  it("deletes the oldest finished children beyond historyLimit, never one still running", async () => {
    const w = world({ concurrencyPolicy: "Allow", historyLimit: 2 });
    const reconcile = w.replica();
    const name = (step: number) => `monkey-${seconds(epoch + step * 10_000)}`;
    for (let step = 1; step <= 3; step += 1) {
      await w.clock.advance(10_000);
      await reconcile("shop/monkey");
    }
    // Three children, none finished: the oldest is over the limit but still running, so it stays.
    await reconcile("shop/monkey");
    expect(w.children().map((child) => child.metadata.name)).toEqual([name(1), name(2), name(3)]);
    w.finish(name(1));
    w.finish(name(2));
    await reconcile("shop/monkey");
    expect(w.children().map((child) => child.metadata.name)).toEqual([name(2), name(3)]);
  });
});

describe("pause, kill switch and a bad spec: no child", () => {
  it("the pause annotation: Paused=True, no child however many instants pass", async () => {
    const w = world({}, { "broadside.dev/paused": "true" });
    await w.clock.advance(30_000);
    await w.replica()("shop/monkey");
    expect(w.children()).toEqual([]);
    expect(w.status()?.conditions?.find((c) => c.type === "Paused")).toMatchObject({
      status: "True",
      reason: "Paused",
    });
  });

  it("the kill switch: Paused=True (Halted), looked at again in 10 s, and the schedule goes on once released", async () => {
    const w = world();
    await w.halt.hold({ by: "ops", reason: "incident", since: epoch });
    await w.clock.advance(10_000);
    expect(await w.replica()("shop/monkey")).toEqual({ requeueAfterMs: 10_000 });
    expect(w.children()).toEqual([]);
    expect(w.status()?.conditions?.find((c) => c.type === "Paused")).toMatchObject({ reason: "Halted" });
    await w.halt.release();
    await w.replica()("shop/monkey");
    expect(w.children()).toHaveLength(1);
    expect(w.status()?.conditions?.find((c) => c.type === "Paused")).toMatchObject({ status: "False" });
  });

  it("a cron the API server's pattern lets through but the agent refuses: Failed=True (InvalidSpec), named", async () => {
    const w = world({ schedule: "61 * * * *" });
    await w.clock.advance(120_000);
    expect(await w.replica()("shop/monkey")).toEqual({});
    expect(w.children()).toEqual([]);
    const failed = w.status()?.conditions?.find((c) => c.type === "Failed");
    expect(failed).toMatchObject({ status: "True", reason: "InvalidSpec" });
    expect(failed?.message).toContain("spec.schedule");
    expect(w.events.events).toMatchObject([{ type: "Warning", reason: "InvalidSpec" }]);
    // Reconciled again, it writes nothing new: no status churn, no event loop.
    const writes = w.objects.log.length;
    await w.replica()("shop/monkey");
    expect(w.objects.log.length).toBe(writes);
  });
});

describe("child names", () => {
  it("are <schedule>-<unix seconds>, at most 63 characters, distinct for long names that share a beginning", () => {
    expect(childName("monkey", epoch)).toBe(`monkey-${seconds(epoch)}`);
    const long = (end: string) => `${"a".repeat(60)}-${end}`;
    const [first, second] = [childName(long("x"), epoch), childName(long("y"), epoch)];
    expect(first.length).toBeLessThanOrEqual(63);
    expect(first).not.toBe(second);
    expect(first).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(first.endsWith(`-${seconds(epoch)}`)).toBe(true);
  });
});

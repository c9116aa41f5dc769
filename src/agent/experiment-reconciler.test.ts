import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import { memoryEngine, type MemoryEngine } from "../engine/memory-engine.js";
import { buildRunReport } from "../experiments/report/build.js";
import type { RunReport } from "../experiments/report/run-report.js";
import type { RunnerOptions } from "../experiments/run/runner.js";
import { MemoryEventRecorder } from "../kube/events.js";
import type { ResourceRef, StatusWriter } from "../kube/resource-status.js";
import type { ExperimentStatus } from "./crds/status.js";
import type { ChaosObject } from "./chaos-object.js";
import { experimentReconciler, type ExperimentReconcilerDeps } from "./experiment-reconciler.js";
import { networkChaosPlan, noNodeDaemons } from "./manifest-run.js";

/**
 * The Experiment reconciler's decisions, with the runner played by the test: when a generation runs (once,
 * claimed first), what its status and Events say of the report, what it refuses before anything runs, and
 * what stops a run going on (deletion, the kill switch, the pause annotation, the Lease lost).
 */

class RecordingStatus implements StatusWriter {
  readonly writes: { kind: "claim" | "report"; status: ExperimentStatus }[] = [];
  /** What the API server has now, when it is newer than the informer's cache. */
  stored: ExperimentStatus | undefined;

  read(): Promise<{ status?: unknown } | undefined> {
    return Promise.resolve({ status: this.stored ?? this.last });
  }

  claim(_ref: ResourceRef, _version: string, status: object): Promise<void> {
    this.writes.push({ kind: "claim", status });
    return Promise.resolve();
  }

  report(_ref: ResourceRef, status: object): Promise<void> {
    this.writes.push({ kind: "report", status });
    return Promise.resolve();
  }

  get last(): ExperimentStatus | undefined {
    return this.writes.at(-1)?.status;
  }
}

/** A run's report: passed without probes; failed when a probe's check had no samples. */
function reportOf(options: { aborted?: string; probe?: boolean }): RunReport {
  const probe = options.probe === true;
  return buildRunReport({
    title: "t",
    startedAt: 0,
    endedAt: 1000,
    probes: probe ? [{ name: "web", intervalMs: 100 }] : [],
    chaosWindows: [],
    samples: [],
    faults: [],
    checks: probe
      ? [
          {
            name: "web: availability >= 99% (before)",
            subject: { type: "probe", probe: "web", scope: "baseline", figure: "availability" },
            tolerance: { op: ">=", limit: 0.99 },
          },
        ]
      : [],
    ...(options.aborted === undefined ? {} : { aborted: options.aborted }),
  });
}

/** The runner as the test plays it: records each run; `hold` makes it wait for the interrupt. */
class PlayedRunner {
  readonly runs: RunnerOptions[] = [];
  /** The status writes seen when the run began. */
  writesAtStart: number | undefined;
  private startedResolve: (() => void) | undefined;
  readonly started = new Promise<void>((resolve) => {
    this.startedResolve = resolve;
  });

  constructor(
    private readonly status: RecordingStatus,
    private readonly behaviour: { hold?: boolean; probe?: boolean; throws?: Error } = {},
  ) {}

  run = (options: RunnerOptions): Promise<RunReport> => {
    this.runs.push(options);
    this.writesAtStart = this.status.writes.length;
    this.startedResolve?.();
    if (this.behaviour.throws !== undefined) return Promise.reject(this.behaviour.throws);
    if (this.behaviour.hold !== true)
      return Promise.resolve(reportOf({ probe: this.behaviour.probe ?? false }));
    return new Promise((resolve) => {
      options.interrupt.addEventListener("abort", () => {
        resolve(reportOf({ aborted: `${String(options.interrupt.reason)}: the method was stopped` }));
      });
    });
  };
}

const validSpec = {
  title: "web survives",
  hypothesis: {
    window: "1s",
    probes: [{ name: "web", http: { url: "http://127.0.0.1:8080/" }, tolerances: ["availability >= 99%"] }],
  },
  method: [{ wait: "1s" }],
};

function experiment(overrides: Partial<ChaosObject> = {}): ChaosObject {
  return {
    metadata: { namespace: "shop", name: "exp", uid: "u-1", generation: 1, resourceVersion: "7" },
    spec: validSpec,
    ...overrides,
  };
}

interface Setup {
  engine: MemoryEngine;
  status: RecordingStatus;
  events: MemoryEventRecorder;
  runner: PlayedRunner;
  leading: AbortController;
  /** What the informer's cache holds; the test changes it. */
  cache: { object: ChaosObject | undefined };
  reconcile: (key: string) => ReturnType<ReturnType<typeof experimentReconciler>>;
}

function setUp(
  object: ChaosObject,
  behaviour: ConstructorParameters<typeof PlayedRunner>[1] = {},
  kind: Pick<ExperimentReconcilerDeps, "resource" | "readPlan" | "refuse"> = {
    resource: { apiVersion: "broadside.dev/v1alpha1", kind: "Experiment", plural: "experiments" },
  },
): Setup {
  const engine = memoryEngine({ optIn: true });
  const status = new RecordingStatus();
  const events = new MemoryEventRecorder();
  const runner = new PlayedRunner(status, behaviour);
  const leading = new AbortController();
  const cache: Setup["cache"] = { object };
  const reconcile = experimentReconciler({
    ...kind,
    ctx: engine.ctx,
    get: (namespace, name) =>
      namespace === "shop" && name === cache.object?.metadata?.name ? cache.object : undefined,
    status,
    events,
    settings: { loopbackOnly: true, maxFaultDuration: Duration.parse("1h", "max") },
    leading: leading.signal,
    haltedRetryMs: 10_000,
    watchEveryMs: 1_000,
    haltEveryMs: 5_000,
    run: (options) => runner.run(options),
  });
  return { engine, status, events, runner, leading, cache, reconcile };
}

const conditionsOf = (status: ExperimentStatus | undefined) =>
  Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason ?? ""}`]));

const reasons = (events: MemoryEventRecorder) => events.events.map((event) => event.reason);

describe("experimentReconciler: a new generation", () => {
  it("claims the generation (startTime, Injected=Unknown) before the run begins, then reports passed", async () => {
    const { status, events, runner, reconcile } = setUp(experiment());
    expect(await reconcile("shop/exp")).toEqual({});
    expect(runner.runs).toHaveLength(1);
    expect(runner.writesAtStart).toBe(1);
    const [claim, done] = status.writes;
    expect(claim?.kind).toBe("claim");
    expect(claim?.status).toMatchObject({ observedGeneration: 1, verdict: null, completionTime: null });
    expect(claim?.status.startTime).toBeDefined();
    expect(conditionsOf(claim?.status).Injected).toBe("Unknown/Running");
    expect(done?.status).toMatchObject({ verdict: "passed", probes: [], targets: [] });
    expect(done?.status.completionTime).toBeDefined();
    expect(conditionsOf(done?.status)).toMatchObject({
      Failed: "False/Passed",
      Injected: "False/NothingInjected",
    });
    expect(reasons(events)).toEqual(["Started", "Passed"]);
  });

  it("runs the plan the file would give `broadside run`, with the loopback rail", async () => {
    const { runner, reconcile } = setUp(experiment());
    await reconcile("shop/exp");
    const [options] = runner.runs;
    expect(options?.loopbackOnly).toBe(true);
    expect(options?.plan).toMatchObject({ name: "exp", title: "web survives" });
    expect(options?.plan.hypothesis.probes.map((probe) => probe.name)).toEqual(["web"]);
  });

  it("reports a failed hypothesis with each probe's checks, Failed=True and a Warning", async () => {
    const { status, events, reconcile } = setUp(experiment(), { probe: true });
    await reconcile("shop/exp");
    expect(status.last).toMatchObject({
      verdict: "failed",
      probes: [
        {
          name: "web",
          sent: 0,
          failed: 0,
          checks: [{ name: "web: availability >= 99% (before)", phase: "before", passed: false }],
        },
      ],
    });
    expect(status.last?.probes?.[0]?.checks?.[0]?.observed).toContain("no value");
    expect(conditionsOf(status.last).Failed).toBe("True/HypothesisFailed");
    expect(events.events.at(-1)).toMatchObject({ type: "Warning", reason: "HypothesisFailed" });
  });

  it("reports a run the runner refused outright as aborted, its code as the reason", async () => {
    const { BroadsideError } = await import("../core/errors.js");
    const refused = new BroadsideError("BRD_REFUSED_BY_RAIL", "kube-system is protected");
    const { status, events, reconcile } = setUp(experiment(), { throws: refused });
    await reconcile("shop/exp");
    expect(status.last?.verdict).toBe("aborted");
    expect(conditionsOf(status.last).Failed).toBe("True/RefusedByRail");
    expect(reasons(events)).toEqual(["Started", "RefusedByRail"]);
  });
});

describe("experimentReconciler: one run per generation", () => {
  it("does not run a generation that finished, after a restart or a change of leader", async () => {
    const finished = experiment({
      status: {
        observedGeneration: 1,
        conditions: [
          {
            type: "Injected",
            status: "True",
            reason: "Injected",
            lastTransitionTime: "t",
            observedGeneration: 1,
          },
        ],
      },
    });
    const { status, runner, reconcile } = setUp(finished);
    await reconcile("shop/exp");
    expect(runner.runs).toHaveLength(0);
    expect(status.writes).toHaveLength(0);
  });

  it("marks a run a crash interrupted as aborted, and does not run it again", async () => {
    const claimed: ExperimentStatus = {
      observedGeneration: 1,
      conditions: [
        {
          type: "Injected",
          status: "Unknown",
          reason: "Running",
          lastTransitionTime: "t",
          observedGeneration: 1,
        },
      ],
    };
    const { status, events, runner, reconcile } = setUp(experiment({ status: claimed }));
    status.stored = claimed;
    await reconcile("shop/exp");
    expect(runner.runs).toHaveLength(0);
    expect(status.last?.verdict).toBe("aborted");
    expect(conditionsOf(status.last).Failed).toBe("True/Interrupted");
    expect(reasons(events)).toEqual(["Interrupted"]);
  });

  it("runs a new generation though the last one finished", async () => {
    const changed = experiment({
      metadata: { namespace: "shop", name: "exp", uid: "u-1", generation: 2, resourceVersion: "9" },
      status: {
        observedGeneration: 1,
        conditions: [
          {
            type: "Injected",
            status: "True",
            reason: "Injected",
            lastTransitionTime: "t",
            observedGeneration: 1,
          },
        ],
      },
    });
    const { runner, reconcile } = setUp(changed);
    await reconcile("shop/exp");
    expect(runner.runs).toHaveLength(1);
  });
});

describe("experimentReconciler: refused or held back before anything runs", () => {
  it("refuses a front-door URL, naming the field, with no claim and no run", async () => {
    const spec = {
      ...validSpec,
      hypothesis: {
        window: "1s",
        probes: [
          { name: "door", http: { url: "front-door://web.shop/" }, tolerances: ["availability >= 99%"] },
        ],
      },
    };
    const { status, runner, events, reconcile } = setUp(experiment({ spec }));
    await reconcile("shop/exp");
    expect(runner.runs).toHaveLength(0);
    expect(status.writes.map((write) => write.kind)).toEqual(["report"]);
    const failed = status.last?.conditions?.find((c) => c.type === "Failed");
    expect(failed).toMatchObject({ status: "True", reason: "InvalidSpec" });
    expect(failed?.message).toContain("spec.hypothesis.probes[0].http.url");
    expect(reasons(events)).toEqual(["InvalidSpec"]);
  });

  it("runs a pod-failure step, as `broadside run` does (its RBAC patches pods)", async () => {
    const spec = {
      ...validSpec,
      method: [
        {
          fault: "pod-failure",
          selector: { namespaces: ["shop"], labelSelectors: { app: "web" } },
          mode: "one",
          duration: "30s",
        },
      ],
    };
    const { runner, reconcile } = setUp(experiment({ spec }));
    await reconcile("shop/exp");
    const [options] = runner.runs;
    expect(options?.plan.method).toEqual([
      expect.objectContaining({ type: "pod-failure", pauseImage: "registry.k8s.io/pause:3.10" }),
    ]);
  });

  it("refuses a fault longer than BROADSIDE_MAX_FAULT_DURATION, naming the step", async () => {
    const spec = {
      ...validSpec,
      method: [
        {
          fault: "config-drift",
          params: { namespace: "shop", kind: "configmap", name: "app", key: "k", value: "v" },
          duration: "2h",
        },
      ],
    };
    const { status, runner, reconcile } = setUp(experiment({ spec }));
    await reconcile("shop/exp");
    expect(runner.runs).toHaveLength(0);
    expect(status.last?.conditions?.find((c) => c.type === "Failed")?.message).toContain(
      "spec.method[0].duration",
    );
  });

  it("refuses a probe off loopback against a cluster on this machine", async () => {
    const spec = {
      ...validSpec,
      hypothesis: {
        window: "1s",
        probes: [{ name: "web", http: { url: "http://10.0.0.1/" }, tolerances: ["availability >= 99%"] }],
      },
    };
    const { status, runner, reconcile } = setUp(experiment({ spec }));
    await reconcile("shop/exp");
    expect(runner.runs).toHaveLength(0);
    expect(status.last?.conditions?.find((c) => c.type === "Failed")?.message).toContain(
      "spec.hypothesis.probes[0].http.url",
    );
  });

  it("holds a paused Experiment back", async () => {
    const paused = experiment({
      metadata: {
        namespace: "shop",
        name: "exp",
        uid: "u-1",
        generation: 1,
        annotations: { "broadside.dev/paused": "true" },
      },
    });
    const { status, runner, reconcile } = setUp(paused);
    expect(await reconcile("shop/exp")).toEqual({});
    expect(runner.runs).toHaveLength(0);
    expect(conditionsOf(status.last).Paused).toBe("True/Paused");
  });

  it("holds a new generation back while the kill switch is held, and looks again", async () => {
    const { engine, status, runner, reconcile } = setUp(experiment());
    await engine.halt.hold({ by: "ops", reason: "game day over" });
    expect(await reconcile("shop/exp")).toEqual({ requeueAfterMs: 10_000 });
    expect(runner.runs).toHaveLength(0);
    expect(conditionsOf(status.last).Paused).toBe("True/Halted");
  });
});

describe("experimentReconciler: a run going on is stopped", () => {
  it("when the Experiment is deleted: aborted, told by an Event, no status written to the gone object", async () => {
    const { engine, status, events, runner, cache, reconcile } = setUp(experiment(), { hold: true });
    const reconciling = reconcile("shop/exp");
    await runner.started;
    cache.object = undefined;
    await engine.clock.advance(1_000);
    await reconciling;
    expect(String(runner.runs[0]?.interrupt.reason)).toBe("the Experiment was deleted");
    expect(status.writes.map((write) => write.kind)).toEqual(["claim"]);
    expect(events.events.at(-1)).toMatchObject({ type: "Warning", reason: "Deleted" });
  });

  it("when the kill switch is held: aborted within haltEveryMs, Paused=True (Halted)", async () => {
    const { engine, status, runner, reconcile } = setUp(experiment(), { hold: true });
    const reconciling = reconcile("shop/exp");
    await runner.started;
    await engine.halt.hold({ by: "ops", reason: "stop" });
    await engine.clock.advance(5_000);
    await reconciling;
    expect(status.last?.verdict).toBe("aborted");
    expect(conditionsOf(status.last)).toMatchObject({ Paused: "True/Halted", Failed: "True/Halted" });
  });

  it("when the kill switch was held as the run ended on its own: aborted, not judged", async () => {
    const { engine, status, runner, reconcile } = setUp(experiment());
    const original = runner.run;
    runner.run = async (options) => {
      const report = await original(options);
      await engine.halt.hold({ by: "ops", reason: "stop" });
      return report;
    };
    await reconcile("shop/exp");
    expect(status.last?.verdict).toBe("aborted");
    expect(conditionsOf(status.last)).toMatchObject({ Paused: "True/Halted", Failed: "True/Halted" });
  });

  it("when it is paused: aborted, Paused=True", async () => {
    const { engine, status, runner, cache, reconcile } = setUp(experiment(), { hold: true });
    const reconciling = reconcile("shop/exp");
    await runner.started;
    cache.object = experiment({
      metadata: {
        namespace: "shop",
        name: "exp",
        uid: "u-1",
        generation: 1,
        annotations: { "broadside.dev/paused": "true" },
      },
    });
    await engine.clock.advance(1_000);
    await reconciling;
    expect(status.last?.verdict).toBe("aborted");
    expect(conditionsOf(status.last).Paused).toBe("True/Paused");
  });

  it("when the spec changes: the old generation is reported aborted (Superseded)", async () => {
    const { engine, status, runner, cache, reconcile } = setUp(experiment(), { hold: true });
    const reconciling = reconcile("shop/exp");
    await runner.started;
    cache.object = experiment({
      metadata: { namespace: "shop", name: "exp", uid: "u-1", generation: 2, resourceVersion: "8" },
    });
    await engine.clock.advance(1_000);
    await reconciling;
    expect(status.last).toMatchObject({ observedGeneration: 1, verdict: "aborted" });
    expect(conditionsOf(status.last).Failed).toBe("True/Superseded");
  });

  it("when this replica stops leading: aborted at once", async () => {
    const { status, runner, leading, reconcile } = setUp(experiment(), { hold: true });
    const reconciling = reconcile("shop/exp");
    await runner.started;
    leading.abort();
    await reconciling;
    expect(status.last?.verdict).toBe("aborted");
    expect(conditionsOf(status.last).Failed).toBe("True/AgentStopped");
  });
});

describe("experimentReconciler serving a NetworkChaos (ADR 0042): run once, as `broadside run` runs the manifest", () => {
  const networkChaos = {
    resource: { apiVersion: "broadside.dev/v1alpha1", kind: "NetworkChaos", plural: "networkchaos" },
    readPlan: networkChaosPlan,
  };
  const delaySpec = {
    action: "delay",
    mode: "one",
    selector: { labelSelectors: { app: "web" } },
    delay: { latency: "200ms", jitter: "50ms", correlation: "25" },
    direction: "to",
    duration: "30s",
  };
  const delay = (spec: object = delaySpec) => experiment({ spec });

  it("runs one network-fault step for the spec's duration, with no probes: judged on the fault alone", async () => {
    const { status, runner, events, reconcile } = setUp(delay(), {}, networkChaos);
    await reconcile("shop/exp");
    expect(runner.runs).toHaveLength(1);
    const plan = runner.runs[0]?.plan;
    expect(plan?.hypothesis).toMatchObject({ probes: [], checks: [], abortOnBreach: false });
    expect(plan?.method).toHaveLength(1);
    expect(plan?.method[0]).toMatchObject({
      type: "network-fault",
      kind: "delay",
      mode: { kind: "one" },
      selector: { namespaces: ["shop"] },
    });
    const step = plan?.method[0];
    expect(step?.type === "network-fault" ? step.duration.milliseconds : undefined).toBe(30_000);
    expect(status.last?.verdict).toBe("passed");
    expect(reasons(events)).toEqual(["Started", "Passed"]);
  });

  it("refuses a spec `broadside run` would not run, with its reason, before any claim", async () => {
    const unbounded = Object.fromEntries(Object.entries(delaySpec).filter(([key]) => key !== "duration"));
    const { status, runner, reconcile } = setUp(delay(unbounded), {}, networkChaos);
    await reconcile("shop/exp");
    expect(runner.runs).toHaveLength(0);
    expect(status.writes.map((write) => write.kind)).toEqual(["report"]);
    const failed = status.last?.conditions?.find((c) => c.type === "Failed");
    expect(failed).toMatchObject({ status: "True", reason: "InvalidSpec" });
    expect(failed?.message).toContain("spec.duration is required");
  });

  it("is refused at once by an agent without --node-daemons, naming the flag; nothing runs", async () => {
    const refuse = () => noNodeDaemons("NetworkChaos");
    const { status, runner, events, reconcile } = setUp(delay(), {}, { ...networkChaos, refuse });
    await reconcile("shop/exp");
    expect(runner.runs).toHaveLength(0);
    expect(status.writes.map((write) => write.kind)).toEqual(["report"]);
    const failed = status.last?.conditions?.find((c) => c.type === "Failed");
    expect(failed).toMatchObject({ status: "True", reason: "NoNodeDaemons" });
    expect(failed?.message).toContain("started without --node-daemons");
    expect(reasons(events)).toEqual(["NoNodeDaemons"]);
  });
});

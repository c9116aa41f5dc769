import type { Duration } from "../core/duration.js";
import { BroadsideError, describeError, usageError } from "../core/errors.js";
import { describeHold } from "../core/halt.js";
import { optional } from "../core/objects.js";
import type { EngineContext } from "../engine/context.js";
import { isFrontDoorUrl } from "../experiments/files/front-door-url.js";
import type { RunReport } from "../experiments/report/run-report.js";
import { runPlanOf, type RunPlan } from "../experiments/run/plan.js";
import { runExperiment, type RunnerOptions } from "../experiments/run/runner.js";
import type { EventRecorder } from "../kube/events.js";
import type { ResourceRef, StatusWriter } from "../kube/resource-status.js";
import type { ExperimentStatus } from "./crds/status.js";
import { loadAsFile, pausedAnnotation, type ChaosObject } from "./chaos-object.js";
import {
  claimConditions,
  completedStatus,
  interruptedConditions,
  runErrorStatus,
  type StopCause,
} from "./experiment-reconciler-status.js";
import type { ChaosResource } from "./pod-chaos-reconciler.js";
import type { ReconcileResult } from "./reconcile/workers.js";
import { conditionOf, setCondition, type Condition, type ConditionChange } from "./status.js";

/**
 * The Experiment reconciler (ADR 0017): each generation of an Experiment is run once, from the agent
 * process, by the runner `broadside run FILE` uses (experiments/run/runner.ts): probes, the before check,
 * the method, the rollbacks, the after check, the report. The generation is claimed in the status (its
 * startTime, Injected=Unknown) conditional on the object's resourceVersion before the first probe, so a
 * replica that restarts or takes over never runs it again: it marks the run aborted (Interrupted), and the
 * ledger reverts what the run left open, at its deadlines, as always.
 *
 * The run holds its worker for its whole length. Meanwhile it looks at its object in the informer's cache
 * every second and at the kill switch every few seconds: deleted, paused, a new generation, the kill
 * switch, or this replica no longer leading stops the method at once; the runner reverts what it injected
 * and reports the run aborted. No finalizer is held: the run reverts in this process, and after a crash
 * the ledger does.
 */

/** What `broadside run` takes from its flags and configuration, given to the agent at start-up. */
export interface ExperimentSettings {
  /** The API server is on this machine (a sandbox): probes may only reach loopback, as for `broadside run`. */
  readonly loopbackOnly: boolean;
  /** BROADSIDE_MAX_FAULT_DURATION: the longest an object fault may last. */
  readonly maxFaultDuration: Duration;
  readonly prometheusUrl?: string;
}

export interface ExperimentReconcilerDeps {
  readonly resource: ChaosResource;
  readonly ctx: EngineContext;
  /** The informer's cache of Experiment objects. */
  readonly get: (namespace: string, name: string) => ChaosObject | undefined;
  readonly status: StatusWriter;
  readonly events: EventRecorder;
  readonly settings: ExperimentSettings;
  /** Aborted when this replica stops leading (or the agent stops): a run going on is stopped and reported. */
  readonly leading: AbortSignal;
  /** While the kill switch is held, how often a new generation looks again. */
  readonly haltedRetryMs: number;
  /** While a run goes on, how often its object is looked at in the cache (deleted, paused, changed). */
  readonly watchEveryMs: number;
  /** While a run goes on, how often the kill switch is read (the agent honours it within 10 s). */
  readonly haltEveryMs: number;
  /** Runs the plan: runExperiment; unit tests give a runner of their own. */
  readonly run?: (options: RunnerOptions) => Promise<RunReport>;
  /** Told of every finished run (for the logs and metrics). */
  readonly onReport?: (report: RunReport) => void;
  /**
   * How the spec becomes the run's plan: an Experiment's by default. A NetworkChaos (or another kind
   * `broadside run` runs as a file) gives its own: the same run, claimed, watched and reported the same way.
   */
  readonly readPlan?: PlanReader;
  /** Why a new generation is refused before anything is read or written (a Failed reason and message). */
  readonly refuse?: () => { readonly reason: string; readonly message: string } | undefined;
}

/** The spec of `object` as a run's plan, checked as `broadside run` checks a file; nothing written yet. */
export type PlanReader = (
  object: ChaosObject,
  ref: { readonly namespace: string; readonly name: string },
  deps: Pick<ExperimentReconcilerDeps, "resource" | "settings">,
) => RunPlan;

export function experimentReconciler(deps: ExperimentReconcilerDeps) {
  return async (key: string): Promise<ReconcileResult> => {
    const [namespace = "", name = ""] = key.split("/");
    const object = deps.get(namespace, name);
    // Gone or going: no finalizer is held, and a run of it stops on its own (see watch below).
    if (object?.metadata === undefined || object.metadata.deletionTimestamp !== undefined) return {};
    return new ExperimentRun(deps, { namespace, name }, object).reconcile();
  };
}

class ExperimentRun {
  private readonly generation: number;
  private readonly uid: string;
  private conditions: Condition[];

  constructor(
    private readonly deps: ExperimentReconcilerDeps,
    private readonly ref: { readonly namespace: string; readonly name: string },
    private readonly object: ChaosObject,
  ) {
    this.generation = object.metadata?.generation ?? 0;
    this.uid = object.metadata?.uid ?? "";
    this.conditions = [...(object.status?.conditions ?? [])];
  }

  async reconcile(): Promise<ReconcileResult> {
    // Claimed when Injected was set for this generation (a pause or a refusal sets other conditions only).
    const injected = conditionOf(this.object.status, "Injected");
    if (injected?.observedGeneration === this.generation) return this.alreadyClaimed(injected);
    const held = await this.heldBack();
    if (held !== undefined) return held;
    const refused = this.deps.refuse?.();
    if (refused !== undefined) {
      await this.report([{ type: "Failed", status: "True", ...refused }]);
      this.event("Warning", refused.reason, refused.message);
      return {};
    }
    const plan = this.plan();
    if (plan instanceof BroadsideError) {
      await this.report([{ type: "Failed", status: "True", reason: "InvalidSpec", message: plan.message }]);
      this.event("Warning", "InvalidSpec", plan.message);
      return {};
    }
    await this.claim(plan);
    await this.runAndReport(plan);
    return {};
  }

  /**
   * The generation was claimed before: finished, or interrupted by a crash or a change of leader (this
   * replica runs an object in one worker at a time, so a run of its own is never still going here). The
   * cache may lag this process's own last write, so an unfinished claim is read again from the API server.
   */
  private async alreadyClaimed(injected: Condition): Promise<ReconcileResult> {
    if (injected.status !== "Unknown") return {};
    const fresh = await this.deps.status.read(this.resourceRef());
    const now = conditionOf(fresh?.status as ExperimentStatus | undefined, "Injected");
    if (now?.observedGeneration !== this.generation || now.status !== "Unknown") return {};
    const message =
      "the agent stopped while this generation was running; not run again (the ledger reverts what it left open)";
    await this.report(interruptedConditions(message), {
      verdict: "aborted",
      completionTime: this.isoNow(),
    });
    this.event("Warning", "Interrupted", message);
    return {};
  }

  /** The pause annotation and the kill switch hold a new generation back. */
  private async heldBack(): Promise<ReconcileResult | undefined> {
    if (this.object.metadata?.annotations?.[pausedAnnotation] === "true") {
      await this.pausedBy("Paused", `${pausedAnnotation} is "true"`);
      return {};
    }
    const hold = await this.deps.ctx.halt.read();
    if (hold === undefined) return undefined;
    await this.pausedBy("Halted", describeHold(hold));
    return { requeueAfterMs: this.deps.haltedRetryMs };
  }

  private async pausedBy(reason: string, message: string): Promise<void> {
    const change: ConditionChange = { type: "Paused", status: "True", reason, message };
    const before = conditionOf(this.object.status, "Paused");
    if (before?.status !== "True" || before.reason !== reason) this.event("Normal", reason, message);
    await this.report([change]);
  }

  /**
   * The spec read and checked as `broadside run` reads and checks a file before its first request, with
   * the object's namespace as the default of selectors that name none. Nothing is written before this holds.
   */
  private plan(): RunPlan | BroadsideError {
    try {
      return (this.deps.readPlan ?? experimentPlan)(this.object, this.ref, this.deps);
    } catch (error: unknown) {
      return error instanceof BroadsideError ? error : new BroadsideError("BRD_USAGE", describeError(error));
    }
  }

  private async claim(plan: RunPlan): Promise<void> {
    const conditions = this.withChanges(claimConditions(plan));
    await this.deps.status.claim(this.resourceRef(), this.object.metadata?.resourceVersion ?? "", {
      observedGeneration: this.generation,
      conditions,
      targets: [],
      startTime: this.isoNow(),
      // A merge patch keeps what it does not name: the last generation's results go.
      completionTime: null,
      verdict: null,
      probes: null,
    });
    this.event("Normal", "Started", `running "${plan.title}"`);
  }

  private async runAndReport(plan: RunPlan): Promise<void> {
    const stop = new AbortController();
    const watching = this.watch(stop);
    let report: RunReport;
    try {
      report = await (this.deps.run ?? runExperiment)({
        ctx: this.deps.ctx,
        plan,
        loopbackOnly: this.deps.settings.loopbackOnly,
        interrupt: stop.signal,
        ...optional("prometheusUrl", this.deps.settings.prometheusUrl),
      });
    } catch (error: unknown) {
      // A step refused outright (bad input the cluster revealed): the engine reverted what it applied.
      await this.finish(runErrorStatus(error), watching.cause());
      return;
    } finally {
      watching.stop();
    }
    this.deps.onReport?.(report);
    const cause = watching.cause() ?? (await this.heldAtTheEnd());
    await this.finish(completedStatus(report, cause), cause);
  }

  /**
   * A kill switch held between two looks may have cut the run's faults short (halt reverts them) and let
   * the method end early: such a run did not run as designed, so it is not judged.
   */
  private async heldAtTheEnd(): Promise<StopCause | undefined> {
    const hold = await this.deps.ctx.halt.read().catch(() => undefined);
    return hold === undefined
      ? undefined
      : { reason: "Halted", message: `halted: ${describeHold(hold)}`, paused: true };
  }

  /** The end of a run: its status (unless the object is gone) and an Event saying how it ended. */
  private async finish(
    outcome: ReturnType<typeof completedStatus>,
    cause: StopCause | undefined,
  ): Promise<void> {
    this.event(outcome.event.type, outcome.event.reason, outcome.event.message);
    if (cause?.gone === true) return;
    await this.report(outcome.changes, {
      ...outcome.fields,
      completionTime: this.isoNow(),
    });
  }

  /**
   * While the run goes on: its object in the cache every watchEveryMs, the kill switch every haltEveryMs,
   * and the Lease. The first reason to stop is kept and given to the runner as the interrupt's reason.
   */
  private watch(stop: AbortController): { stop(): void; cause(): StopCause | undefined } {
    let cause: StopCause | undefined;
    const stopWith = (found: StopCause): void => {
      if (cause !== undefined) return;
      cause = found;
      stop.abort(found.message);
    };
    const done = new AbortController();
    const onLeadingLost = (): void => {
      stopWith({
        reason: "AgentStopped",
        message: "the agent stopped leading (it is stopping, or another replica leads)",
      });
    };
    if (this.deps.leading.aborted) onLeadingLost();
    this.deps.leading.addEventListener("abort", onLeadingLost, { once: true });
    void this.every(this.deps.watchEveryMs, done.signal, () => {
      const found = this.objectSaysStop();
      if (found !== undefined) stopWith(found);
      return Promise.resolve();
    });
    void this.every(this.deps.haltEveryMs, done.signal, async () => {
      const hold = await this.deps.ctx.halt.read().catch(() => undefined);
      if (hold !== undefined)
        stopWith({ reason: "Halted", message: `halted: ${describeHold(hold)}`, paused: true });
    });
    return {
      stop: () => {
        done.abort();
        this.deps.leading.removeEventListener("abort", onLeadingLost);
      },
      cause: () => cause,
    };
  }

  /** Deleted (or deleted and made again), a new generation, or paused: the run stops. */
  private objectSaysStop(): StopCause | undefined {
    const now = this.deps.get(this.ref.namespace, this.ref.name);
    const metadata = now?.metadata;
    if (metadata === undefined || metadata.uid !== this.uid || metadata.deletionTimestamp !== undefined)
      return { reason: "Deleted", message: `the ${this.deps.resource.kind} was deleted`, gone: true };
    if ((metadata.generation ?? 0) !== this.generation)
      return {
        reason: "Superseded",
        message: `the spec changed (generation ${String(metadata.generation)})`,
      };
    if (metadata.annotations?.[pausedAnnotation] === "true")
      return { reason: "Paused", message: `paused (${pausedAnnotation} is "true")`, paused: true };
    return undefined;
  }

  /** Calls `tick` every `ms` until `signal` aborts. */
  private async every(ms: number, signal: AbortSignal, tick: () => Promise<void>): Promise<void> {
    const { clock } = this.deps.ctx;
    for (;;) {
      await clock.sleep(ms, signal);
      if (signal.aborted) return;
      await tick();
    }
  }

  private resourceRef(): ResourceRef {
    const { apiVersion, plural } = this.deps.resource;
    return { apiVersion, plural, ...this.ref };
  }

  private isoNow(): string {
    return new Date(this.deps.ctx.clock.now()).toISOString();
  }

  private withChanges(changes: readonly ConditionChange[]): Condition[] {
    const now = this.deps.ctx.clock.now();
    for (const change of changes)
      this.conditions = setCondition(this.conditions, change, this.generation, now);
    return this.conditions;
  }

  private async report(changes: readonly ConditionChange[], fields: object = {}): Promise<void> {
    await this.deps.status.report(this.resourceRef(), {
      observedGeneration: this.generation,
      conditions: this.withChanges(changes),
      ...fields,
    });
  }

  private event(type: "Normal" | "Warning", reason: string, message: string): void {
    const { apiVersion, kind } = this.deps.resource;
    const subject = {
      apiVersion,
      kind,
      ...this.ref,
      ...optional("uid", this.uid === "" ? undefined : this.uid),
    };
    this.deps.events.record(subject, type, reason, message);
  }
}

/** An Experiment's spec as its plan: the hypothesis's window, no probes beyond its own. */
const experimentPlan: PlanReader = (object, ref, { resource, settings }) => {
  const { loaded, source } = loadAsFile(resource.apiVersion, "Experiment", ref, object.spec);
  if (loaded.kind !== "Experiment")
    throw new BroadsideError("BRD_INTERNAL", `${source}: read as ${loaded.kind}`);
  const plan = runPlanOf(loaded, {
    extraProbes: [],
    window: loaded.hypothesis.window,
    maxFaultDuration: settings.maxFaultDuration,
    loopbackOnly: settings.loopbackOnly,
  });
  refuseFrontDoors(plan, source);
  return plan;
};

/**
 * A front-door URL names a door of a Broadside sandbox, which only `broadside run --sandbox` knows; the
 * agent probes URLs as they are written, so it refuses those before anything runs (ADR 0017).
 */
function refuseFrontDoors(plan: RunPlan, source: string): void {
  plan.hypothesis.probes.forEach((probe, index) => {
    if (probe.type !== "http" || !isFrontDoorUrl(probe.url)) return;
    throw usageError(
      `${source}: spec.hypothesis.probes[${String(index)}].http.url`,
      `${probe.url} names a door of a Broadside sandbox, which only \`broadside run --sandbox\` resolves; the agent probes the URL as written: give one it can reach (in a cluster, http://SERVICE.NAMESPACE.svc/PATH)`,
    );
  });
}

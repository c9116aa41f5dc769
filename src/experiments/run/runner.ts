import { BroadsideError, describeError, ExitCode } from "../../core/errors.js";
import { optional } from "../../core/objects.js";
import type { EngineContext } from "../../engine/context.js";
import { runObjectChaos } from "../../engine/object-chaos.js";
import { runPodChaos } from "../../engine/pod-chaos.js";
import { runContainerKill } from "../../engine/container-kill.js";
import { runNetworkChaos } from "../../engine/network-chaos.js";
import type { NetworkChaosResult } from "../../engine/network-chaos.js";
import { runStressChaos } from "../../engine/stress-chaos.js";
import { runPodFailure } from "../../engine/pod-failure.js";
import { fileParamNames, planObjectFault } from "../../faults/object-registry.js";
import { podFaults } from "../../faults/pod-registry.js";
import type { NamespaceScope } from "../../kube/pod-facts.js";
import type {
  ContainerKillStep,
  NetworkFaultStep,
  StressFaultStep,
  ObjectFaultStep,
  PodFailureStep,
  PodFaultStep,
  WaitStep,
} from "../files/model.js";
import { objectFaultInput, timedFaultInput, type FaultInput } from "../report/fault-facts.js";
import { buildRunReport } from "../report/build.js";
import type { RunReport } from "../report/run-report.js";
import type { Sample, TimeWindow } from "../report/samples.js";
import { describeScheduleEvent, describeScheduleSummary } from "../schedule/describe.js";
import { runSchedule } from "../schedule/runner.js";
import { breachesIn, hypothesisChecks } from "./hypothesis.js";
import { describeOutcome } from "../report/checks.js";
import type { CheckResult } from "../report/checks.js";
import type { PlanStep, RunPlan, ScheduleStep } from "./plan.js";
import { probeSpecOf, startProbes } from "./probes.js";
import { restartObservationsOf, snapshotRestarts, type PodRestarts } from "./restarts.js";
import { mergeWindows } from "./windows.js";

/**
 * The life of an experiment run (docs/experiments.md, "How it runs"): probes start; the before check
 * samples one window and must hold, or nothing is injected; the method's steps run in order while the
 * during check watches a sliding window (a breach stops the method when abortOnBreach); every fault is
 * reverted (the engine does it per step; the ledger guarantees it across crashes); the rollbacks wait;
 * the after check samples one window; the probes stop and the report is built from everything kept.
 * Ctrl-C (the interrupt signal) stops the method at once, reverts, and skips the rollbacks and the after
 * check: the report then says the run was aborted, with the evidence gathered so far.
 */

export interface RunnerOptions {
  readonly ctx: EngineContext;
  readonly plan: RunPlan;
  /** Probes may only reach loopback (a cluster on this machine). */
  readonly loopbackOnly: boolean;
  readonly prometheusUrl?: string;
  /** Ctrl-C. */
  readonly interrupt: AbortSignal;
  /** How often the progress line about the probes is printed; default every 5 s. */
  readonly progressEveryMs?: number;
}

/** How often the during check looks at its sliding window. */
const monitorEveryMs = 250;

export async function runExperiment(options: RunnerOptions): Promise<RunReport> {
  return new ExperimentRun(options).run();
}

class ExperimentRun {
  private readonly samples: Sample[] = [];
  private readonly windows: TimeWindow[] = [];
  private readonly faults: FaultInput[] = [];
  private readonly targetUids = new Set<string>();
  /** Stops the method: a breach with abortOnBreach, or the interrupt. */
  private readonly methodStop = new AbortController();
  private abortReason: string | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: RunnerOptions) {}

  private get ctx(): EngineContext {
    return this.options.ctx;
  }

  private now(): number {
    return this.ctx.clock.now();
  }

  async run(): Promise<RunReport> {
    const { plan } = this.options;
    const onInterrupt = (): void => {
      // The agent says why it stopped the run (the Experiment was deleted, paused, halted); Ctrl-C says nothing.
      const { reason } = this.options.interrupt as { readonly reason?: unknown };
      const why = typeof reason === "string" ? reason : "interrupted (Ctrl-C)";
      this.abort(`${why}: the method was stopped and its faults reverted`);
    };
    this.options.interrupt.addEventListener("abort", onInterrupt, { once: true });
    const startedAt = this.now();
    this.ctx.progress(`running "${plan.title}"`);
    const probes = await startProbes(plan.hypothesis.probes, {
      watches: this.ctx.watches,
      clock: this.ctx.clock,
      loopbackOnly: this.options.loopbackOnly,
      ...optional("prometheusUrl", this.options.prometheusUrl),
      onSample: (sample) => this.samples.push(sample),
      onError: (error) => {
        this.ctx.progress(`  probe: ${error.message}`);
      },
    });
    const progress = this.reportProgress();
    let restarts: ReturnType<typeof restartObservationsOf> | undefined;
    try {
      restarts = await this.phases();
    } finally {
      this.options.interrupt.removeEventListener("abort", onInterrupt);
      await probes.stop();
      progress.stop();
    }
    return buildRunReport({
      title: plan.title,
      startedAt,
      endedAt: this.now(),
      probes: plan.hypothesis.probes.map(probeSpecOf),
      chaosWindows: mergeWindows(this.windows),
      samples: this.samples,
      faults: this.faults,
      ...optional("restarts", restarts),
      checks: hypothesisChecks(plan.hypothesis.probes, plan.hypothesis.checks),
      ...optional("aborted", this.abortReason),
    });
  }

  /** before, method, rollbacks, after; returns the restart observations when pods were shot. */
  private async phases(): Promise<ReturnType<typeof restartObservationsOf> | undefined> {
    const { hypothesis } = this.options.plan;
    if (hypothesis.checks.includes("before")) await this.steadyState("before");
    if (this.abortReason !== undefined) return undefined;
    // pod-failure restarts its pods' containers twice (the pause image in, the original back).
    const shootsPods = this.options.plan.method.some((s) => s.type !== "wait" && s.type !== "object-fault");
    const before = shootsPods ? await snapshotRestarts(this.ctx.pods) : undefined;
    await this.method();
    if (!this.options.interrupt.aborted) {
      await this.rollbacks();
      if (hypothesis.checks.includes("after")) await this.steadyState("after");
    }
    return before === undefined ? undefined : this.restartsSince(before);
  }

  private async restartsSince(before: Map<string, PodRestarts>) {
    const after = await snapshotRestarts(this.ctx.pods);
    return restartObservationsOf(before, after, this.targetUids);
  }

  /** Samples one window, then judges every tolerance over it. */
  private async steadyState(check: "before" | "after"): Promise<void> {
    const { window } = this.options.plan.hypothesis;
    const start = this.now();
    this.ctx.progress(`${check} check: sampling for ${window.toString()}`);
    await this.ctx.clock.sleep(window.milliseconds, this.options.interrupt);
    const breaches = breachesIn(
      this.options.plan.hypothesis.probes,
      this.samples,
      { start, end: this.now() },
      check,
    );
    for (const breach of breaches) this.ctx.progress(`  ${describeBreach(breach)}`);
    if (breaches.length === 0) this.ctx.progress(`${check} check: the steady state holds`);
    else if (check === "before") {
      this.abort(
        `the steady state did not hold before the method (${describeBreach(breaches[0])}); nothing was injected`,
      );
    }
  }

  private abort(reason: string): void {
    this.abortReason ??= reason;
    if (!this.methodStop.signal.aborted) {
      this.ctx.progress(`stopping: ${reason}`);
      this.methodStop.abort();
    }
  }

  private async method(): Promise<void> {
    const monitor = this.options.plan.hypothesis.checks.includes("during") ? this.watchDuring() : undefined;
    try {
      for (const [index, step] of this.options.plan.method.entries()) {
        if (this.methodStop.signal.aborted) break;
        this.ctx.progress(`step ${String(index + 1)}: ${describeStep(step)}`);
        await this.step(step, index);
      }
      await this.settlePending();
    } finally {
      monitor?.stop();
    }
  }

  private async runStep(step: PlanStep, index: number): Promise<void> {
    if (step.type === "wait") await this.wait(step);
    else if (step.type === "pod-fault") await this.podFault(step, index);
    else if (step.type === "object-fault") await this.objectFault(step);
    else if (step.type === "pod-failure") await this.podFailure(step);
    else if (step.type === "container-kill") await this.containerKill(step);
    else if (step.type === "network-fault") await this.networkFault(step);
    else if (step.type === "stress-fault") await this.stressFault(step);
    else await this.schedule(step);
  }

  private async step(step: PlanStep, index: number): Promise<void> {
    try {
      await this.runStep(step, index);
    } catch (error: unknown) {
      // Bad input the cluster revealed (a protected namespace named outright) is an error, exit 2.
      if (error instanceof BroadsideError && error.exitCode === ExitCode.usage) throw error;
      // Otherwise the engine has reverted what this step applied; the run stops and the report says why.
      this.abort(`step ${String(index + 1)} failed: ${describeError(error)}`);
    }
  }

  private async wait(step: WaitStep): Promise<void> {
    await this.ctx.clock.sleep(step.duration.milliseconds, this.methodStop.signal);
  }

  /** Fires; waits for recovery unless the step says not to, in which case the next step goes on. */
  private async podFault(step: PodFaultStep, index: number): Promise<void> {
    const shot = this.shoot(step);
    if (step.waitForRecovery) {
      await shot;
      return;
    }
    const tracked = shot.catch((error: unknown) => {
      this.abort(`step ${String(index + 1)} failed: ${describeError(error)}`);
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private async shoot(step: PodFaultStep): Promise<void> {
    const start = this.now();
    const result = await runPodChaos(this.ctx, {
      fault: podFaults[step.fault],
      scope: scopeOf(step),
      selector: step.selector,
      mode: step.mode,
      ...optional("gracePeriodSeconds", step.gracePeriodSeconds),
      dryRun: false,
      wait: true,
      timeout: step.timeout,
    });
    if (result.shots.length === 0) {
      const left = result.plan.excluded.length;
      throw new Error(
        `no pod was selected (${String(left)} left out by selectors, rails or mode); nothing was injected`,
      );
    }
    for (const shot of result.shots) this.targetUids.add(shot.pod.uid);
    if (result.recovery !== undefined) {
      this.faults.push({
        type: "pod",
        kind: step.fault,
        // Shots of one volley share a record (ADR 0016): each record once.
        ledgerIds: [...new Set(result.shots.map((s) => s.ledgerId))],
        recovery: result.recovery,
      });
    }
    this.windows.push({ start, end: this.now() });
  }

  private async objectFault(step: ObjectFaultStep): Promise<void> {
    const changes = await planObjectFault(step.fault, this.ctx.objects, step.params, fileParamNames(step));
    const start = this.now();
    const result = await runObjectChaos(this.ctx, changes, {
      duration: step.duration,
      dryRun: false,
      wait: true,
      stop: this.methodStopped(),
    });
    this.faults.push(objectFaultInput(step.fault, result.records, result.recovery));
    this.windows.push({ start, end: this.now() });
  }

  /**
   * Pauses the chosen pods for the step's duration; their images are back, and the pods Ready again (or
   * given up on after 5 minutes), before the next step: their readiness milestones go to the report.
   */
  private async podFailure(step: PodFailureStep): Promise<void> {
    const start = this.now();
    const result = await runPodFailure(this.ctx, {
      scope: scopeOf(step),
      selector: step.selector,
      mode: step.mode,
      pauseImage: step.pauseImage,
      duration: step.duration,
      dryRun: false,
      wait: true,
      stop: this.methodStopped(),
    });
    if (result.records.length === 0) {
      const left = result.plan.excluded.length;
      throw new Error(
        `no pod was selected (${String(left)} left out by selectors, rails or mode); nothing was injected`,
      );
    }
    for (const pod of result.plan.selected) this.targetUids.add(pod.uid);
    this.faults.push(objectFaultInput("pod-failure", result.records, result.recovery, result.timelines));
    this.windows.push({ start, end: this.now() });
  }

  /** Kills the named containers through the node daemons, and waits for them to run and be Ready again. */
  private async containerKill(step: ContainerKillStep): Promise<void> {
    const start = this.now();
    const result = await runContainerKill(this.ctx, {
      scope: scopeOf(step),
      selector: step.selector,
      mode: step.mode,
      containers: step.containerNames,
      containersField: "spec.containerNames",
      dryRun: false,
      wait: true,
      timeout: step.timeout,
    });
    if (result.kills.length === 0) {
      const left = result.plan.excluded.length;
      throw new Error(
        `no pod was selected (${String(left)} left out by selectors, rails or mode); nothing was injected`,
      );
    }
    for (const pod of result.plan.selected) this.targetUids.add(pod.uid);
    this.faults.push({ type: "container", kind: "container-kill", kills: result.kills });
    for (const kill of result.kills) {
      const m = kill.milestones;
      this.ctx.progress(
        `  container-kill ${kill.target.pod.namespace}/${kill.target.pod.name} ${kill.target.container}: ${kill.outcome.accepted ? `running again ${since(kill.outcome.at, m?.runningAgainAt)}, Ready again ${since(kill.outcome.at, m?.readyAgainAt)}` : kill.outcome.reason}`,
      );
    }
    this.windows.push({ start, end: this.now() });
    const refused = result.kills.filter((kill) => !kill.outcome.accepted).length;
    if (refused > 0)
      throw new Error(`${String(refused)} of ${String(result.kills.length)} container kill(s) refused`);
  }

  /** A network fault through the node daemons, held for its duration (reverted early when the method stops). */
  private async networkFault(step: NetworkFaultStep): Promise<void> {
    const start = this.now();
    const result = await runNetworkChaos(this.ctx, {
      scope: scopeOf(step),
      selector: step.selector,
      mode: step.mode,
      kind: step.kind,
      network: step.network,
      duration: step.duration,
      dryRun: false,
      stop: this.methodStopped(),
      ...optional("filter", step.filter, (filter) => ({
        ...optional("target", filter.target, (target) => ({ ...target, scope: scopeOf(target) })),
        external: { values: filter.externalTargets, field: "spec.externalTargets" },
        direction: filter.direction,
      })),
    });
    this.timedFaultDone(result, start, step.kind);
  }

  /** A timed node fault's result: its window kept, its targets noted; none selected or one failed throws. */
  private timedFaultDone(result: NetworkChaosResult, start: number, kind: string): void {
    if (result.runs.length === 0) {
      const left = result.plan.excluded.length;
      throw new Error(
        `no pod was selected (${String(left)} left out by selectors, rails or mode); nothing was injected`,
      );
    }
    for (const pod of result.plan.selected) this.targetUids.add(pod.uid);
    this.windows.push({ start, end: this.now() });
    this.faults.push(timedFaultInput(kind, result.runs));
    const failed = result.runs.filter((run) => run.problem !== undefined);
    if (failed.length > 0)
      throw new Error(
        `${String(failed.length)} of ${String(result.runs.length)} ${kind} fault(s): ${failed[0]?.problem ?? ""}`,
      );
  }

  /** A stress through the node daemons (ADR 0040), held for its duration (ended early when the method stops). */
  private async stressFault(step: StressFaultStep): Promise<void> {
    const start = this.now();
    const result = await runStressChaos(this.ctx, {
      scope: scopeOf(step),
      selector: step.selector,
      mode: step.mode,
      stress: step.stress,
      container: step.container,
      unsafe: this.ctx.rails.unsafe,
      duration: step.duration,
      dryRun: false,
      stop: this.methodStopped(),
    });
    this.timedFaultDone(result, start, "stress");
  }

  /** Resolves when the method stops (a breach, Ctrl-C): an object fault then reverts at once. */
  private methodStopped(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.methodStop.signal.aborted) resolve();
      this.methodStop.signal.addEventListener(
        "abort",
        () => {
          resolve();
        },
        { once: true },
      );
    });
  }

  private async schedule(step: ScheduleStep): Promise<void> {
    const until = new AbortController();
    const onStop = (): void => {
      until.abort();
    };
    this.methodStop.signal.addEventListener("abort", onStop, { once: true });
    const timer = this.ctx.clock.sleep(step.runFor.milliseconds, until.signal).then(onStop);
    try {
      const summary = await runSchedule({
        cron: step.cron,
        concurrencyPolicy: step.concurrencyPolicy,
        historyLimit: step.historyLimit,
        ...optional("startingDeadlineSeconds", step.startingDeadlineSeconds),
        clock: this.ctx.clock,
        signal: until.signal,
        run: async ({ index }) => {
          this.ctx.progress(`  schedule run ${String(index + 1)}`);
          // A pod-failure round holds until its pods are back: Forbid then waits for the revert; a
          // container-kill round until its containers run and their pods are Ready again.
          if (step.shot.type === "pod-failure") await this.podFailure(step.shot);
          else if (step.shot.type === "container-kill") await this.containerKill(step.shot);
          else await this.shoot(step.shot);
        },
        onEvent: (event) => {
          this.ctx.progress(`  schedule: ${describeScheduleEvent(event)}`);
        },
      });
      this.ctx.progress(`  schedule done: ${describeScheduleSummary(summary)}`);
    } finally {
      onStop();
      await timer;
      this.methodStop.signal.removeEventListener("abort", onStop);
    }
  }

  private async settlePending(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async rollbacks(): Promise<void> {
    for (const step of this.options.plan.rollbacks) {
      this.ctx.progress(`rollback: ${describeStep(step)}`);
      await this.ctx.clock.sleep(step.duration.milliseconds, this.options.interrupt);
      if (this.options.interrupt.aborted) return;
    }
  }

  /** The during check: the sliding window, judged every monitorEveryMs while the method runs. */
  private watchDuring(): { stop(): void } {
    const { hypothesis } = this.options.plan;
    const seen = new Set<string>();
    return this.repeat(monitorEveryMs, () => {
      const end = this.now();
      const window = { start: end - hypothesis.window.milliseconds, end };
      // A probe without samples in the window has given no evidence either way yet.
      const breaches = breachesIn(hypothesis.probes, this.samples, window, "during").filter(
        (breach) => breach.observed !== null,
      );
      for (const breach of breaches.filter((b) => !seen.has(b.name))) {
        this.ctx.progress(`  breach: ${describeBreach(breach)}`);
        seen.add(breach.name);
      }
      const first = breaches[0];
      if (first !== undefined && hypothesis.abortOnBreach) {
        this.abort(`a tolerance was breached during the method: ${describeBreach(first)}`);
      }
    });
  }

  /** Every few seconds, one line per probe: what it sent and how much failed since the last line. */
  private reportProgress(): { stop(): void } {
    let from = this.now();
    return this.repeat(this.options.progressEveryMs ?? 5000, () => {
      const to = this.now();
      for (const probe of this.options.plan.hypothesis.probes) {
        const recent = this.samples.filter(
          (s) => s.probe === probe.name && s.sentAt >= from && s.sentAt < to,
        );
        const failed = recent.filter((s) => !s.ok).length;
        const seconds = String(Math.round((to - from) / 1000));
        this.ctx.progress(
          `  [${probe.name}] ${String(recent.length)} sent, ${String(failed)} failed in the last ${seconds}s`,
        );
      }
      from = to;
    });
  }

  /** Calls `tick` every `ms` until stopped. */
  private repeat(ms: number, tick: () => void): { stop(): void } {
    const stopped = new AbortController();
    const loop = async (): Promise<void> => {
      for (;;) {
        await this.ctx.clock.sleep(ms, stopped.signal);
        if (stopped.signal.aborted) return;
        tick();
      }
    };
    void loop();
    return {
      stop: () => {
        stopped.abort();
      },
    };
  }
}

function describeBreach(breach: CheckResult | undefined): string {
  return breach === undefined ? "" : `${breach.name}: ${describeOutcome(breach)}`;
}

/** The namespaces whose pods a step's selector can match; every namespace when it names none. */
export function scopeOf(step: Pick<PodFaultStep, "selector">): NamespaceScope {
  const namespaces = [
    ...(step.selector.namespaces ?? []),
    ...(step.selector.pods ?? []).flatMap((pod) => (pod.namespace === undefined ? [] : [pod.namespace])),
  ];
  return namespaces.length === 0 ? "all" : [...new Set(namespaces)];
}

export function describeStep(step: PlanStep | WaitStep): string {
  const named = step.name === undefined ? "" : `${step.name}: `;
  switch (step.type) {
    case "wait":
      return `${named}wait ${step.duration.toString()}`;
    case "pod-fault":
      return `${named}${step.fault}`;
    case "object-fault":
      return `${named}${step.fault} for ${step.duration.toString()}`;
    case "pod-failure":
      return `${named}pod-failure for ${step.duration.toString()}`;
    case "container-kill":
      return `${named}container-kill of ${step.containerNames.join(", ")}`;
    case "network-fault":
      return `${named}${step.kind} for ${step.duration.toString()}`;
    case "stress-fault":
      return `${named}stress for ${step.duration.toString()}`;
    case "schedule":
      return `${named}Schedule, ${step.concurrencyPolicy}, for ${step.runFor.toString()}`;
  }
}

/** "412 ms" after `from`, or "-" when the milestone never came. */
function since(from: number, at: number | undefined): string {
  return at === undefined ? "-" : `${String(at - from)} ms`;
}

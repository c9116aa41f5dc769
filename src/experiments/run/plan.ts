import { Duration } from "../../core/duration.js";
import type { NetworkWork, StressWork } from "../../core/node-work.js";
import { BroadsideError, usageError } from "../../core/errors.js";
import { optional } from "../../core/objects.js";
import type { CronSpec } from "../files/cron.js";
import type {
  ChaosMeshNetworkChaos,
  ChaosMeshStressChaos,
  ChaosMeshPodChaos,
  ChaosMeshSchedule,
  ContainerKillStep,
  Hypothesis,
  LoadedExperiment,
  MethodStep,
  NetworkFaultStep,
  StressFaultStep,
  PodChaosSpec,
  PodFailureStep,
  PodFaultStep,
  Probe,
  RollbackStep,
} from "../files/model.js";
import { defaultPauseImage } from "../../faults/pod-failure.js";
import { guardLoopback } from "../probes/http-probe.js";

/**
 * What `broadside run` will do, whatever the file's kind: a hypothesis, method steps and rollbacks.
 * Broadside's Experiment maps onto it as it is; a Chaos Mesh PodChaos becomes a one-step method and a
 * Schedule a schedule step, both judged by the probes given with --probe. Built and checked before
 * anything touches the cluster.
 */

/**
 * A Chaos Mesh Schedule driving a pod fault: a run at each cron instant, for `runFor`. A pod-kill round is
 * the shot and its recovery; a pod-failure round holds its pods paused for its duration and ends with their
 * images back, so Forbid (the default) never starts a round while pods of the last one are still paused.
 */
export interface ScheduleStep {
  readonly type: "schedule";
  readonly name: string;
  readonly cron: CronSpec;
  readonly cronText: string;
  readonly concurrencyPolicy: "Forbid" | "Allow";
  readonly historyLimit: number;
  readonly startingDeadlineSeconds?: number;
  /** How long the schedule keeps firing (--for): Chaos Mesh's run until the object is deleted. */
  readonly runFor: Duration;
  /** What each run does. */
  readonly shot: PodFaultStep | PodFailureStep | ContainerKillStep;
}

export type PlanStep = MethodStep | ScheduleStep;

export interface RunPlan {
  readonly name: string;
  readonly title: string;
  readonly hypothesis: Hypothesis;
  readonly method: readonly PlanStep[];
  readonly rollbacks: readonly RollbackStep[];
  readonly warnings: readonly string[];
}

export interface PlanOptions {
  /** Probes from --probe, added to the file's. */
  readonly extraProbes: readonly Probe[];
  /** How long a Schedule fires (--for); required for a Schedule. */
  readonly runFor?: Duration;
  /** The before/after window of manifests without a hypothesis of their own (--window). */
  readonly window: Duration;
  /** BROADSIDE_MAX_FAULT_DURATION: the longest an object fault, or a schedule, may last. */
  readonly maxFaultDuration: Duration;
  /** The cluster is on this machine (a sandbox): probes may only reach loopback. */
  readonly loopbackOnly: boolean;
  /**
   * A Chaos Mesh manifest served by the agent, where no --probe can be given: run without a hypothesis,
   * judged on its faults alone (applied and reverted). `broadside run` asks for a probe instead.
   */
  readonly withoutProbes?: boolean;
}

/** Chaos Mesh keeps one finished run of a Schedule unless told otherwise (schedule_types.go). */
export const defaultHistoryLimit = 1;

/** Recovery of a Chaos Mesh pod-kill is waited for this long before it counts as not recovered. */
const chaosMeshRecoveryTimeout = "5m";

export function runPlanOf(loaded: LoadedExperiment, options: PlanOptions): RunPlan {
  const plan = planByKind(loaded, options);
  checkPlan(plan, options, loaded.fileName, loaded.kind === "Experiment");
  return plan;
}

function planByKind(loaded: LoadedExperiment, options: PlanOptions): RunPlan {
  if (loaded.kind === "Experiment") {
    return {
      name: loaded.name,
      title: loaded.title,
      hypothesis: { ...loaded.hypothesis, probes: [...loaded.hypothesis.probes, ...options.extraProbes] },
      method: loaded.method,
      rollbacks: loaded.rollbacks,
      warnings: loaded.warnings,
    };
  }
  if (!loaded.runnable) {
    throw new BroadsideError(
      "BRD_NOT_RUNNABLE",
      `${loaded.fileName}: ${loaded.kind} ${loaded.name}: ${loaded.reason}; nothing was run`,
    );
  }
  const timeout = Duration.parse(chaosMeshRecoveryTimeout, "timeout");
  if (loaded.kind === "PodChaos") return podChaosPlan(loaded, options, timeout);
  if (loaded.kind === "NetworkChaos") return networkChaosPlan(loaded, options);
  if (loaded.kind === "StressChaos") return stressChaosPlan(loaded, options);
  return schedulePlan(loaded, options, timeout);
}

function manifestHypothesis(options: PlanOptions, fileName: string): Hypothesis {
  if (options.extraProbes.length === 0 && options.withoutProbes === true)
    return { probes: [], checks: [], abortOnBreach: false, window: options.window };
  if (options.extraProbes.length === 0) {
    throw usageError(
      "--probe",
      `${fileName} is a Chaos Mesh manifest, which has no steady-state hypothesis: give at least one --probe to measure what users feel`,
    );
  }
  return {
    probes: options.extraProbes,
    checks: ["before", "during", "after"],
    abortOnBreach: true,
    window: options.window,
  };
}

function podStep(name: string, spec: PodChaosSpec, timeout: Duration): PodFaultStep {
  return {
    type: "pod-fault",
    name,
    fault: "pod-kill",
    selector: spec.selector,
    mode: spec.mode,
    gracePeriodSeconds: spec.gracePeriodSeconds,
    waitForRecovery: true,
    timeout,
  };
}

/** pod-failure from a PodChaos: its duration, which the loader has required, and the default pause image. */
function podFailureStep(name: string, spec: PodChaosSpec, fileName: string): PodFailureStep {
  if (spec.duration === undefined) {
    throw new BroadsideError("BRD_INTERNAL", `${fileName}: a runnable pod-failure without a duration`);
  }
  return {
    type: "pod-failure",
    name,
    selector: spec.selector,
    mode: spec.mode,
    pauseImage: defaultPauseImage,
    duration: spec.duration,
  };
}

/** The step of a PodChaos spec: a PodChaos's one step, or each round of a Schedule's. */
function podChaosStep(
  name: string,
  spec: PodChaosSpec,
  fileName: string,
  timeout: Duration,
): PodFaultStep | PodFailureStep | ContainerKillStep {
  if (spec.action === "pod-failure") return podFailureStep(name, spec, fileName);
  if (spec.action === "container-kill") {
    const { selector, mode, containerNames } = spec;
    return { type: "container-kill", name, selector, mode, containerNames, timeout };
  }
  return podStep(name, spec, timeout);
}

function podChaosPlan(loaded: ChaosMeshPodChaos, options: PlanOptions, timeout: Duration): RunPlan {
  const name = `${loaded.action} (PodChaos ${loaded.name})`;
  return {
    name: loaded.name,
    title: `PodChaos ${loaded.name}: ${loaded.action}`,
    hypothesis: manifestHypothesis(options, loaded.fileName),
    method: [podChaosStep(name, loaded, loaded.fileName, timeout)],
    rollbacks: [],
    warnings: loaded.warnings,
  };
}

/** A runnable NetworkChaos (bandwidth, delay, loss or partition; filtered to a target or not) as one network-fault step. */
function networkChaosPlan(loaded: ChaosMeshNetworkChaos, options: PlanOptions): RunPlan {
  const { action, duration } = loaded;
  const network = networkWorkOf(loaded);
  if (action === "netem" || duration === undefined || network === undefined)
    throw new BroadsideError(
      "BRD_INTERNAL",
      `${loaded.fileName}: a runnable NetworkChaos ${action} without a duration or its section`,
    );
  const step: NetworkFaultStep = {
    type: "network-fault",
    name: `${action} (NetworkChaos ${loaded.name})`,
    selector: loaded.selector,
    mode: loaded.mode,
    kind: action,
    network,
    duration,
    ...(loaded.target === undefined && loaded.externalTargets.length === 0
      ? {}
      : {
          filter: {
            ...optional("target", loaded.target),
            externalTargets: loaded.externalTargets,
            direction: loaded.direction,
          },
        }),
  };
  return {
    name: loaded.name,
    title: `NetworkChaos ${loaded.name}: ${action}`,
    hypothesis: manifestHypothesis(options, loaded.fileName),
    method: [step],
    rollbacks: [],
    warnings: loaded.warnings,
  };
}

/** A runnable StressChaos as one stress-fault step (ADR 0040). */
function stressChaosPlan(loaded: ChaosMeshStressChaos, options: PlanOptions): RunPlan {
  const { duration, memory, cpu } = loaded;
  if (duration === undefined || (memory !== undefined && memory.size === undefined))
    throw new BroadsideError(
      "BRD_INTERNAL",
      `${loaded.fileName}: a runnable StressChaos without a duration or size`,
    );
  const stress = {
    ...(memory?.size === undefined ? {} : { memory: { ...memory.size, workers: memory.workers } }),
    ...(cpu === undefined ? {} : { cpu: { workers: cpu.workers, load: cpu.load ?? 100 } }),
  } as StressWork;
  const container = loaded.containerNames[0];
  const step: StressFaultStep = {
    type: "stress-fault",
    name: `stress (StressChaos ${loaded.name})`,
    selector: loaded.selector,
    mode: loaded.mode,
    stress,
    ...(container === undefined ? {} : { container }),
    duration,
  };
  return {
    name: loaded.name,
    title: `StressChaos ${loaded.name}`,
    hypothesis: manifestHypothesis(options, loaded.fileName),
    method: [step],
    rollbacks: [],
    warnings: loaded.warnings,
  };
}

/** The node work's parameters of a NetworkChaos; delay and loss take the backend the node finds (auto). */
function networkWorkOf(loaded: ChaosMeshNetworkChaos): NetworkWork | undefined {
  const { action, bandwidth, delay, loss } = loaded;
  const device = loaded.device ?? "eth0";
  if (action === "partition") return { device, partition: { direction: loaded.direction } };
  if (action === "bandwidth" && bandwidth !== undefined)
    return {
      device,
      bandwidth: {
        // Chaos Mesh's rate is in bytes per second; tc's "bps" is bytes per second too.
        rate: `${String(bandwidth.rateBytesPerSecond)}bps`,
        limit: bandwidth.limit,
        buffer: bandwidth.buffer,
        ...optional("peakrate", bandwidth.peakrate),
        ...optional("minburst", bandwidth.minburst),
      },
    };
  if (action === "delay" && delay !== undefined) {
    const { latencyMs, jitterMs, correlation } = delay;
    return { device, delay: { latencyMs, jitterMs, correlation }, backend: "auto" };
  }
  if (action === "loss" && loss !== undefined)
    return { device, loss: { percent: loss.loss, correlation: loss.correlation }, backend: "auto" };
  return netemOnlyWork(loaded, device);
}

/** duplicate and corrupt: netem's only, so no backend to choose (ADR 0039). */
function netemOnlyWork(loaded: ChaosMeshNetworkChaos, device: string): NetworkWork | undefined {
  const { action, duplicate, corrupt } = loaded;
  if (action === "duplicate" && duplicate !== undefined)
    return { device, duplicate: { percent: duplicate.duplicate, correlation: duplicate.correlation } };
  if (action === "corrupt" && corrupt !== undefined)
    return { device, corrupt: { percent: corrupt.corrupt, correlation: corrupt.correlation } };
  return undefined;
}

function schedulePlan(loaded: ChaosMeshSchedule, options: PlanOptions, timeout: Duration): RunPlan {
  const { chaos } = loaded;
  if (chaos.kind !== "PodChaos") {
    throw new BroadsideError("BRD_INTERNAL", `${loaded.fileName}: a runnable Schedule of ${chaos.kind}`);
  }
  if (options.runFor === undefined) {
    throw usageError(
      "--for",
      `${loaded.fileName} is a Schedule, which runs until stopped: say for how long, e.g. --for 10m`,
    );
  }
  return {
    name: loaded.name,
    title: `Schedule ${loaded.name}: ${chaos.action} on "${loaded.cron.text}" for ${options.runFor.toString()}`,
    hypothesis: manifestHypothesis(options, loaded.fileName),
    method: [
      {
        type: "schedule",
        name: `${chaos.action} on "${loaded.cron.text}"`,
        cron: loaded.cron,
        cronText: loaded.cron.text,
        concurrencyPolicy: loaded.concurrencyPolicy,
        historyLimit: loaded.historyLimit ?? defaultHistoryLimit,
        ...optional("startingDeadlineSeconds", loaded.startingDeadlineSeconds),
        runFor: options.runFor,
        shot: podChaosStep(chaos.action, chaos, loaded.fileName, timeout),
      },
    ],
    rollbacks: [],
    warnings: loaded.warnings,
  };
}

/**
 * The lengths BROADSIDE_MAX_FAULT_DURATION bounds in one step, each with the field that set it: a fault's
 * duration; a Schedule's --for, and the duration of each of its pod-failure rounds.
 */
function limitedLengths(
  step: PlanStep,
  index: number,
  fileName: string,
  isExperiment: boolean,
): (readonly [string, Duration])[] {
  if (step.type === "wait") return [];
  if (step.type === "schedule") {
    const round = step.shot.type === "pod-failure" ? step.shot.duration : undefined;
    return [
      ["--for", step.runFor],
      ...(round === undefined ? [] : [[`${fileName}: spec.podChaos.duration`, round] as const]),
    ];
  }
  if (!("duration" in step)) return [];
  const field = `${fileName}: ${isExperiment ? `spec.method[${index}].duration` : "spec.duration"}`;
  return [[field, step.duration]];
}

/** The checks that need configuration rather than the file: the duration cap and the loopback rail. */
function checkPlan(plan: RunPlan, options: PlanOptions, fileName: string, isExperiment: boolean): void {
  const max = options.maxFaultDuration;
  plan.method.forEach((step, index) => {
    for (const [field, length] of limitedLengths(step, index, fileName, isExperiment)) {
      if (length.milliseconds > max.milliseconds) {
        throw usageError(
          field,
          `${length.toString()} is longer than the longest fault allowed, ${max.toString()} (BROADSIDE_MAX_FAULT_DURATION)`,
        );
      }
    }
  });
  if (!options.loopbackOnly) return;
  // The probes check this again when they start; here it is refused before the first request, naming
  // where the probe was written: the file's own probes come first, then those of --probe.
  const fromFile = plan.hypothesis.probes.length - options.extraProbes.length;
  plan.hypothesis.probes.forEach((probe, index) => {
    // A kubernetes probe reads the API; a prometheus probe without a url asks BROADSIDE_PROMETHEUS_URL.
    if (probe.type === "kubernetes" || probe.url === undefined) return;
    const field =
      index < fromFile ? `${fileName}: spec.hypothesis.probes[${index}].${probe.type}.url` : "--probe";
    try {
      guardLoopback(probe.name, probe.url, true);
    } catch (error: unknown) {
      if (!(error instanceof BroadsideError)) throw error;
      throw new BroadsideError(error.code, `${field}: ${error.message}`);
    }
  });
}

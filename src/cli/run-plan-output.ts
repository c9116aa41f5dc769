import { runContainerKill } from "../engine/container-kill.js";
import type { EngineContext } from "../engine/context.js";
import { runObjectChaos } from "../engine/object-chaos.js";
import { runPodChaos } from "../engine/pod-chaos.js";
import { runPodFailure } from "../engine/pod-failure.js";
import { runStressChaos } from "../engine/stress-chaos.js";
import type { TargetPlan } from "../core/targeting/types.js";
import { fileParamNames, planObjectFault } from "../faults/object-registry.js";
import { podFaults } from "../faults/pod-registry.js";
import type {
  ContainerKillStep,
  ObjectFaultStep,
  PodFailureStep,
  PodFaultStep,
  Probe,
  StressFaultStep,
} from "../experiments/files/model.js";
import type { PlanStep, RunPlan, ScheduleStep } from "../experiments/run/plan.js";
import { firingInstants } from "../experiments/schedule/instants.js";
import { probeSpecOf } from "../experiments/run/probes.js";
import { describeStep, scopeOf } from "../experiments/run/runner.js";
import { exclusionLines } from "./chaos-output.js";
import type { CliIo } from "./options.js";

/**
 * `broadside run --dry-run`: the plan, with what each step would hit today. Targets are planned exactly
 * as a run plans them (selectors, rails, mode, blast-radius cap); nothing is written.
 */
export async function printDryRun(ctx: EngineContext, plan: RunPlan, io: CliIo): Promise<void> {
  const { hypothesis } = plan;
  io.out(`Plan (dry run, nothing changed): ${plan.title}\n`);
  io.out(
    `Hypothesis: checked ${hypothesis.checks.join(", ")}; window ${hypothesis.window.toString()}; ` +
      `${hypothesis.abortOnBreach ? "a breach during the method stops it" : "breaches are recorded, the method goes on"}\n`,
  );
  for (const probe of hypothesis.probes) io.out(`  probe ${describeProbe(probe)}\n`);
  io.out("Method:\n");
  for (const [index, step] of plan.method.entries()) {
    io.out(`  ${String(index + 1)}. ${describeStep(step)}\n`);
    for (const line of await stepTargets(ctx, step)) io.out(`       ${line}\n`);
  }
  if (plan.rollbacks.length > 0) io.out("Rollbacks:\n");
  for (const step of plan.rollbacks) io.out(`  - ${describeStep(step)}\n`);
}

function describeProbe(probe: Probe): string {
  const spec = probeSpecOf(probe);
  const tolerances = probe.tolerances.map((t) => t.text).join("; ");
  return `${probe.name}: ${spec.target ?? ""}, every ${String(Math.round(spec.intervalMs))} ms; tolerances: ${tolerances}`;
}

async function stepTargets(ctx: EngineContext, step: PlanStep): Promise<string[]> {
  if (step.type === "pod-fault") return podTargets(ctx, step);
  if (step.type === "object-fault") return objectChanges(ctx, step);
  if (step.type === "pod-failure") return pausedPods(ctx, step);
  if (step.type === "container-kill") return killedContainers(ctx, step);
  if (step.type === "stress-fault") return stressedContainers(ctx, step);
  if (step.type === "schedule") {
    const round =
      step.shot.type === "pod-failure"
        ? pausedPods(ctx, step.shot)
        : step.shot.type === "container-kill"
          ? killedContainers(ctx, step.shot)
          : podTargets(ctx, step.shot);
    return [...scheduleInstants(ctx, step), ...(await round)];
  }
  return [];
}

async function podTargets(ctx: EngineContext, step: PodFaultStep): Promise<string[]> {
  const result = await runPodChaos(ctx, {
    fault: podFaults[step.fault],
    scope: scopeOf(step),
    selector: step.selector,
    mode: step.mode,
    dryRun: true,
    wait: false,
    timeout: step.timeout,
  });
  return describeTargets(result.plan);
}

async function pausedPods(ctx: EngineContext, step: PodFailureStep): Promise<string[]> {
  const result = await runPodFailure(ctx, {
    scope: scopeOf(step),
    selector: step.selector,
    mode: step.mode,
    pauseImage: step.pauseImage,
    duration: step.duration,
    dryRun: true,
    wait: false,
    stop: Promise.resolve(),
  });
  return [
    ...result.changes.map((change) => `would change ${change.description}`),
    ...describeTargets(result.plan),
  ];
}

/** Each container a run would kill, checked on its pod as a run checks it (a missing name is refused). */
async function killedContainers(ctx: EngineContext, step: ContainerKillStep): Promise<string[]> {
  const result = await runContainerKill(ctx, {
    scope: scopeOf(step),
    selector: step.selector,
    mode: step.mode,
    containers: step.containerNames,
    containersField: "spec.containerNames",
    dryRun: true,
    wait: false,
    timeout: step.timeout,
  });
  return [
    ...result.targets.map(
      (target) =>
        `would kill container ${target.container} of ${target.pod.namespace}/${target.pod.name} on ${target.node} (through its node daemon)`,
    ),
    ...describeTargets(result.plan),
  ];
}

/** A StressChaos's dry run: its containers, with the memory-limit pre-check (ADR 0040). */
async function stressedContainers(ctx: EngineContext, step: StressFaultStep): Promise<string[]> {
  const result = await runStressChaos(ctx, {
    scope: scopeOf(step),
    selector: step.selector,
    mode: step.mode,
    stress: step.stress,
    container: step.container,
    unsafe: ctx.rails.unsafe,
    duration: step.duration,
    dryRun: true,
  });
  return [
    ...result.targets.map(
      (target) =>
        `would stress container ${target.container} of ${target.pod.namespace}/${target.pod.name} on ${target.node} (through its node daemon)`,
    ),
    ...describeTargets(result.plan),
  ];
}

function describeTargets({ selected, excluded, warnings }: TargetPlan): string[] {
  return [
    ...selected.map(
      (pod) =>
        `would hit ${pod.namespace}/${pod.name}${pod.nodeName === undefined ? "" : ` on ${pod.nodeName}`}`,
    ),
    ...exclusionLines(excluded, false).map((line) => `skip ${line}`),
    ...warnings.map((warning) => `warning: ${warning}`),
    ...(selected.length === 0 ? ["no pod would be hit: a run would stop at this step"] : []),
  ];
}

async function objectChanges(ctx: EngineContext, step: ObjectFaultStep): Promise<string[]> {
  const changes = await planObjectFault(step.fault, ctx.objects, step.params, fileParamNames(step));
  // The dry run of the engine checks the namespace rails, as a run would.
  await runObjectChaos(ctx, changes, {
    duration: step.duration,
    dryRun: true,
    wait: false,
    stop: Promise.resolve(),
  });
  return changes.map((change) => `would change ${change.description}`);
}

/** The instants the schedule would fire at if it started now, for --for. */
function scheduleInstants(ctx: EngineContext, step: ScheduleStep): string[] {
  const now = ctx.clock.now();
  const { instants, complete } = firingInstants(step.cron, now, now + step.runFor.milliseconds);
  const shown = instants.slice(0, 10).map((instant) => new Date(instant).toISOString());
  const count = complete ? String(instants.length) : `more than ${String(instants.length)}`;
  const more = instants.length > shown.length ? ", ..." : "";
  return [`would fire ${count} time(s) if started now: ${shown.join(", ")}${more}`];
}

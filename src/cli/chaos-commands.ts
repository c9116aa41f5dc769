import type { Command } from "commander";
import { systemClock } from "../core/clock.js";
import { Duration } from "../core/duration.js";
import { BroadsideError, usageError } from "../core/errors.js";
import { optional } from "../core/objects.js";
import { containerNameSchema } from "../core/schemas.js";
import { runContainerKill } from "../engine/container-kill.js";
import { runObjectChaos } from "../engine/object-chaos.js";
import type { EngineContext } from "../engine/context.js";
import { runPodChaos, type PodChaosResult, type PodChoice } from "../engine/pod-chaos.js";
import { runPodFailure } from "../engine/pod-failure.js";
import { defaultPauseImage, pauseImageSchema } from "../faults/pod-failure.js";
import { checkObjectFaultParams, planObjectFault } from "../faults/object-registry.js";
import { cliParamNames, parseParams } from "../faults/plan-support.js";
import { podFaults } from "../faults/pod-registry.js";
import type { ObjectFaultKind, PodFaultKind } from "../faults/types.js";
import {
  addCommonChaosFlags,
  addPodSelectionFlags,
  addPodTargetFlags,
  modeFrom,
  objectRef,
  paceFrom,
  scopeFrom,
  selectorFrom,
  type CommonChaosFlags,
  type PodSelectionFlags,
  type PodTargetFlags,
} from "./chaos-flags.js";
import {
  objectResultJson,
  podFailureResultJson,
  podResultJson,
  printObjectResult,
  printPodFailureResult,
  printPodResult,
} from "./chaos-output.js";
import type { CliConfig } from "./config.js";
import { containerKillResultJson, printContainerKillResult } from "./container-kill-output.js";
import { recoverLeftovers } from "./engine-context.js";
import { connectPodVerbEngine } from "./pod-verb-engine.js";
import { durationOption, type CliIo } from "./options.js";
import { progressLineFor } from "./progress-line.js";

export function registerChaosCommands(program: Command, config: CliConfig, io: CliIo): void {
  registerPodVerb(
    program,
    config,
    io,
    "kill",
    "pod-kill",
    "Delete pods (with their grace period) and time how the cluster replaces them",
  );
  registerPodVerb(
    program,
    config,
    io,
    "evict",
    "pod-evict",
    "Evict pods through the Eviction API: PodDisruptionBudgets are respected, never forced",
  );
  registerFail(program, config, io);
  registerDrift(program, config, io);
  registerSqueeze(program, config, io);
  registerScale(program, config, io);
}

function registerPodVerb(
  program: Command,
  config: CliConfig,
  io: CliIo,
  verb: string,
  kind: PodFaultKind,
  description: string,
): void {
  const command = addPodTargetFlags(program.command(verb)).description(description);
  if (kind === "pod-kill")
    command.option(
      "--container <name>",
      "kill this container's process (SIGKILL, by the node daemon) instead of the pod; the kubelet restarts it",
    );
  command.action(async (pods: string[], flags: PodTargetFlags & { container?: string }) => {
    if (flags.container !== undefined) {
      await killContainers(config, io, pods, { ...flags, container: flags.container });
      return;
    }
    // Every flag is checked before the kubeconfig is read (so a bad flag is named first) and before
    // the first request: bad input changes nothing. Only the context's namespace waits for the
    // kubeconfig; a stand-in lets the pod names be checked already.
    const pace = paceFrom(flags);
    const stderr = progressLineFor(io, flags.output, systemClock);
    const { ctx, scope, selector, mode } = await connectForPods(config, stderr.io, flags, pods);
    const progress = stderr.line(ctx.apiRequests);
    const result = await runPodChaos(ctx, {
      fault: podFaults[kind],
      scope,
      selector,
      mode,
      ...optional("gracePeriodSeconds", flags.gracePeriod),
      dryRun: flags.dryRun,
      wait: flags.wait,
      timeout: flags.timeout,
      ...optional("pace", pace),
      progress,
    }).finally(() => {
      progress.finish();
    });
    if (flags.output === "json")
      io.out(`${JSON.stringify(podResultJson(kind, flags.dryRun, result, flags.explain), null, 2)}\n`);
    else printPodResult(io, flags.dryRun, result, flags.explain);
    refuseOnRefusedShots(result);
  });
}

/** `kill --container`: every flag checked first, then the pods chosen as `kill` chooses them (ADR 0029). */
async function killContainers(
  config: CliConfig,
  io: CliIo,
  pods: readonly string[],
  flags: PodTargetFlags & { container: string },
): Promise<void> {
  const container = parseParams(containerNameSchema, flags.container, () => "--container");
  if (flags.gracePeriod !== undefined)
    throw usageError("--grace-period", "does not go with --container: the container is killed with SIGKILL");
  if (flags.maxShots !== undefined) throw usageError("--max-shots", "does not go with --container");
  const { ctx, scope, selector, mode } = await connectForPods(config, io, flags, pods);
  const result = await runContainerKill(ctx, {
    scope,
    selector,
    mode,
    containers: [container],
    containersField: "--container",
    dryRun: flags.dryRun,
    wait: flags.wait,
    timeout: flags.timeout,
  });
  if (flags.output === "json")
    io.out(`${JSON.stringify(containerKillResultJson(flags.dryRun, result, flags.explain), null, 2)}\n`);
  else printContainerKillResult(io, flags.dryRun, result, flags.explain);
  const refused = result.kills.filter((kill) => !kill.outcome.accepted);
  if (refused.length > 0) {
    const reasons = [...new Set(refused.map((kill) => (kill.outcome.accepted ? "" : kill.outcome.reason)))];
    throw new BroadsideError(
      "BRD_SHOT_REFUSED",
      `${refused.length} of ${result.kills.length} container kill(s) refused: ${reasons.join("; ")}`,
    );
  }
}

/**
 * The pod verbs' common start, once their own flags are checked: the mode and the pod names are checked
 * too before the kubeconfig is read (only the context's namespace waits for it; a stand-in lets the
 * names be checked already), then the engine connects and finishes expired reverts.
 */
async function connectForPods(
  config: CliConfig,
  io: CliIo,
  flags: PodSelectionFlags,
  pods: readonly string[],
): Promise<{ ctx: EngineContext } & PodChoice> {
  const mode = modeFrom(flags);
  selectorFrom(flags, pods, scopeFrom(flags, "default"));
  const { ctx, defaultNamespace } = await connectPodVerbEngine(config, io, flags);
  const scope = scopeFrom(flags, defaultNamespace);
  const selector = selectorFrom(flags, pods, scope);
  await recoverLeftovers(ctx);
  if (flags.unsafe) ctx.progress("--unsafe: the blast-radius cap is lifted for this run");
  return { ctx, scope, selector, mode };
}

/** Printed first, then failed: a refused shot (blocked by a PDB) is the finding, and scripts see it. */
function refuseOnRefusedShots(result: PodChaosResult): void {
  const reasons = result.shots.flatMap((shot) => (shot.outcome.accepted ? [] : [shot.outcome.reason]));
  if (reasons.length === 0) return;
  const summary = `${reasons.length} of ${result.shots.length} shot(s) refused: ${[...new Set(reasons)].join("; ")}`;
  throw new BroadsideError("BRD_SHOT_REFUSED", summary);
}

interface ObjectVerbFlags extends CommonChaosFlags {
  readonly namespace?: string;
  readonly duration: Duration;
  readonly wait: boolean;
}

function addObjectVerbFlags(command: Command, config: CliConfig): Command {
  return addCommonChaosFlags(command)
    .argument("<target>", "KIND/NAME")
    .option("-n, --namespace <name>", "namespace (default: the context's, else default)")
    .option(
      "--duration <duration>",
      `how long the fault lasts before it is reverted (at most ${config.maxFaultDuration.toString()})`,
      // Bounded by BROADSIDE_MAX_FAULT_DURATION, which checkDuration names.
      durationOption("--duration", { fields: "--duration", max: Duration.ceiling }),
      Duration.parse("5m", "--duration"),
    )
    .option("--no-wait", "return after injecting; any later broadside command reverts it at its deadline");
}

/** The shared life of drift, squeeze and scale: flags checked, target read and planned, then injected. */
async function runObjectVerb(
  io: CliIo,
  config: CliConfig,
  kind: ObjectFaultKind,
  flags: ObjectVerbFlags,
  params: (namespace: string) => object,
) {
  checkDuration(flags.duration, config.maxFaultDuration);
  // Every parameter is checked before the kubeconfig is read, with a stand-in for the context's
  // namespace, and again with it before the first request; planning reads the target afterwards.
  checkObjectFaultParams(kind, params(flags.namespace ?? "default"), cliParamNames);
  const { ctx, defaultNamespace } = await connectPodVerbEngine(config, io, flags);
  const input = params(flags.namespace ?? defaultNamespace);
  checkObjectFaultParams(kind, input, cliParamNames);
  await recoverLeftovers(ctx);
  const changes = await planObjectFault(kind, ctx.objects, input, cliParamNames);
  const result = await runObjectChaos(ctx, changes, {
    duration: flags.duration,
    dryRun: flags.dryRun,
    wait: flags.wait,
    stop: interrupted(ctx.progress),
  });
  if (flags.output === "json")
    io.out(`${JSON.stringify(objectResultJson(kind, flags.dryRun, result), null, 2)}\n`);
  else printObjectResult(io, flags.dryRun, result);
}

interface FailFlags extends PodSelectionFlags {
  readonly duration?: Duration;
  readonly pauseImage: string;
  readonly wait: boolean;
}

/**
 * `broadside fail`: Chaos Mesh's pod-failure. Pods chosen as `kill` chooses them; every container's image
 * becomes a pause image for --duration (required: a pause of unstated length is not guessed), then the
 * exact images come back.
 */
function registerFail(program: Command, config: CliConfig, io: CliIo): void {
  addPodSelectionFlags(program.command("fail"))
    .description(
      "Swap every container's image of pods for a pause image for a while (Chaos Mesh's pod-failure), then put the images back",
    )
    .option(
      "--duration <duration>",
      `how long the pods stay paused (required; at most ${config.maxFaultDuration.toString()})`,
      durationOption("--duration", { fields: "--duration", max: Duration.ceiling }),
    )
    .option("--pause-image <image>", "the image every container runs meanwhile", defaultPauseImage)
    .option(
      "--no-wait",
      "return after pausing; any later broadside command restores the images at the deadline",
    )
    .action(async (pods: string[], flags: FailFlags) => {
      // Every flag is checked before the kubeconfig is read, and so before the first request.
      if (flags.duration === undefined) {
        throw usageError("--duration", "is required: how long the pods stay paused, e.g. --duration 30s");
      }
      checkDuration(flags.duration, config.maxFaultDuration);
      const pauseImage = parseParams(pauseImageSchema, flags.pauseImage, () => "--pause-image");
      const { ctx, scope, selector, mode } = await connectForPods(config, io, flags, pods);
      const result = await runPodFailure(ctx, {
        scope,
        selector,
        mode,
        pauseImage,
        duration: flags.duration,
        dryRun: flags.dryRun,
        wait: flags.wait,
        stop: interrupted(ctx.progress),
      });
      if (flags.output === "json")
        io.out(`${JSON.stringify(podFailureResultJson(flags.dryRun, result, flags.explain), null, 2)}\n`);
      else printPodFailureResult(io, flags.dryRun, result, flags.explain);
    });
}

/** Resolves on Ctrl-C: an object fault then reverts at once. */
function interrupted(progress: (message: string) => void): Promise<void> {
  return new Promise<void>((resolve) =>
    process.once("SIGINT", () => {
      progress("interrupted: reverting now");
      resolve();
    }),
  );
}

function checkDuration(duration: Duration, maximum: Duration): void {
  if (duration.milliseconds === 0) throw usageError("--duration", "must be longer than 0");
  if (duration.milliseconds > maximum.milliseconds) {
    throw usageError(
      "--duration",
      `at most ${maximum.toString()} (BROADSIDE_MAX_FAULT_DURATION), got ${duration.toString()}`,
    );
  }
}

const dataKinds = { configmap: "configmap", cm: "configmap", secret: "secret" } as const;
const workloadKinds = {
  deployment: "deployment",
  deploy: "deployment",
  statefulset: "statefulset",
  sts: "statefulset",
  daemonset: "daemonset",
  ds: "daemonset",
} as const;
const scalableKinds = {
  deployment: "deployment",
  deploy: "deployment",
  statefulset: "statefulset",
  sts: "statefulset",
} as const;

function registerDrift(program: Command, config: CliConfig, io: CliIo): void {
  addObjectVerbFlags(program.command("drift"), config)
    .description("Set or remove a key of a ConfigMap or Secret for a while (Secret values are never printed)")
    .requiredOption("--key <key>", "the data key")
    .option("--value <value>", "the value to set")
    .option("--remove", "remove the key instead")
    .action(
      async (target: string, flags: ObjectVerbFlags & { key: string; value?: string; remove?: boolean }) => {
        const { kind, name } = objectRef(target, dataKinds);
        await runObjectVerb(io, config, "config-drift", flags, (namespace) => ({
          namespace,
          kind,
          name,
          key: flags.key,
          ...optional("value", flags.value),
          ...optional("remove", flags.remove),
        }));
      },
    );
}

function registerSqueeze(program: Command, config: CliConfig, io: CliIo): void {
  addObjectVerbFlags(program.command("squeeze"), config)
    .description("Set the CPU and memory limits of a workload's containers (requests clamped) for a while")
    .requiredOption("--cpu <quantity>", "CPU limit, e.g. 10m")
    .requiredOption("--memory <quantity>", "memory limit, e.g. 10Mi")
    .option("--container <name>", "only this container")
    .action(
      async (
        target: string,
        flags: ObjectVerbFlags & { cpu: string; memory: string; container?: string },
      ) => {
        const { kind, name } = objectRef(target, workloadKinds);
        await runObjectVerb(io, config, "resource-squeeze", flags, (namespace) => ({
          namespace,
          kind,
          name,
          cpu: flags.cpu,
          memory: flags.memory,
          ...optional("container", flags.container),
        }));
      },
    );
}

function registerScale(program: Command, config: CliConfig, io: CliIo): void {
  addObjectVerbFlags(program.command("scale"), config)
    .description("Set a Deployment's or StatefulSet's replicas for a while (0 needs --unsafe)")
    .requiredOption("--replicas <n>", "the replica count", (value: string) => {
      if (!/^-?\d+$/.test(value.trim()))
        throw usageError("--replicas", `must be a whole number, got "${value}"`);
      return Number(value);
    })
    .action(async (target: string, flags: ObjectVerbFlags & { replicas: number }) => {
      const { kind, name } = objectRef(target, scalableKinds);
      await runObjectVerb(io, config, "scale", flags, (namespace) => ({
        namespace,
        kind,
        name,
        replicas: flags.replicas,
        unsafe: flags.unsafe,
      }));
    });
}

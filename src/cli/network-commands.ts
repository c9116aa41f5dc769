import type { Command } from "commander";
import { Duration } from "../core/duration.js";
import { BroadsideError, usageError } from "../core/errors.js";
import { networkBackends } from "../core/node-work.js";
import type { NetworkWork, TimedNodeWorkKind } from "../core/node-work.js";
import type { EngineContext } from "../engine/context.js";
import { runNetworkChaos } from "../engine/network-chaos.js";
import type { NetworkChaosResult, NetworkFilter, TimedFaultOptions } from "../engine/network-chaos.js";
import {
  bandwidthParamsSchema,
  delayParamsSchema,
  lossParamsSchema,
  partitionParamsSchema,
} from "../faults/network.js";
import { networkDirections } from "../faults/network.js";
import type { NetworkDirection, NetworkFaultKind } from "../faults/network.js";
import { parseMode } from "../core/targeting/mode.js";
import { namespaceName } from "../core/names.js";
import type { NamespaceScope } from "../kube/pod-facts.js";
import type { PodChoice } from "../engine/pod-chaos.js";
import type { z } from "zod";
import { connectForPods } from "./chaos-commands.js";
import {
  addPodSelectionFlags,
  checkedLabelSelector,
  splitList,
  type PodSelectionFlags,
} from "./chaos-flags.js";
import { printSkipped } from "./chaos-output.js";
import type { CliConfig } from "./config.js";
import { choiceOption, durationOption, type CliIo } from "./options.js";

/*
 * `broadside bandwidth` and `broadside partition` (issue 12, ADR 0032): Chaos Mesh's NetworkChaos
 * bandwidth and partition actions on chosen pods, applied by the node daemon of each pod's node inside
 * the pod's network namespace, held for --duration, then reverted. Every flag is checked before the
 * kubeconfig is read; the command holds until the revert is answered (Ctrl-C reverts at once).
 */

interface NetworkFlags extends PodSelectionFlags {
  readonly duration?: Duration;
  readonly device: string;
  readonly direction?: string;
  readonly targetNamespace?: string;
  readonly targetSelector?: string;
  readonly targetMode: string;
  readonly targetValue?: string;
  readonly externalTarget?: string;
}

interface BandwidthFlags extends NetworkFlags {
  readonly rate?: string;
  readonly limit: string;
  readonly buffer: string;
  readonly peakrate?: string;
  readonly minburst?: string;
}

interface NetemFlags extends NetworkFlags {
  readonly correlation: string;
  readonly backend: (typeof networkBackends)[number];
}

interface DelayFlags extends NetemFlags {
  readonly latency?: Duration;
  readonly jitter: Duration;
}

interface LossFlags extends NetemFlags {
  readonly percent?: string;
}

export function registerNetworkCommands(program: Command, config: CliConfig, io: CliIo): void {
  addNetworkFlags(program.command("bandwidth"), config)
    .description(
      "Limit pods' outgoing bandwidth for a while (tc tbf in the pod's network namespace), then lift it",
    )
    .option("--rate <rate>", "the rate, as tc spells it: 1mbit, 500kbit, 125kbps (bytes/s) (required)")
    .option("--limit <bytes>", "bytes that may wait in the queue (tbf limit)", "20971520")
    .option("--buffer <bytes>", "the bucket's size in bytes (tbf burst)", "10000")
    .option("--peakrate <bit/s>", "the bucket's peak rate in bit/s (with --minburst)")
    .option("--minburst <bytes>", "the peak bucket's size in bytes (with --peakrate)")
    .action(async (pods: string[], flags: BandwidthFlags) => {
      if (flags.rate === undefined) throw usageError("--rate", "is required, e.g. --rate 1mbit");
      const network = checkParams(bandwidthParamsSchema, {
        device: flags.device,
        bandwidth: {
          rate: flags.rate,
          limit: integer(flags.limit, "--limit"),
          buffer: integer(flags.buffer, "--buffer"),
          ...(flags.peakrate === undefined ? {} : { peakrate: integer(flags.peakrate, "--peakrate") }),
          ...(flags.minburst === undefined ? {} : { minburst: integer(flags.minburst, "--minburst") }),
        },
      });
      if ((network.bandwidth.peakrate === undefined) !== (network.bandwidth.minburst === undefined))
        throw usageError("--peakrate", "goes with --minburst, and --minburst with --peakrate");
      await runNetworkVerb(config, io, "bandwidth", network, pods, flags);
    });
  addNetworkFlags(program.command("partition"), config)
    .description(
      "Cut pods off the network for a while (an nftables table in the pod's network namespace), then reconnect them",
    )
    .action(async (pods: string[], flags: NetworkFlags) => {
      const network = checkParams(partitionParamsSchema, {
        device: flags.device,
        partition: { direction: flags.direction ?? "both" },
      });
      await runNetworkVerb(config, io, "partition", network, pods, flags);
    });
  addNetemFlags(addNetworkFlags(program.command("delay"), config))
    .description(
      "Delay what pods send for a while (tc netem, or Broadside's proxy where the kernel has no netem), then lift it",
    )
    .option(
      "--latency <duration>",
      "the delay added, e.g. 200ms (required)",
      durationOption("--latency", { fields: "--latency", max: Duration.parse("1h", "--latency") }),
    )
    .option(
      "--jitter <duration>",
      "spread around the latency, e.g. 50ms",
      durationOption("--jitter", { fields: "--jitter", max: Duration.parse("1h", "--jitter") }),
      Duration.ofMilliseconds(0),
    )
    .action(async (pods: string[], flags: DelayFlags) => {
      if (flags.latency === undefined) throw usageError("--latency", "is required, e.g. --latency 200ms");
      if (flags.latency.milliseconds < 1) throw usageError("--latency", "must be at least 1ms");
      const network = checkParams(delayParamsSchema, {
        device: flags.device,
        delay: {
          latencyMs: flags.latency.milliseconds,
          jitterMs: flags.jitter.milliseconds,
          correlation: percent(flags.correlation, "--correlation"),
        },
        backend: flags.backend,
      });
      await runNetworkVerb(config, io, "delay", network, pods, flags);
    });
  addNetemFlags(addNetworkFlags(program.command("loss"), config))
    .description(
      "Lose a share of pods' traffic for a while (tc netem, or Broadside's proxy dropping connections), then lift it",
    )
    .option("--percent <percent>", "the share lost, 0 to 100, e.g. 25 (required)")
    .action(async (pods: string[], flags: LossFlags) => {
      if (flags.percent === undefined) throw usageError("--percent", "is required, e.g. --percent 25");
      const network = checkParams(lossParamsSchema, {
        device: flags.device,
        loss: {
          percent: percent(flags.percent, "--percent"),
          correlation: percent(flags.correlation, "--correlation"),
        },
        backend: flags.backend,
      });
      await runNetworkVerb(config, io, "loss", network, pods, flags);
    });
}

function addNetemFlags(command: Command): Command {
  return command
    .option("--correlation <percent>", "how much each draw leans on the one before, 0 to 100", "0")
    .option(
      "--backend <backend>",
      "kernel (tc netem), proxy (Broadside's TCP proxy in the pod's namespace), or auto: kernel where the node's kernel has netem",
      choiceOption("--backend", networkBackends),
      "auto",
    );
}

/** A percentage, 0 to 100, with at most 4 decimals. */
function percent(text: string, flag: string): number {
  if (!/^[0-9]{1,3}(\.[0-9]{1,4})?$/.test(text) || Number(text) > 100)
    throw usageError(flag, `must be a percentage from 0 to 100, got ${JSON.stringify(text)}`);
  return Number(text);
}

function addNetworkFlags(command: Command, config: CliConfig): Command {
  return addDurationFlag(addPodSelectionFlags(command), config)
    .option("--device <name>", "the pod's interface", "eth0")
    .option(
      "--direction <direction>",
      "with targets: to (what the pods send them), from (what they send the pods) or both; partition: the chains cut (default both; else to)",
    )
    .option("--target-namespace <names>", "the targets' namespace(s), comma-separated (default: the pods')")
    .option(
      "--target-selector <selector>",
      "the target pods' label selector: only traffic with them is faulted",
    )
    .option(
      "--target-mode <mode>",
      "how many target pods: all, one, fixed, fixed-percent, random-max-percent",
      "all",
    )
    .option("--target-value <n>", "the number or percentage of --target-mode")
    .option(
      "--external-target <addresses>",
      "IPv4 addresses or CIDRs, comma-separated: only traffic with them is faulted (direction to)",
    );
}

/** --duration, as every timed node fault verb takes it. */
export function addDurationFlag(command: Command, config: CliConfig): Command {
  return command.option(
    "--duration <duration>",
    `how long the fault holds (required; at most ${config.maxFaultDuration.toString()})`,
    durationOption("--duration", { fields: "--duration", max: Duration.ceiling }),
  );
}

/** Filtered rules from the flags (ADR 0041), or undefined for the whole pods' traffic. */
function filterFrom(
  kind: NetworkFaultKind,
  flags: NetworkFlags,
  scope: NamespaceScope,
): NetworkFilter | undefined {
  const direction = checkedDirection(kind, flags.direction);
  const targeted = flags.targetSelector !== undefined || flags.targetNamespace !== undefined;
  const external =
    flags.externalTarget === undefined ? [] : splitList(flags.externalTarget, "--external-target");
  refuseDirection(kind, direction, targeted, external.length > 0);
  if (!targeted && external.length === 0) return undefined;
  const target = targeted ? targetFrom(flags, scope) : undefined;
  return {
    ...(target === undefined ? {} : { target }),
    external: { values: external, field: "--external-target" },
    direction,
  };
}

/** As Chaos Mesh's webhook: from and both need target pods and take no external targets (partition aside). */
function refuseDirection(
  kind: NetworkFaultKind,
  direction: NetworkDirection,
  targeted: boolean,
  external: boolean,
): void {
  if (kind === "partition" || direction === "to") return;
  if (external)
    throw usageError("--external-target", "goes with --direction to only (as Chaos Mesh's externalTargets)");
  if (!targeted)
    throw usageError(
      "--direction",
      `${direction} needs target pods (--target-selector or --target-namespace)`,
    );
}

/** The target pods' choice: --target-namespace (default: the pods' scope), --target-selector, --target-mode. */
function targetFrom(flags: NetworkFlags, scope: NamespaceScope): PodChoice {
  const targetScope =
    flags.targetNamespace === undefined
      ? scope
      : splitList(flags.targetNamespace, "--target-namespace").map((name) =>
          namespaceName(name, "--target-namespace"),
        );
  return {
    scope: targetScope,
    selector: {
      ...(targetScope === "all" ? {} : { namespaces: targetScope }),
      ...(flags.targetSelector === undefined
        ? {}
        : { labelSelector: checkedLabelSelector(flags.targetSelector, "--target-selector") }),
    },
    mode: parseMode(flags.targetMode, flags.targetValue, { mode: "--target-mode", value: "--target-value" }),
  };
}

function checkedDirection(kind: NetworkFaultKind, text: string | undefined): NetworkDirection {
  const direction = text ?? (kind === "partition" ? "both" : "to");
  if (!(networkDirections as readonly string[]).includes(direction))
    throw usageError("--direction", `must be to, from or both, got ${JSON.stringify(direction)}`);
  return direction as NetworkDirection;
}

/** The parameters checked; a problem names the flag of the field (`bandwidth.rate` is --rate). */
function checkParams<Output>(schema: z.ZodType<Output>, input: unknown): Output {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path[issue.path.length - 1];
  const flagOf: Record<string, string> = { latencyMs: "latency", jitterMs: "jitter" };
  const flag = typeof field === "string" ? (flagOf[field] ?? field) : "device";
  throw usageError(`--${flag}`, issue?.message ?? "is not valid");
}

function integer(text: string, flag: string): number {
  if (!/^[0-9]{1,16}$/.test(text))
    throw usageError(flag, `must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

async function runNetworkVerb(
  config: CliConfig,
  io: CliIo,
  kind: NetworkFaultKind,
  network: NetworkWork,
  pods: readonly string[],
  flags: NetworkFlags,
): Promise<void> {
  // The filter's flags are checked before the cluster is reached; their namespaces default to the pods'.
  filterFrom(kind, flags, "all");
  await runTimedVerb(config, io, kind, pods, flags, (ctx, options) => {
    const filter = filterFrom(kind, flags, options.scope);
    return runNetworkChaos(ctx, { ...options, kind, network, ...(filter === undefined ? {} : { filter }) });
  });
}

/**
 * A timed node fault verb (the network verbs, stress): --duration checked, the cluster reached, the fault
 * run until reverted (Ctrl-C reverts at once), the result printed; exit 4 when a fault did not go as planned.
 */
export async function runTimedVerb(
  config: CliConfig,
  io: CliIo,
  kind: TimedNodeWorkKind,
  pods: readonly string[],
  flags: PodSelectionFlags & { readonly duration?: Duration },
  run: (ctx: EngineContext, options: TimedFaultOptions) => Promise<NetworkChaosResult>,
): Promise<void> {
  if (flags.duration === undefined) throw usageError("--duration", "is required, e.g. --duration 30s");
  if (flags.duration.milliseconds === 0) throw usageError("--duration", "must be longer than 0");
  if (flags.duration.milliseconds > config.maxFaultDuration.milliseconds)
    throw usageError(
      "--duration",
      `at most ${config.maxFaultDuration.toString()} (BROADSIDE_MAX_FAULT_DURATION), got ${flags.duration.toString()}`,
    );
  const { ctx, scope, selector, mode } = await connectForPods(config, io, flags, pods);
  const stop = new Promise<void>((resolve) =>
    process.once("SIGINT", () => {
      ctx.progress("interrupted: reverting now");
      resolve();
    }),
  );
  const result = await run(ctx, {
    scope,
    selector,
    mode,
    duration: flags.duration,
    dryRun: flags.dryRun,
    stop,
  });
  if (flags.output === "json")
    io.out(`${JSON.stringify(networkResultJson(kind, flags.dryRun, result), null, 2)}\n`);
  else printNetworkResult(io, kind, flags.dryRun, result, flags.explain);
  const failed = result.runs.filter((run) => run.problem !== undefined);
  if (failed.length > 0)
    throw new BroadsideError(
      "BRD_SHOT_REFUSED",
      `${failed.length} of ${result.runs.length} ${kind} fault(s) did not go as planned: ${[...new Set(failed.map((run) => run.problem))].join("; ")}`,
    );
}

function windowText(run: NetworkChaosResult["runs"][number]): string {
  const from = run.applied?.actedAt;
  const to = run.final?.revertedAt;
  return from !== undefined && to !== undefined ? `held ${((to - from) / 1000).toFixed(1)} s` : "not held";
}

export function networkResultJson(kind: TimedNodeWorkKind, dryRun: boolean, result: NetworkChaosResult) {
  return {
    kind,
    dryRun,
    targets: result.targets,
    peers: result.peers,
    excluded: result.plan.excluded.map((each) => ({
      pod: `${each.pod.namespace}/${each.pod.name}`,
      reason: each.reason,
    })),
    runs: result.runs.map((run) => ({
      ...run,
      window:
        run.applied?.actedAt === undefined
          ? null
          : { appliedAt: run.applied.actedAt, revertedAt: run.final?.revertedAt ?? null },
    })),
  };
}

function printNetworkResult(
  io: CliIo,
  kind: TimedNodeWorkKind,
  dryRun: boolean,
  result: NetworkChaosResult,
  explain: boolean,
): void {
  io.out(
    `${dryRun ? "Plan (dry run, nothing changed)" : "Plan"}: ${result.targets.length} pod(s) get ${kind}, ${result.plan.excluded.length} pod(s) left out\n`,
  );
  printSkipped(io, result.plan.excluded, explain);
  result.targets.forEach((target, at) => {
    const peers = result.peers[at] ?? [];
    const only = peers.length === 0 ? "" : `, only its traffic with ${peers.join(", ")}`;
    io.out(`  ${target.pod.namespace}/${target.pod.name} on node ${target.node}${only}\n`);
  });
  for (const run of result.runs) {
    const window = windowText(run);
    io.out(
      `${run.target.pod.namespace}/${run.target.pod.name}: ${window}; ${run.problem ?? run.final?.message ?? ""} [ledger ${run.ledgerId}]\n`,
    );
  }
}

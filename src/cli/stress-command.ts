import type { Command } from "commander";
import { usageError } from "../core/errors.js";
import type { StressWork } from "../core/node-work.js";
import { runStressChaos } from "../engine/stress-chaos.js";
import { parseMemorySize } from "../faults/stress.js";
import { addPodSelectionFlags, type PodSelectionFlags } from "./chaos-flags.js";
import type { CliConfig } from "./config.js";
import { addDurationFlag, runTimedVerb } from "./network-commands.js";
import type { Duration } from "../core/duration.js";
import type { CliIo } from "./options.js";

/*
 * `broadside stress` (issue 12, ADR 0040): Chaos Mesh's StressChaos memory and cpu stressors in chosen
 * pods' containers, run by the node daemon inside the container's cgroups, held for --duration, then
 * killed. Every flag is checked before the kubeconfig is read; a memory stress on a container without a
 * memory limit is refused before anything is written, unless --unsafe.
 */

interface StressFlags extends PodSelectionFlags {
  readonly duration?: Duration;
  readonly container?: string;
  readonly memory?: string;
  readonly memoryWorkers: string;
  readonly cpuWorkers?: string;
  readonly cpuLoad: string;
}

export function registerStressCommand(program: Command, config: CliConfig, io: CliIo): void {
  addDurationFlag(addPodSelectionFlags(program.command("stress")), config)
    .description(
      "Stress pods' memory and CPU for a while, inside the container's own cgroups (its limits apply), then stop",
    )
    .option("--container <name>", "the container stressed (default: each pod's first)")
    .option(
      "--memory <size>",
      "memory to take: 512MB (decimal), 256Mi (binary), or 50% of the container's limit",
    )
    .option("--memory-workers <n>", "workers sharing --memory", "1")
    .option("--cpu-workers <n>", "busy workers (each takes up to one core)")
    .option("--cpu-load <percent>", "how busy each CPU worker is, 0 to 100", "100")
    .action(async (pods: string[], flags: StressFlags) => {
      const stress = stressOf(flags);
      const { container, unsafe } = flags;
      await runTimedVerb(config, io, "stress", pods, flags, (ctx, options) =>
        runStressChaos(ctx, { ...options, stress, container, unsafe }),
      );
    });
}

function stressOf(flags: StressFlags): StressWork {
  if (flags.memory === undefined && flags.cpuWorkers === undefined)
    throw usageError("--memory", "or --cpu-workers is required, e.g. --memory 256Mi or --cpu-workers 1");
  if (flags.container !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(flags.container))
    throw usageError("--container", `is not a container name: ${JSON.stringify(flags.container)}`);
  const stress: { memory?: StressWork["memory"]; cpu?: StressWork["cpu"] } = {};
  if (flags.memory !== undefined) {
    const size = parseMemorySize(flags.memory);
    if (size === undefined)
      throw usageError(
        "--memory",
        `must be a size such as 512MB or 256Mi, or a percentage such as 50%, got ${JSON.stringify(flags.memory)}`,
      );
    stress.memory = { ...size, workers: count(flags.memoryWorkers, "--memory-workers") };
  }
  if (flags.cpuWorkers !== undefined) {
    const load = flags.cpuLoad;
    if (!/^[0-9]{1,3}$/.test(load) || Number(load) > 100)
      throw usageError("--cpu-load", `must be a percentage from 0 to 100, got ${JSON.stringify(load)}`);
    stress.cpu = { workers: count(flags.cpuWorkers, "--cpu-workers"), load: Number(load) };
  }
  return stress;
}

function count(text: string, flag: string): number {
  if (!/^[0-9]{1,2}$/.test(text) || Number(text) < 1 || Number(text) > 64)
    throw usageError(flag, `must be a whole number from 1 to 64, got ${JSON.stringify(text)}`);
  return Number(text);
}

import type { Command } from "commander";
import { systemClock } from "../core/clock.js";
import { BroadsideError } from "../core/errors.js";
import { optional } from "../core/objects.js";
import type { EngineContext } from "../engine/context.js";
import { runPodChaos, type PodChaosResult, type PodChoice } from "../engine/pod-chaos.js";
import { podFaults } from "../faults/pod-registry.js";
import type { PodFaultKind } from "../faults/types.js";
import {
  addPodTargetFlags,
  modeFrom,
  paceFrom,
  scopeFrom,
  selectorFrom,
  type PodSelectionFlags,
  type PodTargetFlags,
} from "./chaos-flags.js";
import { podResultJson, printPodResult } from "./chaos-output.js";
import type { CliConfig } from "./config.js";
import { connectPodVerbEngine } from "./pod-verb-engine.js";
import { recoverLeftovers } from "./engine-context.js";
import type { CliIo } from "./options.js";
import { progressLineFor } from "./progress-line.js";

/*
 * kill and evict: the verbs that start cold for one shot, so this module loads only what they use (no
 * zod: src/architecture.test.ts, ADR 0024). fail, drift, squeeze and scale live in
 * timed-chaos-commands.ts, which main.ts loads only for them.
 */

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
      // Loaded only for --container: the daemon's work object is checked with zod, which a cold kill
      // of pods does not load (ADR 0024).
      const { killContainers } = await import("./container-kill-command.js");
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

/**
 * The pod verbs' common start, once their own flags are checked: the mode and the pod names are checked
 * too before the kubeconfig is read (only the context's namespace waits for it; a stand-in lets the
 * names be checked already), then the engine connects and finishes expired reverts while the pods and
 * the kill switch are read (pod-verb-start.ts).
 */
export async function connectForPods(
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
  const started = ctx;
  if (flags.unsafe) ctx.progress("--unsafe: the blast-radius cap is lifted for this run");
  return { ctx: started, scope, selector, mode };
}

/** Printed first, then failed: a refused shot (blocked by a PDB) is the finding, and scripts see it. */
function refuseOnRefusedShots(result: PodChaosResult): void {
  const reasons = result.shots.flatMap((shot) => (shot.outcome.accepted ? [] : [shot.outcome.reason]));
  if (reasons.length === 0) return;
  const summary = `${reasons.length} of ${result.shots.length} shot(s) refused: ${[...new Set(reasons)].join("; ")}`;
  throw new BroadsideError("BRD_SHOT_REFUSED", summary);
}

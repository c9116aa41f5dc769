import { describeError } from "../core/errors.js";
import type { JournalEntry } from "./journal.js";
import type { ProcessTable } from "./proc.js";
import {
  memoryLimitFile,
  oomFile,
  parseMemoryLimit,
  parseOomKills,
  placementWrites,
  stressCgroupsOf,
  stressorConfig,
} from "./stress.js";
import type { StressHost } from "./stress.js";
import type { WorkerContext } from "./worker.js";

/*
 * The stress kind's steps inside the daemon's timed faults (ADR 0040): the container's cgroups found
 * from its process, the stressor started into them (journaled with its pid and start time before it is
 * told to go), and stopped with SIGKILL only while that pid has that start time.
 */

export interface StressContext extends WorkerContext {
  readonly stressors: StressHost;
  readonly procDir?: string;
}

type Step = { problem: string; refused?: boolean } | { entry: JournalEntry };

/** The container's cgroups, its memory limit checked, the OOM count noted: the entry to journal before the start. */
export async function locateStress(ctx: StressContext, entry: JournalEntry): Promise<Step> {
  const { spec } = entry;
  const found = await ctx.finder.find(spec).catch((error: unknown) => ({
    found: false as const,
    reason: `finding the container's process failed: ${describeError(error)}`,
  }));
  if (!found.found) return { problem: found.reason };
  const procCgroup = await ctx.stressors
    .read(`${ctx.procDir ?? "/proc"}/${found.pid}/cgroup`)
    .catch(() => undefined);
  if (procCgroup === undefined) return { problem: `the container's process ${found.pid} exited` };
  const cgroups = stressCgroupsOf(procCgroup);
  if ("problem" in cgroups) return { problem: cgroups.problem };
  const limit = await limitOf(ctx.stressors, memoryLimitFile(cgroups));
  if (spec.stress?.memory !== undefined) {
    const checked = stressorConfig(spec.stress, limit, 0);
    if ("refused" in checked)
      return {
        problem: `container ${spec.container} of pod ${spec.pod.namespace}/${spec.pod.name}: ${checked.refused}`,
        refused: true,
      };
  }
  const oomBaseline = parseOomKills(await ctx.stressors.read(oomFile(cgroups)).catch(() => ""));
  const how = `cgroup ${cgroups.memory}${cgroups.cpu === cgroups.memory ? "" : ` and ${cgroups.cpu}`}`;
  return { entry: { ...entry, stress: { cgroups, how, oomBaseline } } };
}

async function limitOf(host: StressHost, file: string): Promise<number | undefined> {
  return parseMemoryLimit(await host.read(file).catch(() => "max"));
}

/**
 * Starts the stressor (or keeps the journaled one while it runs): spawned waiting, put into the memory
 * and cpu cgroups, its pid and start time journaled, then told to go. A journaled stressor that is gone is
 * not started again (it may have been OOM-killed: a second would only be killed again).
 */
export async function startStressor(ctx: StressContext, entry: JournalEntry, endsAt: number): Promise<Step> {
  const { stress, spec } = entry;
  if (stress === undefined || spec.stress === undefined)
    return { problem: "the work has no cgroups or stressors" };
  if (stress.pid !== undefined) {
    if (await stressorAlive(ctx.processes, entry)) return { entry };
    return { problem: await stressorGoneReason(ctx, entry) };
  }
  const limit = await limitOf(ctx.stressors, memoryLimitFile(stress.cgroups));
  const config = stressorConfig(spec.stress, limit, endsAt);
  if ("refused" in config) return { problem: config.refused, refused: true };
  let journaled: JournalEntry = entry;
  try {
    await ctx.stressors.start(entry.work, config, async (pid) => {
      for (const write of placementWrites(stress.cgroups, pid))
        await ctx.stressors.write(write.path, write.value);
      const startTime = await ctx.processes.startTime(pid);
      if (startTime === undefined) throw new Error("the stressor exited before it was placed");
      journaled = { ...entry, stress: { ...stress, pid, startTime } };
      await ctx.journal.write(journaled);
    });
  } catch (error: unknown) {
    return { problem: `the stressor did not start: ${describeError(error)}` };
  }
  ctx.log("stressor started", { work: entry.work, pid: journaled.stress?.pid, cgroups: stress.how });
  return { entry: journaled };
}

/** Whether the journaled stressor still runs (its pid with its start time). */
export async function stressorAlive(processes: ProcessTable, entry: JournalEntry): Promise<boolean> {
  const { stress } = entry;
  if (stress?.pid === undefined) return false;
  return (await processes.startTime(stress.pid)) === stress.startTime;
}

/** SIGKILL to the journaled stressor, only while that pid still has that start time. */
export async function stopStressor(ctx: StressContext, entry: JournalEntry): Promise<void> {
  const { stress } = entry;
  if (stress?.pid === undefined || !(await stressorAlive(ctx.processes, entry))) return;
  ctx.processes.signal(stress.pid, "SIGKILL");
  ctx.log("stressor stopped", { work: entry.work, pid: stress.pid });
}

/** Why a journaled stressor is gone: its cgroup's OOM killer (the count rose), or it exited. */
export async function stressorGoneReason(ctx: StressContext, entry: JournalEntry): Promise<string> {
  const { stress } = entry;
  if (stress === undefined) return "the stressor is gone";
  const kills = parseOomKills(await ctx.stressors.read(oomFile(stress.cgroups)).catch(() => ""));
  return kills > stress.oomBaseline
    ? `the OOM killer of the container's memory cgroup ended the stressor (pid ${stress.pid ?? "?"}): the container's memory limit held`
    : `the stressor (pid ${stress.pid ?? "?"}) ended before its time`;
}

/**
 * Stressors running on the node that no held fault accounts for (its argv names this daemon's script and
 * a work name): SIGKILLed; a journaled one only while its pid has the journaled start time. What was killed.
 */
export async function removeStressLeftovers(
  ctx: StressContext,
  held: ReadonlySet<string>,
): Promise<string[]> {
  const removed: string[] = [];
  for (const stressor of await ctx.stressors.running().catch(() => [])) {
    if (held.has(stressor.work)) continue;
    const journaled = (await ctx.journal.read(stressor.work))?.stress;
    if (
      journaled?.pid === stressor.pid &&
      (await ctx.processes.startTime(stressor.pid)) !== journaled.startTime
    )
      continue;
    if (ctx.processes.signal(stressor.pid, "SIGKILL"))
      removed.push(`stressor pid ${stressor.pid} of ${stressor.work}`);
  }
  return removed;
}

import { setTimeout as sleep } from "node:timers/promises";
import type { SandboxName } from "../sandbox-name.js";
import { bodyCgroupTeardown, parseProcs } from "./cgroups.js";
import { errnoOf, saysGone } from "./host.js";
import type { Host } from "./host.js";
import { bodyNetworkTeardown, bridgeDownPlan } from "./network.js";
import type { Argv } from "./network.js";
import { bodyRecordProblem, networkRecordProblem } from "./records.js";
import type { BodyRecord, NetworkRecord, RecordStore } from "./records.js";

/*
 * Removing what the records name: planned as steps (pure, checked exactly in unit tests), then carried
 * out through the Host seam. Every step counts an object that is already gone as removed, so a cleanup
 * interrupted half way can simply run again.
 */

export type CleanupStep =
  /** SIGKILL every process in the cgroup, and wait for it to empty. */
  | { readonly kind: "kill"; readonly cgroup: string }
  | { readonly kind: "run"; readonly argv: Argv }
  | { readonly kind: "rmdir"; readonly dir: string };

export function bodyCleanupPlan(record: BodyRecord): CleanupStep[] {
  return [
    ...record.cgroups.leaves.map((cgroup): CleanupStep => ({ kind: "kill", cgroup })),
    ...bodyNetworkTeardown(record).map((argv): CleanupStep => ({ kind: "run", argv })),
    ...bodyCgroupTeardown(record.cgroups).map((dir): CleanupStep => ({ kind: "rmdir", dir })),
  ];
}

export function networkCleanupPlan(record: NetworkRecord): CleanupStep[] {
  return [
    ...bridgeDownPlan(record.bridge).map((argv): CleanupStep => ({ kind: "run", argv })),
    ...record.cgroups.map((dir): CleanupStep => ({ kind: "rmdir", dir })),
  ];
}

/** What a cleanup removed and what it could not, one line each. */
export interface CleanupReport {
  readonly removed: string[];
  readonly problems: string[];
}

/** Carries out the steps; returns the problems (an empty list: everything named is gone). */
export async function runCleanup(host: Host, steps: readonly CleanupStep[]): Promise<string[]> {
  const problems: string[] = [];
  for (const step of steps) {
    const problem = await runStep(host, step);
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}

async function runStep(host: Host, step: CleanupStep): Promise<string | undefined> {
  if (step.kind === "run") {
    const outcome = await host.run(step.argv);
    if (outcome.exitCode === 0 || saysGone(outcome.stderr)) return undefined;
    return `${step.argv.join(" ")}: ${outcome.stderr.trim() || `exit ${outcome.exitCode}`}`;
  }
  if (step.kind === "kill") return killCgroup(host, step.cgroup);
  try {
    await host.rmdir(step.dir);
    return undefined;
  } catch (error: unknown) {
    return errnoOf(error) === "ENOENT" ? undefined : `rmdir ${step.dir}: ${errnoOf(error) ?? String(error)}`;
  }
}

/** Kills what runs in a cgroup until it is empty (a process may fork while it is being killed); 5 s at most. */
export async function killCgroup(host: Host, cgroup: string): Promise<string | undefined> {
  for (let round = 0; round < 50; round += 1) {
    let pids: number[];
    try {
      pids = parseProcs(await host.read(`${cgroup}/cgroup.procs`));
    } catch (error: unknown) {
      return errnoOf(error) === "ENOENT" ? undefined : `reading ${cgroup}/cgroup.procs: ${String(error)}`;
    }
    if (pids.length === 0) return undefined;
    for (const pid of pids) host.kill(pid, "SIGKILL");
    await sleep(100);
  }
  return `processes in ${cgroup} did not exit after SIGKILL`;
}

/**
 * Removes every body the records name (and, with `network`, the bridge and the sandbox's cgroups),
 * forgetting each record once all it names is gone. A record whose names are not this sandbox's is
 * reported and left alone.
 */
export async function cleanUpRecords(
  host: Host,
  records: RecordStore,
  sandbox: SandboxName,
  options: { readonly network: boolean },
): Promise<CleanupReport> {
  const removed: string[] = [];
  const problems: string[] = [];
  for (const body of await records.bodies()) {
    const refused = bodyRecordProblem(body, sandbox);
    if (refused !== undefined) {
      problems.push(`body record of ${body.uid} left alone: ${refused}`);
      continue;
    }
    const failed = await runCleanup(host, bodyCleanupPlan(body));
    problems.push(...failed);
    if (failed.length === 0) {
      await records.forgetBody(body.uid);
      removed.push(`netns ${body.netns}, link ${body.hostVeth}, cgroups ${body.cgroups.leaves.join(" ")}`);
    }
  }
  const network = options.network ? await records.readNetwork() : undefined;
  if (network === undefined || problems.length > 0) return { removed, problems };
  const refused = networkRecordProblem(network, sandbox);
  if (refused !== undefined)
    return { removed, problems: [...problems, `network record left alone: ${refused}`] };
  const failed = await runCleanup(host, networkCleanupPlan(network));
  if (failed.length === 0) {
    await records.forgetNetwork();
    removed.push(`bridge ${network.bridge}, cgroups ${network.cgroups.join(" ")}`);
  }
  return { removed, problems: [...problems, ...failed] };
}

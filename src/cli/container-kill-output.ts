import type { ContainerKill, ContainerKillResult } from "../engine/container-kill.js";
import { exclusionLines } from "./chaos-output.js";
import type { CliIo } from "./options.js";
import { formatTable } from "./table.js";

/*
 * What `broadside kill --container` prints: the plan (every pod and container, the pods left out), then
 * per kill the daemon's answer and, in ms from the kill (the daemon's stamp of the signal), the watch
 * events that showed the container running again and the pod Ready again.
 */

export function printContainerKillResult(
  io: CliIo,
  dryRun: boolean,
  result: ContainerKillResult,
  explain = false,
): void {
  const { plan, targets } = result;
  io.out(
    `${dryRun ? "Plan (dry run, nothing changed)" : "Plan"}: ${targets.length} container(s) in ${plan.selected.length} pod(s), ${plan.excluded.length} pod(s) left out\n`,
  );
  for (const target of targets)
    io.out(
      `  hit   ${target.pod.namespace}/${target.pod.name} container ${target.container} on ${target.node}\n`,
    );
  const skipped = exclusionLines(plan.excluded, explain);
  for (const line of skipped) io.out(`  skip  ${line}\n`);
  if (skipped.length < plan.excluded.length) io.out("  (--explain lists every pod left out and why)\n");
  for (const warning of plan.warnings) io.out(`warning: ${warning}\n`);
  if (result.kills.length === 0) return;
  io.out("\nKills, in ms from each kill (from watch events):\n");
  io.out(
    formatTable(
      ["POD", "CONTAINER", "KILL", "RESTARTS", "LAST STATE", "RUNNING", "READY"],
      result.kills.map(killRow),
    ),
  );
}

function killRow(kill: ContainerKill): string[] {
  const pod = `${kill.target.pod.namespace}/${kill.target.pod.name}`;
  const answer = kill.outcome.accepted ? `killed pid ${kill.status?.pid ?? "?"}` : kill.outcome.reason;
  const m = kill.milestones;
  return [
    pod,
    kill.target.container,
    answer,
    m?.restartCount === undefined ? "-" : `${kill.target.restartCount} -> ${m.restartCount}`,
    lastStateOf(m?.lastTerminated),
    since(kill, m?.runningAgainAt),
    readyColumn(kill),
  ];
}

/** One event showing both (no readiness delay) is said so, not counted as two milestones. */
function readyColumn(kill: ContainerKill): string {
  const m = kill.milestones;
  const same = m?.readyAgainAt !== undefined && m.readyAgainVersion === m.runningAgainVersion;
  return `${since(kill, m?.readyAgainAt)}${same ? " (same event)" : ""}`;
}

function lastStateOf(last: { readonly exitCode?: number; readonly reason?: string } | undefined): string {
  return last === undefined ? "-" : `${last.reason ?? "?"} (exit ${last.exitCode ?? "?"})`;
}

function since(kill: ContainerKill, at: number | undefined): string {
  return at === undefined || !kill.outcome.accepted ? "-" : String(at - kill.outcome.at);
}

/** The result as JSON: every kill with its answer and milestones, and the ms figures worked out. */
export function containerKillResultJson(dryRun: boolean, result: ContainerKillResult, explain: boolean) {
  return {
    kind: "container-kill",
    dryRun,
    targets: result.targets,
    excluded: explain ? result.plan.excluded : result.plan.excluded.length,
    warnings: result.plan.warnings,
    kills: result.kills.map((kill) => ({
      ...kill,
      ms: kill.outcome.accepted
        ? {
            runningAgain: msSince(kill, kill.milestones?.runningAgainAt),
            readyAgain: msSince(kill, kill.milestones?.readyAgainAt),
          }
        : undefined,
    })),
  };
}

function msSince(kill: ContainerKill, at: number | undefined): number | null {
  return at === undefined ? null : at - kill.outcome.at;
}

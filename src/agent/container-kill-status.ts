import { optional } from "../core/objects.js";
import type { ContainerKill, ContainerKillResult } from "../engine/container-kill.js";
import { maxStatusTargets, type ConditionChange, type StatusTarget } from "./status.js";

/*
 * What a container-kill PodChaos's status says (issue 15): the conditions of its one run and one target
 * per (pod, container) killed, with the restart as the pod's status reported it and its milestones in ms
 * from the daemon's stamp of the signal, as `kill --container` prints them.
 */

export function containerKillConditions(result: ContainerKillResult): ConditionChange[] {
  const accepted = result.kills.filter((kill) => kill.outcome.accepted);
  return [
    injectedCondition(result, accepted.length),
    recoveredCondition(accepted),
    { type: "Failed", status: "False", reason: "Ran", message: "" },
  ];
}

function injectedCondition(result: ContainerKillResult, accepted: number): ConditionChange {
  if (accepted > 0) {
    const message = `${String(accepted)} of ${String(result.kills.length)} container kills answered Done by the node daemons`;
    return { type: "Injected", status: "True", reason: "Killed", message };
  }
  if (result.kills.length === 0)
    return { type: "Injected", status: "False", reason: "NoTarget", message: "no container was killed" };
  const reasons = [...new Set(result.kills.map(refusalOf))].slice(0, 3);
  return { type: "Injected", status: "False", reason: "Refused", message: reasons.join("; ") };
}

function recoveredCondition(accepted: readonly ContainerKill[]): ConditionChange {
  if (accepted.length === 0)
    return { type: "Recovered", status: "False", reason: "NothingToRecover", message: "" };
  const late = accepted.filter((kill) => kill.milestones?.readyAgainAt === undefined);
  if (late.length === 0) {
    const message = "every killed container ran again and its pod was Ready again";
    return { type: "Recovered", status: "True", reason: "Recovered", message };
  }
  const named = late.slice(0, 3).map((kill) => `${kill.target.pod.name}/${kill.target.container}`);
  const message = `not seen running and Ready again in time: ${named.join(", ")}`;
  return { type: "Recovered", status: "False", reason: "NotRecovered", message };
}

function refusalOf(kill: ContainerKill): string {
  return kill.outcome.accepted ? "" : kill.outcome.reason;
}

/** One target per container killed (the first `maxStatusTargets`), with its ledger record and restart. */
export function containerTargets(result: ContainerKillResult): StatusTarget[] {
  return result.kills.slice(0, maxStatusTargets).map(targetOf);
}

function targetOf(kill: ContainerKill): StatusTarget {
  const { outcome, milestones, target } = kill;
  const readyAgainAt = outcome.accepted ? milestones?.readyAgainAt : undefined;
  return {
    kind: "Pod",
    namespace: target.pod.namespace,
    name: target.pod.name,
    uid: target.pod.uid,
    container: target.container,
    outcome: !outcome.accepted ? "refused" : readyAgainAt === undefined ? "injected" : "recovered",
    ledgerRecord: kill.ledgerId,
    injectedAt: new Date(outcome.at).toISOString(),
    ...optional("recoveredAt", readyAgainAt, (at) => new Date(at).toISOString()),
    ...optional("restartCount", milestones?.restartCount),
    ...optional("message", messageOf(kill)),
    ...optional("milestones", milestones, (seen) => ({
      ...optional("runningAgainMs", sinceKill(kill, seen.runningAgainAt)),
      ...optional("readyMs", sinceKill(kill, seen.readyAgainAt)),
    })),
  };
}

/** A refusal's reason; for a kill, how the container last ended as the pod's status reported it. */
function messageOf(kill: ContainerKill): string | undefined {
  if (!kill.outcome.accepted) return kill.outcome.reason;
  const ended = kill.milestones?.lastTerminated;
  if (ended === undefined) return undefined;
  return `last terminated: exit code ${String(ended.exitCode ?? "unknown")} (${ended.reason ?? "no reason"})`;
}

/** Whole ms from the daemon's stamp of the signal. */
function sinceKill(kill: ContainerKill, at: number | undefined): number | undefined {
  return at === undefined ? undefined : Math.max(0, Math.round(at - kill.outcome.at));
}

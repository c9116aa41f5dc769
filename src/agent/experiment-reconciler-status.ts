import { BroadsideError, describeError } from "../core/errors.js";
import { optional } from "../core/objects.js";
import { describeOutcome, type CheckResult } from "../experiments/report/checks.js";
import type { FaultReport } from "../experiments/report/fault-outcome.js";
import type { RunReport } from "../experiments/report/run-report.js";
import type { RunPlan } from "../experiments/run/plan.js";
import type { ExperimentStatus } from "./crds/status.js";
import { reasonOf, type ConditionChange, type StatusTarget } from "./status.js";

/**
 * What an Experiment's status says of its run (ADR 0017), from the run's report: the verdict, the
 * conditions, one record per probe with its checks before, during and after the method, and one record per
 * target the method hit. Pure: the reconciler writes it.
 */

/** Why the agent stopped a run before its end. */
export interface StopCause {
  /** A CamelCase word: Deleted, Superseded, Paused, Halted, AgentStopped. */
  readonly reason: string;
  readonly message: string;
  /** The object is gone: nothing to write the status to. */
  readonly gone?: boolean;
  /** Stopped by the pause annotation or the kill switch: Paused=True. */
  readonly paused?: boolean;
}

/** How a run ended, for the status and for an Event. */
export interface RunOutcome {
  readonly changes: readonly ConditionChange[];
  readonly fields: Pick<ExperimentStatus, "verdict" | "probes" | "targets">;
  readonly event: { readonly type: "Normal" | "Warning"; readonly reason: string; readonly message: string };
}

/** A condition's message, and an Event's, stay readable: a long list of reasons is cut. */
const maxMessage = 4000;

/** The claim: the run is going, nothing is known yet. */
export function claimConditions(plan: RunPlan): ConditionChange[] {
  const steps = `${String(plan.method.length)} step(s)`;
  return [
    {
      type: "Injected",
      status: "Unknown",
      reason: "Running",
      message: `the experiment is running (${steps})`,
    },
    { type: "Selected", status: "Unknown", reason: "Running", message: "" },
    { type: "Recovered", status: "Unknown", reason: "Running", message: "" },
    { type: "Paused", status: "False", reason: "Running", message: "" },
    { type: "Failed", status: "False", reason: "Running", message: "" },
  ];
}

/** A claim found unfinished after a crash or a change of leader: aborted, never run again. */
export function interruptedConditions(message: string): ConditionChange[] {
  return [
    {
      type: "Injected",
      status: "False",
      reason: "Interrupted",
      message: "not run again: one run per generation",
    },
    { type: "Selected", status: "Unknown", reason: "Interrupted", message: "" },
    { type: "Recovered", status: "Unknown", reason: "Interrupted", message: "" },
    { type: "Failed", status: "True", reason: "Interrupted", message },
  ];
}

/** The run's report as the status tells it. */
export function completedStatus(ran: RunReport, cause: StopCause | undefined): RunOutcome {
  // Stopped by the agent yet ended on its own meanwhile: still aborted, not judged.
  const report: RunReport =
    cause !== undefined && ran.verdict.result !== "aborted"
      ? { ...ran, verdict: { result: "aborted", reason: cause.message } }
      : ran;
  const hit = report.faults.reduce((sum, fault) => sum + fault.targets.length, 0);
  const { verdict } = report;
  const failed = failedCondition(report, cause);
  const changes: ConditionChange[] = [
    selectedCondition(report, hit),
    injectedCondition(report, hit),
    recoveredCondition(report.faults, hit),
    failed,
    ...(cause?.paused === true ? [pausedCondition(cause)] : []),
  ];
  const event =
    verdict.result === "passed"
      ? {
          type: "Normal" as const,
          reason: "Passed",
          message: "the steady state held before, during and after",
        }
      : { type: "Warning" as const, reason: failed.reason, message: failed.message };
  return {
    changes,
    fields: { verdict: verdict.result, probes: probeResults(report), targets: targetsOf(report.faults) },
    event,
  };
}

/** The runner threw (a step refused outright): aborted, with the error's code as the reason. */
export function runErrorStatus(error: unknown): RunOutcome {
  const reason = error instanceof BroadsideError ? reasonOf(error.code) : "Error";
  const message = cut(describeError(error));
  return {
    changes: [
      { type: "Injected", status: "False", reason, message },
      { type: "Recovered", status: "Unknown", reason, message: "" },
      { type: "Failed", status: "True", reason, message },
    ],
    fields: { verdict: "aborted" },
    event: { type: "Warning", reason, message },
  };
}

function failedCondition(report: RunReport, cause: StopCause | undefined): ConditionChange {
  const { verdict } = report;
  if (verdict.result === "passed")
    return { type: "Failed", status: "False", reason: "Passed", message: "the hypothesis held" };
  if (verdict.result === "failed") {
    const message = cut(`the hypothesis did not hold: ${verdict.reasons.join("; ")}`);
    return { type: "Failed", status: "True", reason: "HypothesisFailed", message };
  }
  return {
    type: "Failed",
    status: "True",
    reason: cause?.reason ?? "Aborted",
    message: cut(`aborted: ${verdict.reason}`),
  };
}

function pausedCondition(cause: StopCause): ConditionChange {
  return { type: "Paused", status: "True", reason: cause.reason, message: cause.message };
}

function selectedCondition(report: RunReport, hit: number): ConditionChange {
  if (hit > 0)
    return { type: "Selected", status: "True", reason: "Selected", message: `${String(hit)} target(s) hit` };
  if (report.faults.length === 0 && report.verdict.result === "aborted")
    return {
      type: "Selected",
      status: "False",
      reason: "NotRun",
      message: "the method did not reach a fault",
    };
  return { type: "Selected", status: "False", reason: "NoTarget", message: "no fault hit a target" };
}

function injectedCondition(report: RunReport, hit: number): ConditionChange {
  if (hit > 0) {
    const message = `${String(report.faults.length)} fault(s) injected on ${String(hit)} target(s)`;
    return { type: "Injected", status: "True", reason: "Injected", message };
  }
  const why = report.verdict.result === "aborted" ? report.verdict.reason : "no fault hit a target";
  return { type: "Injected", status: "False", reason: "NothingInjected", message: cut(why) };
}

function recoveredCondition(faults: readonly FaultReport[], hit: number): ConditionChange {
  if (hit === 0) return { type: "Recovered", status: "False", reason: "NothingToRecover", message: "" };
  const problems = faults.flatMap((fault) => fault.problems);
  if (faults.every((fault) => fault.recovered))
    return { type: "Recovered", status: "True", reason: "Recovered", message: "every target came back" };
  const message = cut(problems.join("; ") || "not every target came back");
  return { type: "Recovered", status: "False", reason: "NotRecovered", message };
}

const phaseOfScope = { baseline: "before", chaos: "during", recovery: "after", overall: "overall" } as const;

/** Each probe: its samples over the whole run, and its checks as the report judged them. */
export function probeResults(report: RunReport): NonNullable<ExperimentStatus["probes"]> {
  return report.probes.map((probe) => {
    const figures = report.overall.probes.find((candidate) => candidate.probe === probe.name);
    const checks = report.checks.filter(
      (check): check is CheckResult & { subject: { type: "probe" } } =>
        check.subject.type === "probe" && check.subject.probe === probe.name,
    );
    return {
      name: probe.name,
      sent: figures?.sent ?? 0,
      failed: figures?.failures ?? 0,
      checks: checks.map((check) => ({
        name: check.name,
        phase: phaseOfScope[check.subject.scope],
        passed: check.passed,
        observed: describeOutcome(check),
      })),
    };
  });
}

/** One record per pod shot and per object changed, as the other kinds keep them. */
export function targetsOf(faults: readonly FaultReport[]): StatusTarget[] {
  return faults.flatMap((fault) => (fault.type === "pod" ? podTargets(fault) : objectTargets(fault)));
}

function podTargets(fault: Extract<FaultReport, { type: "pod" }>): StatusTarget[] {
  return [...victimTargets(fault), ...(fault.containers ?? []).map(containerTarget)];
}

/** A container-kill's pod: recovered once it was seen Ready again after its container ran again. */
function containerTarget(
  killed: NonNullable<Extract<FaultReport, { type: "pod" }>["containers"]>[number],
): StatusTarget {
  const refused = !killed.shot.accepted;
  return {
    kind: "Pod",
    namespace: killed.pod.namespace,
    name: killed.pod.name,
    uid: killed.pod.uid,
    outcome: refused ? "refused" : killed.readyAgainMs === undefined ? "injected" : "recovered",
    ledgerRecord: killed.ledgerId,
    injectedAt: iso(killed.shot.at),
    ...optional("message", killed.shot.accepted ? undefined : killed.shot.reason),
  };
}

function victimTargets(fault: Extract<FaultReport, { type: "pod" }>): StatusTarget[] {
  return fault.victims.map((victim) => {
    const replacement = victim.replacement;
    const recovered = replacement.expected && replacement.readyMs !== undefined;
    const refused = victim.shot?.accepted === false;
    return {
      kind: "Pod",
      namespace: victim.pod.namespace,
      name: victim.pod.name,
      uid: victim.pod.uid,
      outcome: refused ? "refused" : recovered ? "recovered" : "injected",
      ...optional("injectedAt", victim.requestedAt === undefined ? undefined : iso(victim.requestedAt)),
      ...optional("message", victim.shot?.accepted === false ? victim.shot.reason : undefined),
      milestones: milestonesOf(victim),
    };
  });
}

type Victim = Extract<FaultReport, { type: "pod" }>["victims"][number];

function milestonesOf(victim: Victim): StatusTarget["milestones"] {
  const replacement = victim.replacement.expected ? victim.replacement : undefined;
  return {
    ...optional("acceptedMs", whole(victim.acceptedMs)),
    ...optional("goneMs", whole(victim.goneMs)),
    ...optional("replacementCreatedMs", whole(replacement?.createdMs)),
    ...optional("scheduledMs", whole(replacement?.scheduledMs)),
    ...optional("readyMs", whole(replacement?.readyMs)),
  };
}

const objectOutcomes = {
  reverted: "reverted",
  "healed-externally": "healed",
  "target-gone": "gone",
  "never-applied": "refused",
  failed: "refused",
  "closed-elsewhere": "reverted",
  "left-open": "injected",
} as const satisfies Record<string, StatusTarget["outcome"]>;

function objectTargets(fault: Extract<FaultReport, { type: "object" }>): StatusTarget[] {
  return fault.changes.map((change) => ({
    kind: change.target.kind,
    namespace: change.target.namespace,
    name: change.target.name,
    uid: change.target.uid,
    outcome: objectOutcomes[change.result],
    ledgerRecord: change.ledgerId,
    injectedAt: iso(change.injectedAt),
    ...optional("recoveredAt", change.result === "left-open" ? undefined : iso(change.resolvedAt)),
    ...optional("message", change.detail),
  }));
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function whole(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.max(0, Math.round(ms));
}

function cut(text: string): string {
  return text.length <= maxMessage ? text : `${text.slice(0, maxMessage - 1)}…`;
}

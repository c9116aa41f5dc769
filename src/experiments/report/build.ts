import { BroadsideError } from "../../core/errors.js";
import { formatPath } from "../../core/field-path.js";
import { isRecord, optional } from "../../core/objects.js";
import { evaluate, verdictOf } from "./checks.js";
import { describeProblems, documentRoot, factProblems, type Path } from "./consistency.js";
import { faultFacts, replacementsSeen } from "./fault-facts.js";
import { factsOfFault, withOutcome, type FaultReport } from "./fault-outcome.js";
import { faultStart, trafficOf } from "./traffic.js";
import { restartObservations, restartReport } from "./restarts.js";
import {
  reportApiVersion,
  reportKind,
  reportSchemaVersion,
  type RunFacts,
  type RunInput,
  type RunReport,
} from "./run-report.js";
import { bySentAt, phasesOf, windowFigures, type Sample } from "./samples.js";

/**
 * Builds the RunReport from a run's evidence, and builds it again from a report's own evidence
 * (`recompute`), so that every figure, check result and the verdict can be checked against what the
 * report keeps.
 */

/** Builds the report from a run's evidence. Throws BRD_INTERNAL if the evidence contradicts itself. */
export function buildRunReport(input: RunInput): RunReport {
  return derive({ ...input, faults: input.faults.map(faultFacts) });
}

/** Derives every figure, check result and the verdict of `report` again from its evidence. */
export function recompute(report: RunReport): RunReport {
  return derive(factsOf(report));
}

/**
 * Paths of the figures in `report` that its evidence does not give (a hand-edited file, or a bug);
 * empty when every figure matches. `broadside report` can refuse, or warn, on a non-empty answer.
 */
export function figureMismatches(report: RunReport): string[] {
  return differences(report, recompute(report), []);
}

/** The evidence a report keeps, in the shapes `derive` starts from. */
export function factsOf(report: RunReport): RunFacts {
  const verdict = report.verdict;
  return {
    title: report.title,
    startedAt: report.startedAt,
    endedAt: report.endedAt,
    probes: report.probes,
    chaosWindows: report.chaosWindows,
    samples: report.samples,
    faults: report.faults.map(factsOfFault),
    ...optional("restarts", report.restarts, restartObservations),
    checks: report.checks.map(({ name, subject, tolerance }) => ({ name, subject, tolerance })),
    ...optional("aborted", verdict.result === "aborted" ? verdict.reason : undefined),
  };
}

function derive(facts: RunFacts): RunReport {
  const problems = factProblems(facts);
  if (problems.length > 0) {
    throw new BroadsideError(
      "BRD_INTERNAL",
      `the run's evidence contradicts itself: ${describeProblems(problems)}`,
    );
  }
  const samples = bySentAt(facts.samples);
  const names = facts.probes.map((probe) => probe.name);
  const windows = phasesOf(facts.startedAt, facts.endedAt, facts.chaosWindows);
  const phases = {
    baseline: windowFigures(names, samples, windows.baseline),
    chaos: windowFigures(names, samples, windows.chaos),
    recovery: windowFigures(names, samples, windows.recovery),
  };
  const overall = windowFigures(names, samples, { start: facts.startedAt, end: facts.endedAt });
  const faults = withTraffic(facts, names, samples);
  const restarts = facts.restarts === undefined ? undefined : restartReport(facts.restarts);
  const checks = facts.checks.map((spec) => evaluate(spec, { phases, overall, faults }));
  return {
    apiVersion: reportApiVersion,
    kind: reportKind,
    schemaVersion: reportSchemaVersion,
    title: facts.title,
    startedAt: facts.startedAt,
    endedAt: facts.endedAt,
    probes: facts.probes,
    chaosWindows: facts.chaosWindows,
    phases,
    overall,
    faults,
    replacements: replacementsSeen(facts.faults),
    ...optional("restarts", restarts),
    checks,
    verdict: verdictOf(facts.aborted, checks, faults, restarts),
    samples,
  };
}

/**
 * Each fault's outcome; a pod-failure's (a fault with paused pods) and a container-kill's (one with killed
 * containers) with what users felt through each probe, from its start until the next fault starts or the
 * run ends.
 */
function withTraffic(facts: RunFacts, probes: readonly string[], samples: readonly Sample[]): FaultReport[] {
  const starts = facts.faults.map(faultStart);
  return facts.faults.map((fault, index) => {
    const reported = withOutcome(fault);
    const start = starts[index];
    const felt = fault.type === "object" ? fault.pods !== undefined : fault.containers !== undefined;
    if (!felt || start === undefined) return reported;
    const later = starts.filter((at): at is number => at !== undefined && at > start);
    const until = later.length === 0 ? facts.endedAt : Math.min(...later);
    return { ...reported, traffic: trafficOf(probes, samples, start, until) };
  });
}

function differences(stored: unknown, fresh: unknown, path: Path): string[] {
  if (Object.is(stored, fresh)) return [];
  if (Array.isArray(stored) && Array.isArray(fresh)) {
    const left: readonly unknown[] = stored;
    const right: readonly unknown[] = fresh;
    if (left.length !== right.length) return [formatPath(path, documentRoot)];
    return left.flatMap((item, index) => differences(item, right[index], [...path, index]));
  }
  if (isRecord(stored) && isRecord(fresh)) {
    const keys = [...new Set([...Object.keys(stored), ...Object.keys(fresh)])];
    return keys.flatMap((key) => differences(stored[key], fresh[key], [...path, key]));
  }
  return [formatPath(path, documentRoot)];
}

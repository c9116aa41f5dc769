import { formatPath } from "../../core/field-path.js";
import type { ProbeSpec, RunFacts } from "./run-report.js";

/**
 * The consistency of a run's evidence: probes declared once, chaos windows sorted and inside the run,
 * samples and checks naming declared probes and existing faults. The builder refuses evidence that
 * contradicts itself (a bug), and the reader refuses such a file (json.ts); each problem names its path.
 */

export type Path = readonly (string | number)[];

export interface Problem {
  readonly path: Path;
  readonly message: string;
}

/** What a path names when it is empty: the report as a whole. */
export const documentRoot = "(the document)";

export function describeProblems(problems: readonly Problem[]): string {
  const shown = problems
    .slice(0, 3)
    .map((problem) => `${formatPath(problem.path, documentRoot)}: ${problem.message}`);
  const more = problems.length > shown.length ? ` (and ${problems.length - shown.length} more)` : "";
  return `${shown.join("; ")}${more}`;
}

export function factProblems(facts: RunFacts): Problem[] {
  const endProblem: Problem[] =
    facts.endedAt < facts.startedAt ? [{ path: ["endedAt"], message: "is before startedAt" }] : [];
  return [
    ...endProblem,
    ...probeProblems(facts.probes),
    ...windowProblems(facts),
    ...sampleProblems(facts),
    ...checkProblems(facts),
  ];
}

function probeProblems(probes: readonly ProbeSpec[]): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  probes.forEach((probe, index) => {
    if (seen.has(probe.name))
      problems.push({ path: ["probes", index, "name"], message: "is declared twice" });
    seen.add(probe.name);
  });
  return problems;
}

/** Phases are derived from the windows' order, so windows must be sorted, disjoint and inside the run. */
function windowProblems(facts: RunFacts): Problem[] {
  const problems: Problem[] = [];
  let previousEnd = facts.startedAt;
  facts.chaosWindows.forEach((window, index) => {
    const path = ["chaosWindows", index];
    if (window.end < window.start) problems.push({ path, message: "ends before it starts" });
    else if (window.start < facts.startedAt || window.end > facts.endedAt) {
      problems.push({ path, message: "is not inside [startedAt, endedAt]" });
    } else if (window.start < previousEnd) {
      problems.push({ path, message: "overlaps or precedes the window before it" });
    }
    previousEnd = Math.max(previousEnd, window.end);
  });
  return problems;
}

function sampleProblems(facts: RunFacts): Problem[] {
  const declared = new Set(facts.probes.map((probe) => probe.name));
  const problems: Problem[] = [];
  facts.samples.forEach((sample, index) => {
    if (!declared.has(sample.probe)) {
      problems.push({
        path: ["samples", index, "probe"],
        message: `names undeclared probe "${sample.probe}"`,
      });
    }
  });
  return problems;
}

function checkProblems(facts: RunFacts): Problem[] {
  const declared = new Set(facts.probes.map((probe) => probe.name));
  const problems: Problem[] = [];
  facts.checks.forEach((check, index) => {
    const subject = check.subject;
    if (subject.type === "probe" && !declared.has(subject.probe)) {
      problems.push({
        path: ["checks", index, "subject", "probe"],
        message: `names undeclared probe "${subject.probe}"`,
      });
    }
    if (subject.type === "fault-recovery" && subject.fault >= facts.faults.length) {
      problems.push({
        path: ["checks", index, "subject", "fault"],
        message: `there is no fault ${subject.fault}`,
      });
    }
  });
  return problems;
}

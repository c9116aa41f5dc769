import { describeOutcome, describeSubject, type CheckResult } from "./checks.js";
import {
  changeLine,
  feltLines,
  faultHeadline,
  isolationSummary,
  replacementLine,
  restartLine,
  victimLine,
  workloadLine,
} from "./describe.js";
import type { FaultReport } from "./fault-outcome.js";
import { escapeXml, formatInstant } from "./format.js";
import type { RunReport } from "./run-report.js";
import { renderTerminal } from "./terminal.js";

/**
 * The report as JUnit XML, the format CI systems (GitHub Actions reporters, GitLab, Jenkins) understand:
 * one testsuite per experiment, one testcase per hypothesis check, per fault recovery and for isolation.
 * A failed check or an unrecovered fault is a <failure> with a message; an aborted run adds an <error>
 * testcase and skips the hypothesis checks, whose figures then cover only part of the experiment. The
 * terminal summary goes into <system-out>, so the CI log shows the whole report next to the results.
 */

interface Case {
  readonly classname: string;
  readonly name: string;
  readonly ms: number;
  readonly outcome?: {
    readonly element: "failure" | "error" | "skipped";
    readonly type: string;
    readonly message: string;
    readonly body: string;
  };
}

function attributes(values: Readonly<Record<string, string | number>>): string {
  return Object.entries(values)
    .map(([key, value]) => ` ${key}="${escapeXml(String(value))}"`)
    .join("");
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

function checkCase(check: CheckResult, aborted: string | undefined): Case {
  const figure = `${describeSubject(check.subject)} was ${describeOutcome(check)}`;
  const base = { classname: "broadside.hypothesis", name: check.name, ms: 0 };
  if (aborted !== undefined) {
    return {
      ...base,
      outcome: {
        element: "skipped",
        type: "Aborted",
        message: `the run was aborted: ${aborted}`,
        body: figure,
      },
    };
  }
  if (check.passed) return base;
  return {
    ...base,
    outcome: { element: "failure", type: "HypothesisFailed", message: figure, body: figure },
  };
}

function faultCase(fault: FaultReport, index: number): Case {
  const base = {
    classname: "broadside.recovery",
    name: `fault ${index + 1} (${fault.kind}) recovers`,
    ms: fault.recoveryMs ?? 0,
  };
  if (fault.recovered) return base;
  const details =
    fault.type === "pod"
      ? [
          ...fault.victims.flatMap((victim) => [victimLine(victim), `  ${replacementLine(victim)}`]),
          ...fault.workloads.map(workloadLine),
          ...feltLines(fault),
        ]
      : [...fault.changes.map(changeLine), ...feltLines(fault)];
  return {
    ...base,
    outcome: {
      element: "failure",
      type: "NotRecovered",
      message: fault.problems.join("; "),
      body: [faultHeadline(fault, index), ...details].join("\n"),
    },
  };
}

function isolationCase(report: RunReport): Case[] {
  const restarts = report.restarts;
  const summary = isolationSummary(report);
  if (restarts === undefined || summary === undefined) return [];
  const base = { classname: "broadside.isolation", name: "node-mates of the targets did not restart", ms: 0 };
  if (restarts.isolationHeld) return [base];
  const body = restarts.nodeMates.map(restartLine).join("\n");
  return [{ ...base, outcome: { element: "failure", type: "IsolationBroken", message: summary, body } }];
}

function abortCase(report: RunReport): Case[] {
  const verdict = report.verdict;
  if (verdict.result !== "aborted") return [];
  const message = `the run was aborted: ${verdict.reason}`;
  return [
    {
      classname: "broadside.run",
      name: "the experiment ran to the end",
      ms: report.endedAt - report.startedAt,
      outcome: { element: "error", type: "Aborted", message, body: message },
    },
  ];
}

function caseXml(testcase: Case): string[] {
  const open = `    <testcase${attributes({ classname: testcase.classname, name: testcase.name, time: seconds(testcase.ms) })}`;
  const outcome = testcase.outcome;
  if (outcome === undefined) return [`${open}/>`];
  const element = `      <${outcome.element}${attributes({ message: outcome.message, type: outcome.type })}>${escapeXml(outcome.body)}</${outcome.element}>`;
  return [`${open}>`, element, "    </testcase>"];
}

export function renderJunit(report: RunReport): string {
  const aborted = report.verdict.result === "aborted" ? report.verdict.reason : undefined;
  const cases = [
    ...abortCase(report),
    ...report.checks.map((check) => checkCase(check, aborted)),
    ...report.faults.map(faultCase),
    ...isolationCase(report),
  ];
  const tally = (element: string): number => cases.filter((c) => c.outcome?.element === element).length;
  const totals = {
    tests: cases.length,
    failures: tally("failure"),
    errors: tally("error"),
    skipped: tally("skipped"),
    time: seconds(report.endedAt - report.startedAt),
  };
  // JUnit's schema wants a timestamp without a zone; it is UTC, as the property says.
  const timestamp = formatInstant(report.startedAt).slice(0, 19);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: "broadside", ...totals })}>`,
    `  <testsuite${attributes({ name: report.title, ...totals, timestamp })}>`,
    "    <properties>",
    `      <property${attributes({ name: "broadside.verdict", value: report.verdict.result })}/>`,
    `      <property${attributes({ name: "broadside.startedAt", value: formatInstant(report.startedAt) })}/>`,
    `      <property${attributes({ name: "broadside.endedAt", value: formatInstant(report.endedAt) })}/>`,
    "    </properties>",
    ...cases.flatMap(caseXml),
    `    <system-out>${escapeXml(renderTerminal(report))}</system-out>`,
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}

import { BroadsideError, planFile, type PlannedFile } from "../adapters.js";
import type { DocKind } from "../generators/documents.js";
import type { Mutation } from "../generators/mutations.js";
import type { Rendered } from "../generators/render.js";
import { acceptedProblems, lostSelectorKeys } from "./model-checks.js";
import { shown, type Findings, type Violation } from "./violations.js";

/** A generated file: the document, what was done to it, and its text. */
export interface FileCase {
  readonly kind: DocKind;
  readonly doc: unknown;
  readonly mutation?: Mutation;
  readonly rendered: Rendered;
}

export const caseFileName = "fuzz-case.yaml";

/** What `broadside run FILE` gets along with the file: a probe with credentials, --for for a Schedule. */
export function planSettings(kind: DocKind, secret: string) {
  return {
    probes: kind === "Experiment" ? [] : [`http://fuzz:${secret}@127.0.0.1:18080/`],
    ...(kind === "Schedule" ? { runFor: "1m" } : {}),
    loopbackOnly: true,
  };
}

type Outcome = { readonly accepted: PlannedFile } | { readonly refused: unknown };

function outcomeOf(fileCase: FileCase, secret: string): Outcome {
  try {
    return { accepted: planFile(fileCase.rendered.text, caseFileName, planSettings(fileCase.kind, secret)) };
  } catch (error: unknown) {
    return { refused: error };
  }
}

/** The field a refusal must name, or undefined when it need not be refused. */
function mustRefuse(fileCase: FileCase): string | undefined {
  if (fileCase.rendered.refused) return "";
  return fileCase.mutation?.mustRefuse;
}

/** A refusal names the field; a whole method step that failed its union may be named instead. */
function namesField(message: string, field: string): boolean {
  if (message.includes(field)) return true;
  const step = /^spec\.method\[\d+\]/.exec(field)?.[0];
  return step !== undefined && message.includes(`${step}:`);
}

function refusalProblems(error: unknown, field: string | undefined): [string, string][] {
  if (!(error instanceof BroadsideError)) {
    const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return [["internal error (not a BroadsideError)", described]];
  }
  const first = error.message.split("\n")[0] ?? "";
  if (error.exitCode !== 2) return [[`exit ${String(error.exitCode)} (${error.code})`, first]];
  if (!error.message.includes(caseFileName) && !/--[a-z]/.test(error.message))
    return [["refusal names no file or flag", first]];
  if (field !== undefined && field !== "" && !namesField(error.message, field))
    return [[`refusal does not name ${field}`, error.message.slice(0, 300)]];
  return [];
}

function acceptanceProblems(fileCase: FileCase, accepted: PlannedFile, secret: string): [string, string][] {
  const field = mustRefuse(fileCase);
  const problems: [string, string][] = [];
  if (field !== undefined)
    problems.push([
      "accepted what must be refused",
      `accepted (${field === "" ? fileCase.rendered.framing : field})`,
    ]);
  problems.push(
    ...acceptedProblems(accepted).map((problem): [string, string] => ["accepted a bad value", problem]),
  );
  problems.push(
    ...lostSelectorKeys(fileCase.doc, accepted.loaded).map((key): [string, string] => [
      "selector key dropped",
      key,
    ]),
  );
  const shownText = JSON.stringify([accepted.plan?.title, accepted.plan?.warnings]);
  if (shownText.includes(secret))
    problems.push(["credential in a plan's title or warnings", "the probe URL's password"]);
  return problems;
}

/** Runs one file case and records every rule it breaks. */
export function checkFileCase(fileCase: FileCase, secret: string, findings: Findings): void {
  const outcome = outcomeOf(fileCase, secret);
  const problems =
    "accepted" in outcome
      ? acceptanceProblems(fileCase, outcome.accepted, secret)
      : refusalProblems(outcome.refused, mustRefuse(fileCase));
  const what = fileCase.mutation?.description ?? "unmutated";
  for (const [rule, observed] of problems) {
    const violation: Violation = {
      rule,
      group: `${fileCase.kind}: ${fileCase.mutation?.attack ?? "valid"}${fileCase.rendered.refused ? `, ${fileCase.rendered.framing}` : ""}`,
      observed,
      input: `${what}; file: ${shown(fileCase.rendered.text, 400)}`,
    };
    findings.add(violation);
  }
  findings.count(problems.map(([rule]) => rule));
}

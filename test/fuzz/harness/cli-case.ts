import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../adapters.js";
import { outcomeCodes } from "../generators/argv.js";
import type { CliInput } from "../generators/argv-mutations.js";
import { climb, maxClimb } from "../generators/hostile.js";
import { firstRawControl } from "../generators/rules.js";
import {
  changesOutside,
  makeCaseDir,
  removeCaseDir,
  snapshot,
  writtenFiles,
  type CaseLayout,
  type Snapshot,
} from "./case-dir.js";
import { shown, type Findings } from "./violations.js";

/**
 * Runs generated command lines in this process through the CLI's main(argv, env, io), each in a case
 * directory (HOME, BROADSIDE_STATE_DIR, BROADSIDE_CACHE_DIR and the working directory inside it) with
 * PATH empty and a kubeconfig whose server refuses connections, and checks the rules on what
 * came out and what was written.
 */

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** A case that ran: its output, its directory before and after, and the text of every file it wrote. */
export interface CliRun {
  readonly result: CliResult;
  readonly layout: CaseLayout;
  readonly before: Snapshot;
  readonly after: Snapshot;
  readonly written: ReadonlyMap<string, string>;
}

export class CliCaseRunner {
  private layout: CaseLayout | undefined;
  private pristine: Snapshot | undefined;
  skipped = 0;

  constructor(
    private readonly parent: string,
    private readonly kubeconfig: string,
    private readonly files: Readonly<Record<string, string>>,
  ) {}

  /** A fresh case directory, or the last one when the last case left it as it was. */
  private prepare(): { layout: CaseLayout; before: Snapshot } {
    if (this.layout === undefined || this.pristine === undefined) {
      this.layout = makeCaseDir(this.parent, this.files);
      this.pristine = snapshot(this.layout.root);
    }
    return { layout: this.layout, before: this.pristine };
  }

  async run(input: CliInput): Promise<CliRun | undefined> {
    const values = [...input.argv, ...Object.values(input.env)];
    if (values.some((value) => climb(value) > maxClimb)) {
      this.skipped += 1;
      return undefined;
    }
    const { layout, before } = this.prepare();
    const env = {
      HOME: layout.home,
      BROADSIDE_STATE_DIR: layout.stateDir,
      BROADSIDE_CACHE_DIR: layout.cacheDir,
      PATH: "",
      KUBECONFIG: this.kubeconfig,
      ...input.env,
    };
    let out = "";
    let err = "";
    const home = process.cwd();
    process.chdir(layout.cwd);
    let code: number;
    try {
      code = await runCli(input.argv, env, { out: (text) => (out += text), err: (text) => (err += text) });
    } finally {
      process.chdir(home);
    }
    const after = snapshot(layout.root);
    // Read now: a case that changed its directory gets a fresh one, and this one is removed.
    const written = new Map(
      writtenFiles(before, after).map((path) => [path, readFileSync(join(layout.root, path), "utf8")]),
    );
    if (!sameSnapshot(before, after)) {
      removeCaseDir(layout);
      this.layout = undefined;
    }
    return { result: { code, out, err }, layout, before, after, written };
  }

  close(): void {
    if (this.layout !== undefined) removeCaseDir(this.layout);
  }
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return a.size === b.size && [...a].every(([path, print]) => b.get(path) === print);
}

const codePattern = /error \[(BRD_[A-Z_]+)\]/;

/** The message names what is wrong: a flag, a positional, a variable, a file, or commander's own words. */
const namesSomething = /--[a-z]|-[a-zA-Z]\b|BROADSIDE_|TARGET|<file>|<run\.json>|pods|error: |\.yaml|\.json/;

function refusalProblem(input: CliInput, result: CliResult): string | undefined {
  if (input.mustRefuse === undefined) return undefined;
  if (result.code !== 2) return `exit ${String(result.code)}, not 2`;
  const names = input.mustRefuse;
  if (names.length > 0 && !names.some((name) => result.err.includes(name)))
    return `the refusal does not name ${names.join(" or ")}`;
  return undefined;
}

function validOutcomeProblem(
  input: CliInput,
  result: CliResult,
  code: string | undefined,
): string | undefined {
  const expected = outcomeCodes[input.line.outcome];
  if (result.code === expected.exit && code === expected.code) return undefined;
  return `not the valid outcome (exit ${String(expected.exit)} ${expected.code ?? ""})`;
}

/** Exit 0; exit 2 naming something; exit 1 only with the code of the verb's valid outcome. */
function mutatedOutcomeProblem(
  input: CliInput,
  result: CliResult,
  code: string | undefined,
): string | undefined {
  if (result.code === 0) return undefined;
  if (result.code === 2)
    return namesSomething.test(result.err) ? undefined : "exit 2 names no flag, argument or file";
  const expected = outcomeCodes[input.line.outcome].code;
  if (result.code === 1 && expected !== undefined && code === expected) return undefined;
  return `exit ${String(result.code)} ${String(code)} is neither 0, 2 nor ${String(expected)}`;
}

function outcomeProblem(input: CliInput, result: CliResult): string | undefined {
  const code = codePattern.exec(result.err)?.[1];
  return input.unmutated
    ? validOutcomeProblem(input, result, code)
    : mutatedOutcomeProblem(input, result, code);
}

function leakProblems(
  result: CliResult,
  secret: string,
  written: ReadonlyMap<string, string>,
): [string, string][] {
  const problems: [string, string][] = [];
  const printed = `${result.out}${result.err}`;
  const firstLine = result.err.split("\n").find((line) => line.trim() !== "") ?? "";
  if (printed.includes(secret)) problems.push(["printed a credential", firstLine]);
  const control = firstRawControl(printed);
  if (control >= 0)
    problems.push(["printed a raw control character", JSON.stringify(printed.slice(control, control + 6))]);
  for (const [path, text] of written)
    if (text.includes(secret)) problems.push(["wrote a credential to a file", path]);
  return problems;
}

/** The files the command line asks to write (`--output FILE`): writing there is what the user asked. */
function outputPaths(argv: readonly string[]): string[] {
  return argv.flatMap((arg, index) =>
    arg === "--output" && argv[0] === "report" ? [argv[index + 1] ?? ""] : [],
  );
}

/** Every rule the result breaks, each as [rule, what was seen]. */
export function cliProblems(input: CliInput, run: CliRun, secret: string): [string, string][] {
  const { result } = run;
  const firstLine = result.err.split("\n").find((line) => line.trim() !== "") ?? "";
  const problems: [string, string][] = [];
  if (result.err.includes("BRD_INTERNAL") || result.out.includes("BRD_INTERNAL"))
    problems.push(["internal error", firstLine]);
  if (/^ {4}at /m.test(result.err) || /^ {4}at /m.test(result.out)) problems.push(["stack trace", firstLine]);
  const refusal = refusalProblem(input, result);
  if (refusal !== undefined)
    problems.push([`not refused: ${refusal}`, `exit ${String(result.code)}: ${firstLine}`]);
  else {
    const outcome = outcomeProblem(input, result);
    if (outcome !== undefined) problems.push([outcome, firstLine]);
  }
  problems.push(
    ...changesOutside(run.layout, run.before, run.after, outputPaths(input.argv)).map(
      (change): [string, string] => ["wrote outside its folders", change],
    ),
  );
  problems.push(...leakProblems(result, secret, run.written));
  return problems;
}

export function recordCliProblems(
  findings: Findings,
  group: string,
  input: CliInput,
  problems: readonly [string, string][],
): void {
  const internal = problems.some(([rule]) => rule === "internal error");
  for (const [rule, observed] of problems) {
    // An internal error is also "not refused" and a wrong exit code; it is listed once, as what it is.
    if (internal && (rule.startsWith("not refused") || rule.startsWith("exit "))) continue;
    const env = Object.entries(input.env)
      .map(([key, value]) => `${key}=${shown(value, 80)} `)
      .join("");
    findings.add({
      rule,
      group,
      observed: shown(observed, 400),
      input: `${env}broadside ${input.argv.map((arg) => shown(arg, 80)).join(" ")}`,
    });
  }
  findings.count(problems.map(([rule]) => rule));
}

import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { runCli, sampleReportJson } from "../adapters.js";
import { firstRawControl } from "../generators/rules.js";
import {
  changesOutside,
  makeCaseDir,
  removeCaseDir,
  snapshot,
  writtenFiles,
  type CaseLayout,
} from "./case-dir.js";

/**
 * The hostile corpus (test/fuzz/corpus/): each entry is a file whose header says what it attacks, the
 * command line to run, and the right answer. See corpus/README.md for the header's keys.
 */

const repoRoot = join(import.meta.dirname, "..", "..", "..");
export const corpusDir = join(repoRoot, "test", "fuzz", "corpus");

export interface CorpusEntry {
  readonly name: string;
  readonly header: ReadonlyMap<string, readonly string[]>;
  /** The YAML after the header, for .yaml entries. */
  readonly body: string | undefined;
}

export interface CorpusContext {
  readonly parent: string;
  readonly kubeconfig: string;
  readonly secret: string;
  /** The fixture namespace of cluster entries. */
  readonly namespace?: string;
}

export interface EntryResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

function parseEntry(name: string, text: string): CorpusEntry {
  const header = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const match = /^# ([a-z-]+): (.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined)
      header.set(match[1], [...(header.get(match[1]) ?? []), match[2]]);
  }
  return { name, header, body: name.endsWith(".yaml") ? text : undefined };
}

export function loadCorpus(): CorpusEntry[] {
  return readdirSync(corpusDir)
    .filter((name) => name.endsWith(".yaml") || name.endsWith(".case"))
    .sort()
    .map((name) => parseEntry(name, readFileSync(join(corpusDir, name), "utf8")));
}

export function one(entry: CorpusEntry, key: string): string | undefined {
  return entry.header.get(key)?.[0];
}

function fill(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{([a-z]+)\}/g, (whole, key: string) => values[key] ?? whole);
}

function generated(spec: string): string {
  const [kind, amount = "0"] = spec.split(" ");
  const size = Number(amount);
  const valid = readFileSync(join(repoRoot, "examples", "chaos-mesh-podchaos.yaml"), "utf8");
  if (kind === "nesting") return `${valid}status: ${"[".repeat(size)}${"]".repeat(size)}\n`;
  const line = `# ${"padding ".repeat(15)}\n`;
  return `${line.repeat(Math.ceil(size / line.length))}${valid}`;
}

/** Writes the entry's file into the case's working directory; returns its path. */
function entryFile(entry: CorpusEntry, layout: CaseLayout, values: Readonly<Record<string, string>>): string {
  const stem = entry.name.replace(/\.(case|yaml)$/, "");
  const path = join(layout.cwd, `${stem}.yaml`);
  const example = one(entry, "file");
  const generate = one(entry, "generate");
  if (entry.body !== undefined) writeFileSync(path, fill(entry.body, values));
  else if (example !== undefined)
    writeFileSync(path, readFileSync(join(repoRoot, "examples", `${example}.yaml`)));
  else if (generate !== undefined) writeFileSync(path, generated(generate));
  return path;
}

function setUp(entry: CorpusEntry, layout: CaseLayout): void {
  const setup = one(entry, "setup");
  if (setup === undefined) return;
  const [what, name = "broken"] = setup.split(" ");
  if (what !== "damaged-state") throw new Error(`${entry.name}: unknown setup ${setup}`);
  mkdirSync(join(layout.stateDir, name), { recursive: true });
  // A sandbox this Broadside made: its marker is there, its state file is cut short.
  writeFileSync(join(layout.stateDir, name, ".broadside-sandbox"), `${name}\n`);
  writeFileSync(
    join(layout.stateDir, name, "state.json"),
    '{"name": "broken", "components": {"etcd": {"pid": ',
  );
}

function environment(entry: CorpusEntry, layout: CaseLayout, kubeconfig: string): Record<string, string> {
  const env: Record<string, string> = {
    HOME: layout.home,
    BROADSIDE_STATE_DIR: layout.stateDir,
    BROADSIDE_CACHE_DIR: layout.cacheDir,
    PATH: "",
    KUBECONFIG: kubeconfig,
  };
  for (const pair of (one(entry, "env") ?? "").split(" ").filter(Boolean)) {
    if (pair.startsWith("-")) Reflect.deleteProperty(env, pair.slice(1));
    else env[pair.slice(0, pair.indexOf("="))] = pair.slice(pair.indexOf("=") + 1);
  }
  return env;
}

function argvOf(entry: CorpusEntry, values: Readonly<Record<string, string>>): string[] {
  return (one(entry, "argv") ?? "").split(" ").map((arg) => (arg === "''" ? "" : fill(arg, values)));
}

function inProcess(argv: readonly string[], env: Record<string, string>, cwd: string): Promise<EntryResult> {
  let out = "";
  let err = "";
  const home = process.cwd();
  process.chdir(cwd);
  return runCli(argv, env, { out: (text) => (out += text), err: (text) => (err += text) })
    .then((code) => ({ code, out, err }))
    .finally(() => {
      process.chdir(home);
    });
}

function asProcess(argv: readonly string[], env: Record<string, string>, cwd: string): Promise<EntryResult> {
  const loader = pathToFileURL(join(repoRoot, "node_modules", "tsx", "dist", "loader.mjs")).href;
  const entry = join(repoRoot, "test", "fuzz", "harness", "cli-process.ts");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", loader, entry, ...argv], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({ code: code ?? -1, out, err });
    });
  });
}

function expectationProblems(
  entry: CorpusEntry,
  result: EntryResult,
  values: Readonly<Record<string, string>>,
): string[] {
  const problems: string[] = [];
  const exit = one(entry, "exit");
  if (exit !== undefined && String(result.code) !== exit)
    problems.push(`exit ${String(result.code)}, expected ${exit}`);
  const code = one(entry, "code");
  if (code !== undefined && !result.err.includes(`[${code}]`)) problems.push(`no ${code} in stderr`);
  for (const names of entry.header.get("names") ?? []) {
    const alternatives = fill(names, values).split("|");
    if (!alternatives.some((name) => result.err.includes(name) || result.out.includes(name)))
      problems.push(`the output does not name ${alternatives.join(" or ")}`);
  }
  return problems;
}

function universalProblems(result: EntryResult): string[] {
  const problems: string[] = [];
  const printed = `${result.out}${result.err}`;
  if (printed.includes("BRD_INTERNAL")) problems.push("BRD_INTERNAL");
  if (/^ {4}at /m.test(printed)) problems.push("a stack trace");
  const control = firstRawControl(printed);
  if (control >= 0)
    problems.push(`a raw control character ${JSON.stringify(printed.slice(control, control + 6))}`);
  return problems;
}

function absentProblems(
  entry: CorpusEntry,
  result: EntryResult,
  layout: CaseLayout,
  written: readonly string[],
  values: Readonly<Record<string, string>>,
): string[] {
  const texts = [
    result.out,
    result.err,
    ...written.map((path) => readFileSync(join(layout.root, path), "utf8")),
  ];
  const where = ["stdout", "stderr", ...written];
  return (one(entry, "absent") ?? "")
    .split("|")
    .filter(Boolean)
    .flatMap((absent) => {
      const text = fill(absent, values);
      return texts.flatMap((shown, index) =>
        shown.includes(text) ? [`${JSON.stringify(text)} in ${where[index] ?? "?"}`] : [],
      );
    });
}

/** Runs one entry in a case directory of its own; every way it departs from its answer, or none. */
export async function runEntry(
  entry: CorpusEntry,
  context: CorpusContext,
): Promise<{ problems: string[]; result: EntryResult }> {
  const report = sampleReportJson(`GET http://user:${context.secret}@127.0.0.1:18080/`);
  const layout = makeCaseDir(context.parent, { "run.json": report });
  try {
    setUp(entry, layout);
    const values: Record<string, string> = {
      kubeconfig: context.kubeconfig,
      secret: context.secret,
      dir: layout.root,
      report: join(layout.cwd, "run.json"),
      namespace: context.namespace ?? "demo",
    };
    values.file = entryFile(entry, layout, values);
    const before = snapshot(layout.root);
    const argv = argvOf(entry, values);
    const env = environment(entry, layout, context.kubeconfig);
    const result =
      one(entry, "process") === "yes"
        ? await asProcess(argv, env, layout.cwd)
        : await inProcess(argv, env, layout.cwd);
    const after = snapshot(layout.root);
    const problems = [
      ...expectationProblems(entry, result, values),
      ...universalProblems(result),
      ...changesOutside(layout, before, after).map((change) => `wrote outside its folders: ${change}`),
      ...absentProblems(entry, result, layout, writtenFiles(before, after), values),
    ];
    return { problems, result };
  } finally {
    removeCaseDir(layout);
  }
}

/** The entry's own words, for a failure message. */
export function describeEntry(entry: CorpusEntry, result: EntryResult, problems: readonly string[]): string {
  const firstLine = result.err.split("\n").find((line) => line.trim() !== "") ?? "(nothing on stderr)";
  return [
    `${basename(entry.name)}: ${problems.join("; ")}`,
    `  attack: ${one(entry, "attack") ?? "?"}`,
    `  answer: ${one(entry, "answer") ?? "?"}`,
    `  got:    exit ${String(result.code)}: ${firstLine.slice(0, 300)}`,
  ].join("\n");
}

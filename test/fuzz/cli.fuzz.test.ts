import fc from "fast-check";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sampleReportJson } from "./adapters.js";
import { caseFiles, validCommandLine, verbs, type CommandLine } from "./generators/argv.js";
import { mutateLine, type CliInput } from "./generators/argv-mutations.js";
import { docKinds, validDoc } from "./generators/documents.js";
import { mutate } from "./generators/mutations.js";
import { render } from "./generators/render.js";
import { CliCaseRunner, cliProblems, recordCliProblems } from "./harness/cli-case.js";
import { caseFileName, planSettings } from "./harness/file-case.js";
import { Findings } from "./harness/violations.js";
import { fuzzSettings, seedFor, share } from "./settings.js";

/**
 * Every verb's command line, valid and mutated, through the CLI's main() in this process: exit 0 or 2,
 * or, for valid input, exactly the answer of a CLI that reached for a cluster that is not there
 * (BRD_KUBE_UNREACHABLE), a sandbox that is not up, or a Go that is not installed. Never an internal
 * error or a stack trace; refusals name the flag; nothing written outside the case's folders; no
 * credential and no raw control character printed. 40% of the run's cases.
 */

const settings = fuzzSettings();
const repoRoot = join(import.meta.dirname, "..", "..");

function caseInputs(): Record<string, string> {
  return {
    [caseFiles.experiment]: readFileSync(join(repoRoot, "examples", "experiment-config-drift.yaml"), "utf8"),
    [caseFiles.schedule]: readFileSync(join(repoRoot, "examples", "chaos-mesh-schedule.yaml"), "utf8"),
    // A report whose probe target holds a URL with credentials: no rendering of it may show them.
    [caseFiles.report]: sampleReportJson(`GET http://fuzz:${settings.secret}@127.0.0.1:18080/`),
  };
}

const runner = new CliCaseRunner(settings.root, settings.kubeconfig, caseInputs());
afterAll(() => {
  runner.close();
});

async function fuzzLines(name: string, inputs: fc.Arbitrary<CliInput>, runs: number): Promise<void> {
  const seed = seedFor(settings.seed, name);
  const findings = new Findings(name, seed);
  await fc.assert(
    fc.asyncProperty(inputs, async (input) => {
      const run = await runner.run(input);
      if (run === undefined) return;
      recordCliProblems(
        findings,
        `${name}: ${input.attack}`,
        input,
        cliProblems(input, run, settings.secret),
      );
    }),
    { seed, numRuns: runs },
  );
  findings.record(settings.summaryDir);
  expect(findings.failedCases, findings.report()).toBe(0);
}

describe("every verb's command line is answered cleanly", () => {
  it.each(verbs)("broadside %s", async (verb) => {
    const lines: fc.Arbitrary<CommandLine> = validCommandLine(verb, settings.kubeconfig, settings.secret);
    await fuzzLines(
      `cli ${verb}`,
      lines.chain((line) => mutateLine(line, settings.secret)),
      share(settings.runs, 3),
    );
  });
});

describe("generated files reach the parser through `broadside run --dry-run` as well", () => {
  const inputs = join(settings.root, "..", "inputs");
  mkdirSync(inputs, { recursive: true });
  let count = 0;

  it.each(docKinds)("%s files through the CLI", async (kind) => {
    const files = validDoc(kind).chain((base) =>
      fc
        .oneof(
          { weight: 1, arbitrary: fc.constant({ kind, doc: base }) },
          { weight: 4, arbitrary: mutate(kind, base, settings.secret) },
        )
        .chain((mutated) => render(mutated.doc).map((rendered) => ({ ...mutated, rendered }))),
    );
    const lines = files.map((fileCase): CliInput => {
      count += 1;
      const file = join(inputs, `${String(count)}-${caseFileName}`);
      writeFileSync(file, fileCase.rendered.text);
      const extra = planSettings(kind, settings.secret);
      const mutation = "mutation" in fileCase ? fileCase.mutation : undefined;
      const refused = fileCase.rendered.refused || mutation?.mustRefuse !== undefined;
      return {
        argv: [
          "run",
          file,
          "--dry-run",
          "--kubeconfig",
          settings.kubeconfig,
          ...extra.probes.flatMap((probe) => ["--probe", probe]),
          ...(extra.runFor === undefined ? [] : ["--for", extra.runFor]),
        ],
        env: {},
        line: { verb: ["run"], parts: [], outcome: "cluster" },
        description: mutation?.description ?? "valid",
        attack: `${kind} file: ${mutation?.attack ?? "valid"}, ${fileCase.rendered.framing}`,
        ...(refused ? { mustRefuse: [caseFileName] } : {}),
        unmutated: false,
      };
    });
    await fuzzLines(`cli run ${kind} file`, lines, share(settings.runs, 1));
  });
});

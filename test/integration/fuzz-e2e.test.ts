import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { fixtureCommandLines, type Fixture } from "../fuzz/generators/argv.js";
import { mutateLine, type CliInput } from "../fuzz/generators/argv-mutations.js";
import { climb, maxClimb } from "../fuzz/generators/hostile.js";
import { firstRawControl } from "../fuzz/generators/rules.js";
import { changesOutside, makeCaseDir, removeCaseDir, snapshot } from "../fuzz/harness/case-dir.js";
import { describeEntry, loadCorpus, one, runEntry } from "../fuzz/harness/corpus.js";
import { Findings } from "../fuzz/harness/violations.js";
import { adminClients, deployAndWait, repoRoot, testDeployment, useTestNamespace } from "./harness.js";

/**
 * The fuzz tier against a real API server: mutated command lines aimed at a fixture namespace (a
 * Deployment, a ConfigMap, a Secret of known values), run as `broadside` processes. Valid lines are dry
 * runs; mutated ones are kept only when they are invalid by construction. Every case must exit 0 or 2,
 * leave the fixture's and the ledger's resourceVersions as they were, print no Secret value, and write
 * nothing outside its own directory. Seeded like the fuzz tier (BROADSIDE_FUZZ_SEED).
 */

const seed = Number(process.env.BROADSIDE_FUZZ_SEED ?? String(Date.now() % 2_147_483_647));
const cases = Number(process.env.BROADSIDE_FUZZ_E2E_RUNS ?? "300");
const password = `pw-${randomBytes(8).toString("hex")}`;
const configValue = `calm-${randomBytes(4).toString("hex")}`;

interface Result {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

function broadsideIn(cwd: string, env: Record<string, string>, args: readonly string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, "bin", "broadside.js"), ...args],
      { cwd, env, timeout: 60_000 },
      (error, out, err) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, out, err });
      },
    );
  });
}

/** Every object's resourceVersion in the fixture namespace and in the ledger's namespace. */
async function versions(namespace: string): Promise<string[]> {
  const { core, apps } = adminClients();
  const lists = await Promise.all([
    core.listNamespacedPod({ namespace }),
    apps.listNamespacedDeployment({ namespace }),
    core.listNamespacedConfigMap({ namespace }),
    core.listNamespacedSecret({ namespace }),
    core.listNamespacedConfigMap({ namespace: "broadside-system" }).catch(() => ({ items: [] })),
    core.listNamespacedSecret({ namespace: "broadside-system" }).catch(() => ({ items: [] })),
  ]);
  return lists
    .flatMap(
      (list) =>
        list.items as {
          kind?: string;
          metadata?: { namespace?: string; name?: string; resourceVersion?: string };
        }[],
    )
    .map(
      (item) =>
        `${item.metadata?.namespace ?? ""}/${item.metadata?.name ?? ""}@${item.metadata?.resourceVersion ?? ""}`,
    )
    .sort();
}

describe("the fuzz tier end to end, against the sandbox", () => {
  const namespace = useTestNamespace("fz-e2e");
  let fixture: Fixture;
  let workspace: string;

  beforeAll(async () => {
    fixture = {
      namespace: namespace(),
      deployment: "fixture",
      configMap: "fixture-config",
      secret: "fixture-secret",
      guess: "not-the-password",
    };
    await deployAndWait(fixture.namespace, testDeployment(fixture.deployment, 1));
    const { core } = adminClients();
    await core.createNamespacedConfigMap({
      namespace: fixture.namespace,
      body: { metadata: { name: fixture.configMap }, data: { mode: configValue } },
    });
    await core.createNamespacedSecret({
      namespace: fixture.namespace,
      body: {
        metadata: { name: fixture.secret },
        data: { password: Buffer.from(password).toString("base64") },
      },
    });
    workspace = mkdtempSync(join(tmpdir(), "broadside-fuzz-e2e-"));
    process.stdout.write(
      `fuzz-e2e: seed ${String(seed)}, ${String(cases)} cases (replay: BROADSIDE_FUZZ_SEED=${String(seed)})\n`,
    );
  });

  afterAll(() => {
    rmSync(workspace, { recursive: true, force: true });
  });

  it("answers mutated command lines with 0 or 2, changes nothing, shows no Secret value, writes nowhere else", async () => {
    const kubeconfig = inject("adminKubeconfig");
    const experiment = join(workspace, "experiment.yaml");
    writeFileSync(experiment, experimentText(fixture));
    const lines = fixtureCommandLines(fixture, kubeconfig, experiment);
    const inputs = fc
      .constantFrom(...lines)
      .chain((line) => mutateLine(line, password))
      .filter(
        (input) =>
          (input.unmutated || input.mustRefuse !== undefined) &&
          ![...input.argv, ...Object.values(input.env)].some(
            (v) => climb(v) > maxClimb || v.includes("\u0000"),
          ),
      );
    const findings = new Findings("fuzz-e2e", seed);
    const before = await versions(fixture.namespace);
    const sample = fc.sample(inputs, { seed, numRuns: cases });
    // Four processes at a time: each case must leave the cluster as it was, so one that wrote is seen
    // by its own check or by its neighbours'.
    for (let start = 0; start < sample.length; start += 4) {
      const batch = sample.slice(start, start + 4);
      const outcomes = await Promise.all(
        batch.map((input) => runCase(input, workspace, before, fixture.namespace)),
      );
      batch.forEach((input, index) => {
        const problems = outcomes[index] ?? [];
        for (const [rule, observed] of problems) {
          findings.add({
            rule,
            group: `e2e ${input.line.verb.join(" ")}: ${input.attack}`,
            observed,
            input: `broadside ${input.argv.map((arg) => JSON.stringify(arg)).join(" ")}`,
          });
        }
        findings.count(problems.map(([rule]) => rule));
      });
    }
    process.stdout.write(
      `fuzz-e2e: ${String(findings.cases)} cases, ${String(findings.failedCases)} failed\n`,
    );
    expect(findings.failedCases, findings.report()).toBe(0);
  }, 600_000);

  it("does not tell a right guess of a Secret's value from a wrong one", async () => {
    const kubeconfig = inject("adminKubeconfig");
    const layout = makeCaseDir(workspace, {});
    const env = { HOME: layout.home, BROADSIDE_STATE_DIR: layout.stateDir, PATH: "" };
    const drift = (value: string) =>
      broadsideIn(layout.cwd, env, [
        "drift",
        `secret/${fixture.secret}`,
        "-n",
        fixture.namespace,
        "--key",
        "password",
        "--value",
        value,
        "--dry-run",
        "--kubeconfig",
        kubeconfig,
      ]);
    const right = await drift(password);
    const wrong = await drift(fixture.guess);
    removeCaseDir(layout);
    const seen = (result: Result, value: string) => ({
      code: result.code,
      out: result.out.replaceAll(value, "GUESS"),
      err: result.err.replaceAll(value, "GUESS"),
    });
    expect(`${right.out}${right.err}`).not.toContain(password);
    // Today the right guess answers "already holds this value" (exit 2) and a wrong one plans (exit 0): an oracle.
    expect(seen(right, password)).toEqual(seen(wrong, fixture.guess));
  });

  it.each(
    loadCorpus()
      .filter((entry) => one(entry, "cluster") === "yes")
      .map((entry) => [entry.name, entry] as const),
  )("corpus: %s", async (_name, entry) => {
    const before = await versions(fixture.namespace);
    const { problems, result } = await runEntry(entry, {
      parent: workspace,
      kubeconfig: inject("adminKubeconfig"),
      secret: password,
      namespace: fixture.namespace,
    });
    expect(problems, describeEntry(entry, result, problems)).toEqual([]);
    expect(await versions(fixture.namespace)).toEqual(before);
  });
});

function experimentText(fixture: Fixture): string {
  return [
    "apiVersion: broadside.dev/v1alpha1",
    "kind: Experiment",
    "metadata:",
    "  name: fixture-dry-run",
    `  namespace: ${fixture.namespace}`,
    "spec:",
    "  title: A dry run against the fixture",
    "  hypothesis:",
    "    probes:",
    "      - name: fixture-ready",
    "        kubernetes: {kind: deployment, namespace: " +
      fixture.namespace +
      ", name: fixture, condition: {readyReplicasAtLeast: 1}}",
    "  method:",
    "    - fault: config-drift",
    `      params: {namespace: ${fixture.namespace}, kind: secret, name: ${fixture.secret}, key: password, value: ${fixture.guess}}`,
    "      duration: 10s",
    "",
  ].join("\n");
}

async function runCase(
  input: CliInput,
  workspace: string,
  before: readonly string[],
  namespace: string,
): Promise<[string, string][]> {
  const layout = makeCaseDir(workspace, {});
  try {
    const env = {
      HOME: layout.home,
      BROADSIDE_STATE_DIR: layout.stateDir,
      BROADSIDE_CACHE_DIR: layout.cacheDir,
      PATH: "",
      ...input.env,
    };
    const start = snapshot(layout.root);
    const result = await broadsideIn(layout.cwd, env, input.argv);
    const end = snapshot(layout.root);
    return casesProblems(
      input,
      result,
      [...changesOutside(layout, start, end)],
      await versions(namespace),
      before,
    );
  } finally {
    removeCaseDir(layout);
  }
}

function casesProblems(
  input: CliInput,
  result: Result,
  written: readonly string[],
  now: readonly string[],
  before: readonly string[],
): [string, string][] {
  const printed = `${result.out}${result.err}`;
  const firstLine = result.err.split("\n").find((line) => line.trim() !== "") ?? "";
  const expected = input.unmutated ? 0 : 2;
  const problems: [string, string][] = [];
  if (result.code !== expected)
    problems.push([`exit ${String(result.code)}, expected ${String(expected)}`, firstLine.slice(0, 300)]);
  if (/^ {4}at /m.test(printed)) problems.push(["stack trace", firstLine.slice(0, 300)]);
  if (printed.includes(password) || printed.includes(Buffer.from(password).toString("base64")))
    problems.push(["printed the Secret's value", firstLine.slice(0, 300)]);
  if (firstRawControl(printed) >= 0)
    problems.push(["printed a raw control character", firstLine.slice(0, 300)]);
  if (JSON.stringify(now) !== JSON.stringify(before))
    problems.push(["changed the cluster", now.filter((item) => !before.includes(item)).join(", ")]);
  problems.push(...written.map((change): [string, string] => ["wrote outside its folders", change]));
  return problems;
}

// Shot latency: Broadside against the classic kubectl script, side by side in one run.
//
//   npx tsx bench/shot-latency.ts [--sizes 100,1000,10000] [--rounds 5] [--keep]
//
// Starts its own sandbox "bench" (stopped at the end unless --keep) and, per size N, fills a namespace
// bench-N with N bare pods. Then it alternates, round by round, one `broadside kill` (mode one, with
// --unsafe: a bare pod is its own one-pod workload, which the blast-radius cap would spare) and one run of
//   kubectl get pods -l app=X -o name | sort --random-sort | head -n 1 | xargs kubectl delete
// (every process spawned with an argv array, no shell), each timed from invocation to the DELETE being
// accepted. Markdown tables go to stdout and nothing else; progress goes to stderr; every measurement goes
// to bench/results/shot-latency-<start time>.json. See docs/benchmarks.md.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { readConfig } from "../src/cli/config.js";
import { sandboxEnvironment } from "../src/cli/sandbox-commands.js";
import { Duration } from "../src/core/duration.js";
import { connect, type KubeClients } from "../src/kube/client.js";
import { nodeName } from "../src/sandbox/bootstrap.js";
import { binaryPaths } from "../src/sandbox/build.js";
import { SandboxName } from "../src/sandbox/sandbox-name.js";
import { sandboxDown, sandboxUp, type SandboxEnvironment } from "../src/sandbox/sandbox.js";
import type { PodLifecycle } from "../src/sandbox/stages.js";
import { etcdVersion, kubernetesVersion, kwokVersion } from "../src/sandbox/versions.js";
import { createFleet, replaceVictim, type Fleet } from "./shot-latency/fleet.js";
import { collect, exitOf } from "./shot-latency/processes.js";
import { breakdownTable, markdownTable, summarize, type SizeResult } from "./shot-latency/report.js";
import {
  broadsideArgs,
  broadsideShot,
  kubectlDeleteArgs,
  kubectlGetArgs,
  kubectlShot,
  startupFloor,
  type ShotMeasurement,
  type ShotTarget,
} from "./shot-latency/shots.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const sandboxName = SandboxName.parse("bench", "sandbox name");
/** Pods per node at most: under the 110 of a kwok node (and of a default kubelet). */
const podsPerNode = 100;
const maxNodes = 500;
/** Fast kwok stages: a pod is Running as soon as kwok sees it and gone as soon as its grace allows. */
const fastLifecycle: PodLifecycle = {
  createDelay: Duration.ofMilliseconds(0),
  readyDelay: Duration.ofMilliseconds(0),
  readyJitter: Duration.ofMilliseconds(0),
  shutdownDelay: Duration.ofMilliseconds(0),
};
/** High client-side limits for setting up the fleets (the tools measured use their own defaults). */
const setupLimits = { qps: 500, burst: 1000, maxRetries: 5 };

interface Options {
  readonly sizes: readonly number[];
  readonly rounds: number;
  /** Leave the sandbox up at the end, to explore what was measured. */
  readonly keep: boolean;
}

interface Bench {
  readonly kube: KubeClients;
  readonly kubeconfig: string;
  readonly kubectl: string;
  readonly kubectlCacheDir: string;
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sizes: { type: "string", default: "100,1000,10000" },
      rounds: { type: "string", default: "5" },
      keep: { type: "boolean", default: false },
    },
    strict: true,
  });
  const sizes = values.sizes.split(",").map((text) => positiveInteger(text, "--sizes"));
  const rounds = positiveInteger(values.rounds, "--rounds");
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (total > podsPerNode * maxNodes) {
    throw new Error(
      `--sizes: at most ${podsPerNode * maxNodes} pods in all (${maxNodes} nodes), got ${total}`,
    );
  }
  if (new Set(sizes).size !== sizes.length) throw new Error("--sizes: each size once");
  return { sizes, rounds, keep: values.keep };
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag}: "${text}" is not a whole number >= 1`);
  return value;
}

function nodesFor(sizes: readonly number[]): number {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  return Math.min(maxNodes, Math.max(3, Math.ceil(total / podsPerNode)));
}

interface Round {
  readonly shots: ShotMeasurement[];
  readonly floors: { readonly broadside: number; readonly kubectl: number };
}

/**
 * One round: a Broadside shot, then a kubectl shot, each victim recreated before the next shot; then
 * each tool's start-up floor.
 */
async function oneRound(bench: Bench, fleet: Fleet, counted: boolean): Promise<Round> {
  const target: ShotTarget = {
    kubeconfig: bench.kubeconfig,
    namespace: fleet.namespace,
    selector: fleet.selector,
  };
  const fromBroadside = await broadsideShot(repoRoot, target);
  await replaceVictim(bench.kube, fleet, fromBroadside.victim);
  const fromKubectl = await kubectlShot(bench.kubectl, target, bench.kubectlCacheDir);
  await replaceVictim(bench.kube, fleet, fromKubectl.victim);
  const line = (s: ShotMeasurement) => `${s.tool} ${s.latencyMs} ms, ${s.requestsToDelete} requests`;
  const floors = {
    broadside: await startupFloor("broadside", repoRoot, bench.kubectl),
    kubectl: await startupFloor("kubectl", repoRoot, bench.kubectl),
  };
  const pick = fromKubectl.pickMs === undefined ? "" : ` (victim chosen at ${fromKubectl.pickMs} ms)`;
  log(
    `  ${fleet.namespace}${counted ? "" : " (warm-up)"}: ${line(fromBroadside)}; ${line(fromKubectl)}${pick}; start-up floors ${floors.broadside} / ${floors.kubectl} ms`,
  );
  return { shots: [fromBroadside, fromKubectl], floors };
}

/** Bytes of the namespace's pod list as the API sends it (JSON), through the pinned kubectl. */
async function listBytes(bench: Bench, namespace: string): Promise<number> {
  const child = spawn(
    bench.kubectl,
    ["get", "--raw", `/api/v1/namespaces/${namespace}/pods`, "--kubeconfig", bench.kubeconfig],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const body = collect(child.stdout);
  const exit = await exitOf(child, "kubectl get --raw", 120_000);
  if (exit.code !== 0) throw new Error(`kubectl get --raw /api/v1/namespaces/${namespace}/pods failed`);
  return Buffer.byteLength(body());
}

async function benchSize(
  bench: Bench,
  pods: number,
  firstIndex: number,
  options: Options,
): Promise<SizeResult> {
  log(`size ${pods}: creating the fleet`);
  const nodes = nodesFor(options.sizes);
  const { fleet, timings } = await createFleet(
    bench.kube,
    pods,
    (i) => nodeName((firstIndex + i) % nodes),
    log,
  );
  const bytes = await listBytes(bench, fleet.namespace);
  const warmup = await oneRound(bench, fleet, false);
  const rounds: Round[] = [];
  for (let round = 0; round < options.rounds; round += 1) rounds.push(await oneRound(bench, fleet, true));
  return {
    pods,
    namespace: fleet.namespace,
    fleet: timings,
    listBytes: bytes,
    warmup: warmup.shots,
    shots: rounds.flatMap((round) => round.shots),
    floors: {
      broadside: rounds.map((round) => round.floors.broadside),
      kubectl: rounds.map((round) => round.floors.kubectl),
    },
  };
}

async function runBenchmarks(options: Options, env: SandboxEnvironment, kubectlCacheDir: string) {
  const state = await sandboxUp(
    { name: sandboxName, nodes: nodesFor(options.sizes), lifecycle: fastLifecycle },
    env,
  );
  const bench: Bench = {
    kube: connect({ kubeconfigPath: state.adminKubeconfig, limits: setupLimits }),
    kubeconfig: state.adminKubeconfig,
    kubectl: binaryPaths(readConfig(process.env).cacheDir).kubectl,
    kubectlCacheDir,
  };
  const results: SizeResult[] = [];
  let firstIndex = 0;
  for (const pods of options.sizes) {
    results.push(await benchSize(bench, pods, firstIndex, options));
    firstIndex += pods;
  }
  return { results, template: templates(bench) };
}

/** The argv of each tool, with placeholders, for the results file. */
function templates(bench: Bench) {
  const target: ShotTarget = { kubeconfig: "K", namespace: "bench-N", selector: "app=bench-N" };
  return {
    broadside: ["node", ...broadsideArgs(repoRoot, target).map((arg) => relative(repoRoot, arg) || arg)],
    kubectlGet: [bench.kubectl, ...kubectlGetArgs(target, "D")],
    sort: ["sort", "--random-sort"],
    head: ["head", "-n", "1"],
    kubectlDelete: [bench.kubectl, ...kubectlDeleteArgs(target, "D", "pod/NAME")],
  };
}

async function machine() {
  const cpu = cpus();
  const pkg = z
    .object({ version: z.string() })
    .parse(JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")));
  const dist = await stat(join(repoRoot, "dist", "cli", "main.js"));
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: loadavg(),
    broadside: pkg.version,
    broadsideDistBuiltAt: dist.mtime.toISOString(),
    versions: { kubernetes: kubernetesVersion, etcd: etcdVersion, kwok: kwokVersion },
  };
}

async function writeResults(document: object, startedAt: Date): Promise<string> {
  const dir = join(repoRoot, "bench", "results");
  await mkdir(dir, { recursive: true });
  const stamp = startedAt.toISOString().slice(0, 19).replace(/:/g, "-");
  const file = join(dir, `shot-latency-${stamp}Z.json`);
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  return file;
}

/** Prints the tables and writes every measurement to bench/results/. */
async function report(
  options: Options,
  run: Awaited<ReturnType<typeof runBenchmarks>>,
  startedAt: Date,
  machineAtStart: Awaited<ReturnType<typeof machine>>,
): Promise<void> {
  const summaries = run.results.map(summarize);
  process.stdout.write(`${markdownTable(summaries)}\n${breakdownTable(summaries)}`);
  const document = {
    command: ["npx", "tsx", "bench/shot-latency.ts", ...process.argv.slice(2)].join(" "),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machineAtStart,
    loadAverageAtEnd: loadavg(),
    sandbox: {
      name: sandboxName,
      nodes: nodesFor(options.sizes),
      podsPerNode,
      lifecycle: "every kwok stage delay 0 ms; pods have terminationGracePeriodSeconds 1",
    },
    rounds: options.rounds,
    argv: run.template,
    summaries,
    results: run.results,
  };
  log(`results: ${relative(repoRoot, await writeResults(document, startedAt))}`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const machineAtStart = await machine();
  const io = {
    out: (text: string) => process.stderr.write(text),
    err: (text: string) => process.stderr.write(text),
  };
  const env: SandboxEnvironment = { ...sandboxEnvironment(readConfig(process.env), io), onProgress: log };
  const kubectlCacheDir = await mkdtemp(join(tmpdir(), "broadside-bench-kubectl-"));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      log(`stopping sandbox "${sandboxName}"`);
      await sandboxDown(env, sandboxName);
      await rm(kubectlCacheDir, { recursive: true, force: true });
    })());
  process.once("SIGINT", () => {
    log("interrupted");
    void stop().finally(() => process.exit(130));
  });
  try {
    // A "bench" sandbox left by an interrupted run may have other pod timings: start from nothing.
    if (await sandboxDown(env, sandboxName)) log(`stopped a leftover sandbox "${sandboxName}"`);
    await report(options, await runBenchmarks(options, env, kubectlCacheDir), startedAt, machineAtStart);
  } finally {
    if (options.keep) {
      log(
        `--keep: sandbox "${sandboxName}" left up; stop it with: npx broadside sandbox down --name ${sandboxName}`,
      );
      log(`--keep: kubectl's cache dir ${kubectlCacheDir} left in place`);
    } else {
      await stop();
    }
  }
}

await main();

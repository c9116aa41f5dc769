// The scale envelope (issue 14): one sandbox grown step by step, and at each size, side by side in one run,
// what Broadside costs as the cluster grows.
//
//   npm run bench:envelope -- [--sizes 5000,10000,25000,50000] [--rounds 5] [--shots 10] [--quiet 60]
//                             [--ceiling-gib 18] [--sandbox bench-envelope] [--keep]
//   npm run bench:envelope -- --replot bench/results/envelope-<start>.json
//
// Starts its own sandbox (--sandbox; stopped at the end, on failure and on Ctrl-C, unless --keep) with one
// kwok node per 100 pods of the largest size, and grows it size by size: pods spread over namespaces of
// 1,000 (bench/envelope/grow.ts, shaped as bench/agent/fleet.ts makes them), bound to kwok nodes through
// spec.nodeName. At each size:
//   1. `broadside kill --dry-run -A -l app=bench-agent,shard=3` and `-n envelope-000 -l ...` alternated,
//      --rounds rounds after one uncounted, each spawn to exit with its peak RSS (bench/envelope/peak-rss.py);
//   2. a real `broadside agent` (the image's Node flags): spawn to /readyz (every informer synced), its
//      resident set, then a quiet window of --quiet seconds in which kube-apiserver's
//      apiserver_request_total{verb="LIST",scope="cluster"} and the agent's own requests are counted;
//   3. warm shots at envelope-000 from a pod cache of the whole cluster (bench/agent/warm-shot.ts).
// Growth stops before a size if the machine's used memory passes --ceiling-gib. Least-squares fits (per
// 1,000 pods) and markdown tables go to stdout, progress to stderr, every measurement to
// bench/results/envelope-<start>.json, the plot to docs/img/envelope.svg (after every size, so a run cut
// short keeps what it measured). --replot redraws the plot and reprints the tables from a results file,
// without a cluster. See docs/benchmarks.md.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join, relative } from "node:path";
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { readConfig } from "../src/cli/config.js";
import { connectEngine } from "../src/cli/engine-setup.js";
import { sandboxEnvironment } from "../src/cli/sandbox-commands.js";
import { connect } from "../src/kube/client.js";
import { binaryPaths } from "../src/sandbox/build.js";
import { SandboxName } from "../src/sandbox/sandbox-name.js";
import { sandboxDown, sandboxUp, type SandboxEnvironment } from "../src/sandbox/sandbox.js";
import { etcdVersion, kubernetesVersion, kwokVersion } from "../src/sandbox/versions.js";
import type { AgentProcess } from "./agent/agent-process.js";
import {
  growTo,
  machineUsedGiB,
  MemoryCeilingError,
  podsPerNamespace,
  type Envelope,
} from "./envelope/grow.js";
import { agentRun, dryRuns, dryRunSelector, warmFigures, type Rig } from "./envelope/measure.js";
import { envelopeSvg } from "./envelope/plot.js";
import { fits, markdown, panels, type SizeResult } from "./envelope/report.js";
import { collect, exitOf } from "./shot-latency/processes.js";
import { fastLifecycle, podsPerNode, repoRoot } from "./settings.js";

/** The sandbox starts at most 500 kwok nodes (src/sandbox/sandbox.ts, validateNodes). */
const maxNodes = 500;
const setupLimits = { qps: 300, burst: 600, maxRetries: 5 };

interface Options {
  readonly sizes: readonly number[];
  readonly rounds: number;
  readonly shots: number;
  readonly quietSeconds: number;
  readonly ceilingGiB: number;
  readonly sandbox: SandboxName;
  readonly keep: boolean;
  /** A results file to redraw the plot and tables from, instead of measuring. */
  readonly replot: string | undefined;
}

function log(message: string): void {
  process.stderr.write(`[bench:envelope] ${message}\n`);
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sizes: { type: "string", default: "5000,10000,25000,50000" },
      rounds: { type: "string", default: "5" },
      shots: { type: "string", default: "10" },
      quiet: { type: "string", default: "60" },
      "ceiling-gib": { type: "string", default: "18" },
      sandbox: { type: "string", default: "bench-envelope" },
      keep: { type: "boolean", default: false },
      replot: { type: "string" },
    },
    strict: true,
  });
  const sizes = values.sizes.split(",").map((text) => positiveInteger(text, "--sizes"));
  if (sizes.some((size, index) => index > 0 && size <= (sizes[index - 1] ?? 0))) {
    throw new Error(`--sizes: the sandbox only grows, so sizes must increase, got ${values.sizes}`);
  }
  const largest = sizes[sizes.length - 1] ?? 0;
  if (largest > podsPerNode * maxNodes) {
    throw new Error(
      `--sizes: at most ${podsPerNode * maxNodes} pods (${maxNodes} kwok nodes, the sandbox's limit, × ${podsPerNode}), got ${largest}`,
    );
  }
  return {
    sizes,
    rounds: positiveInteger(values.rounds, "--rounds"),
    shots: positiveInteger(values.shots, "--shots"),
    quietSeconds: positiveInteger(values.quiet, "--quiet"),
    ceilingGiB: positiveInteger(values["ceiling-gib"], "--ceiling-gib"),
    sandbox: SandboxName.parse(values.sandbox, "--sandbox"),
    keep: values.keep,
    replot: values.replot,
  };
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag}: "${text}" is not a whole number >= 1`);
  return value;
}

function nodesFor(sizes: readonly number[]): number {
  return Math.min(maxNodes, Math.max(3, Math.ceil((sizes[sizes.length - 1] ?? 0) / podsPerNode)));
}

async function kubectlApply(kubectl: string, kubeconfig: string, path: string): Promise<void> {
  const args = ["apply", "--server-side", "-f", path, "--kubeconfig", kubeconfig];
  const child = spawn(kubectl, args, { stdio: ["ignore", "ignore", "pipe"] });
  const stderr = collect(child.stderr);
  const exit = await exitOf(child, "kubectl apply", 120_000);
  if (exit.code !== 0) throw new Error(`kubectl apply -f ${path} failed: ${stderr()}`);
}

interface Run {
  readonly results: SizeResult[];
  /** Why growth stopped before the last size, if it did. */
  readonly stoppedEarly: string | undefined;
}

async function measureSize(
  rig: Rig,
  envelope: Envelope,
  options: Options,
  logDir: string,
): Promise<SizeResult> {
  const [first] = envelope.fleets;
  if (first === undefined) throw new Error("the envelope has no namespace");
  log(`size ${envelope.pods}: 1. kill --dry-run`);
  const dry = await dryRuns(rig, first.namespace, options.rounds);
  log(`size ${envelope.pods}: 2. the agent, then ${options.quietSeconds} s quiet`);
  const agent = await agentRun(rig, options.quietSeconds, join(logDir, `agent-${envelope.pods}.log`));
  log(`size ${envelope.pods}: 3. warm shots at ${first.namespace}`);
  const warm = await warmFigures(rig, first, options.shots);
  return {
    pods: envelope.pods,
    namespaces: envelope.fleets.length,
    growMs: 0,
    machineUsedGiB: await machineUsedGiB(),
    loadAverage: loadavg(),
    dryRuns: dry,
    agent,
    warm,
  };
}

async function runAll(
  options: Options,
  env: SandboxEnvironment,
  logDir: string,
  agents: Set<AgentProcess>,
  onSize: (results: readonly SizeResult[]) => Promise<void>,
): Promise<Run> {
  const nodes = nodesFor(options.sizes);
  log(`starting sandbox "${options.sandbox}" with ${nodes} kwok nodes`);
  const state = await sandboxUp({ name: options.sandbox, nodes, lifecycle: fastLifecycle }, env);
  const kubeconfig = state.adminKubeconfig;
  const config = readConfig(process.env);
  const kubectl = binaryPaths(config.cacheDir).kubectl;
  const kube = connect({ kubeconfigPath: kubeconfig, limits: setupLimits });
  await kubectlApply(kubectl, kubeconfig, join(repoRoot, "deploy", "crds"));
  const engine = connectEngine(config, { out: log, err: log }, { kubeconfig, optIn: true });
  const rig: Rig = {
    repoRoot,
    kubeconfig,
    kubectl,
    kube,
    ctx: { ...engine.ctx, progress: () => undefined },
    log,
    agents,
  };
  const envelope: Envelope = { fleets: [], pods: 0, nodes };
  const results: SizeResult[] = [];
  for (const size of options.sizes) {
    const started = Date.now();
    log(`growing to ${size} pods (namespaces of ${podsPerNamespace}, ${nodes} nodes)`);
    try {
      await growTo(kube, envelope, size, { ceilingGiB: options.ceilingGiB, log });
    } catch (error: unknown) {
      if (!(error instanceof MemoryCeilingError)) throw error;
      log(`stopping growth: ${error.message}`);
      return { results, stoppedEarly: error.message };
    }
    const growMs = Date.now() - started;
    log(
      `  ${size} pods Ready ${growMs} ms after growth began (${Math.round(((size - (results.at(-1)?.pods ?? 0)) * 1000) / growMs)}/s)`,
    );
    results.push({ ...(await measureSize(rig, envelope, options, logDir)), growMs });
    // Written after every size, so a run cut short (Ctrl-C, a failure) keeps what it measured.
    await onSize(results);
  }
  return { results, stoppedEarly: undefined };
}

function machine() {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: loadavg(),
    versions: { kubernetes: kubernetesVersion, etcd: etcdVersion, kwok: kwokVersion },
  };
}

type Machine = ReturnType<typeof machine>;

async function writeOutputs(options: Options, run: Run, startedAt: Date, atStart: Machine) {
  const stamp = startedAt.toISOString().slice(0, 19).replace(/:/g, "-");
  const resultsFile = join(repoRoot, "bench", "results", `envelope-${stamp}Z.json`);
  const document = {
    command: ["npm", "run", "bench:envelope", "--", ...process.argv.slice(2)].join(" "),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: atStart,
    loadAverageAtEnd: loadavg(),
    sandbox: { name: options.sandbox, nodes: nodesFor(options.sizes), podsPerNode, podsPerNamespace },
    dryRunSelector,
    options,
    stoppedEarly: run.stoppedEarly,
    fits: fits(run.results),
    results: run.results,
  };
  await mkdir(dirname(resultsFile), { recursive: true });
  await writeFile(resultsFile, `${JSON.stringify(document, null, 2)}\n`);
  log(`results: ${relative(repoRoot, resultsFile)}`);
  if (run.results.length > 0) await writePlot(run.results, startedAt, atStart);
}

async function writePlot(results: readonly SizeResult[], startedAt: Date, atStart: Machine): Promise<void> {
  const svgFile = join(repoRoot, "docs", "img", "envelope.svg");
  const load = atStart.loadAverage.map((l) => l.toFixed(2)).join(" ");
  const caption = `npm run bench:envelope, ${startedAt.toISOString().slice(0, 16)}Z, ${atStart.cpus} CPUs, load at start ${load}; dashed: least-squares lines`;
  await mkdir(dirname(svgFile), { recursive: true });
  await writeFile(svgFile, envelopeSvg(panels(results), caption));
  log(`plot: ${relative(repoRoot, svgFile)}`);
}

/** --replot: the tables and the plot again from a results file this benchmark wrote. */
async function replot(file: string): Promise<void> {
  const document = JSON.parse(await readFile(file, "utf8")) as {
    startedAt: string;
    machine: Machine;
    results: SizeResult[];
  };
  process.stdout.write(markdown(document.results));
  await writePlot(document.results, new Date(document.startedAt), document.machine);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.replot !== undefined) return replot(options.replot);
  const startedAt = new Date();
  const atStart = machine();
  const io = {
    out: (text: string) => process.stderr.write(text),
    err: (text: string) => process.stderr.write(text),
  };
  const env: SandboxEnvironment = { ...sandboxEnvironment(readConfig(process.env), io), onProgress: log };
  const logDir = await mkdtemp(join(tmpdir(), "broadside-bench-envelope-"));
  const agents = new Set<AgentProcess>();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const agent of agents) await agent.stop();
      log(`stopping sandbox "${options.sandbox}"`);
      await sandboxDown(env, options.sandbox);
      await rm(logDir, { recursive: true, force: true });
    })());
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      void stop().finally(() => process.exit(130));
    });
  }
  try {
    if (await sandboxDown(env, options.sandbox)) log(`stopped a leftover sandbox "${options.sandbox}"`);
    const partial = (results: readonly SizeResult[]) =>
      writeOutputs(options, { results: [...results], stoppedEarly: "in progress" }, startedAt, atStart);
    const run = await runAll(options, env, logDir, agents, partial);
    process.stdout.write(markdown(run.results));
    if (run.stoppedEarly !== undefined) process.stdout.write(`\nGrowth stopped early: ${run.stoppedEarly}\n`);
    await writeOutputs(options, run, startedAt, atStart);
  } finally {
    if (options.keep) log(`--keep: sandbox "${options.sandbox}" left up; agent logs in ${logDir}`);
    else await stop();
  }
}

await main();

// The resident agent's speed (issue 10): warm shot, time to first DELETE, memory, fan-out.
//
//   npm run bench:agent -- [--pods 10000] [--fanout 6000] [--rounds 20] [--objects 20] [--skip-fanout] [--keep]
//                          [--only memory] [--sandbox bench-agent]
//
// Starts its own sandbox (--sandbox, default "bench-agent"; stopped at the end unless --keep), installs the CRDs and fills a
// namespace with --pods pods owned by ConfigMap "workloads" (see agent/fleet.ts), bound to kwok nodes.
// Then, in this order:
//   c. memory: the pod cache synced in a child process, trimmed and whole (same cluster, side by side),
//      then the resident set of a real `broadside agent` process once it is ready;
//   a. warm shot: raw DELETE vs the cache's pick + DELETE vs the engine's whole path, interleaved;
//   b. time to first DELETE: --objects PodChaos created one at a time against the agent process;
//   d. fan-out: the fleet grown so every workload has 100 ready pods (the blast-radius cap lets 50 go),
//      a PodChaos with mode all over the --fanout pods labelled fanout=yes, at the agent's 50 QPS; a
//      second PodChaos in another namespace created a quarter of the way through.
// --only memory runs step c alone (and the fleet it needs, without the fan-out's extra pods).
// Markdown goes to stdout, progress to stderr, every measurement to bench/results/agent-<start>.json.
// See docs/benchmarks.md. Nothing here is part of `npm test`.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { readConfig } from "../src/cli/config.js";
import { connectEngine } from "../src/cli/engine-setup.js";
import { sandboxEnvironment } from "../src/cli/sandbox-commands.js";
import { connect, type KubeClients } from "../src/kube/client.js";
import { PodCache } from "../src/kube/pod-cache.js";
import { defaultApiRateLimits } from "../src/kube/throttled-http.js";
import { binaryPaths } from "../src/sandbox/build.js";
import { SandboxName } from "../src/sandbox/sandbox-name.js";
import { sandboxDown, sandboxUp, type SandboxEnvironment } from "../src/sandbox/sandbox.js";
import { kubernetesVersion, kwokVersion } from "../src/sandbox/versions.js";
import { imageEnvironment, imageNodeFlags, startAgent } from "./agent/agent-process.js";
import { DeletionLog } from "./agent/deletions.js";
import { fanOut, type FanOutResult } from "./agent/fan-out.js";
import { firstDeletes } from "./agent/first-delete.js";
import { addPods, createFleet, fleetPod, waitAllReady, type AgentFleet } from "./agent/fleet.js";
import { peakResidentMiB, residentMiB } from "./agent/rss.js";
import { warmShots, type WarmShot } from "./agent/warm-shot.js";
import { collect, exitOf } from "./shot-latency/processes.js";
import { fastLifecycle, podsPerNode, repoRoot } from "./settings.js";

/** The blast-radius cap lets half a workload's ready pods go: 100 per workload lets the fan-out take 50. */
const fanoutPerWorkload = 50;
const setupLimits = { qps: 300, burst: 600, maxRetries: 5 };

interface Options {
  readonly pods: number;
  readonly fanout: number;
  readonly rounds: number;
  readonly warmup: number;
  readonly objects: number;
  readonly skipFanout: boolean;
  readonly keep: boolean;
  /** Only step c (memory), when "memory". */
  readonly only: "memory" | undefined;
  /** The sandbox's name: its own for each concurrent run on one machine (default bench-agent). */
  readonly sandbox: SandboxName;
}

function log(message: string): void {
  process.stderr.write(`[bench:agent] ${message}\n`);
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      pods: { type: "string", default: "10000" },
      fanout: { type: "string", default: "6000" },
      rounds: { type: "string", default: "20" },
      warmup: { type: "string", default: "3" },
      objects: { type: "string", default: "20" },
      "skip-fanout": { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      only: { type: "string" },
      sandbox: { type: "string", default: "bench-agent" },
    },
    strict: true,
  });
  return {
    pods: positiveInteger(values.pods, "--pods"),
    fanout: positiveInteger(values.fanout, "--fanout"),
    rounds: positiveInteger(values.rounds, "--rounds"),
    warmup: positiveInteger(values.warmup, "--warmup"),
    objects: positiveInteger(values.objects, "--objects"),
    skipFanout: values["skip-fanout"],
    keep: values.keep,
    only: onlyStep(values.only),
    sandbox: SandboxName.parse(values.sandbox, "--sandbox"),
  };
}

function onlyStep(text: string | undefined): "memory" | undefined {
  if (text === undefined || text === "memory") return text;
  throw new Error(`--only: "${text}" is not a step this benchmark can run alone (memory)`);
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag}: "${text}" is not a whole number >= 1`);
  return value;
}

function workloadsFor(options: Options): number {
  return Math.ceil(options.fanout / fanoutPerWorkload);
}

/** Pods the fan-out phase needs: 100 per workload, or the fleet if it is larger. */
function fanoutFleetSize(options: Options): number {
  return Math.max(options.pods, workloadsFor(options) * 2 * fanoutPerWorkload);
}

function nodesFor(options: Options): number {
  const pods = options.skipFanout || options.only === "memory" ? options.pods : fanoutFleetSize(options);
  return Math.min(500, Math.max(3, Math.ceil(pods / podsPerNode)));
}

/** Nearest-rank percentile of a sample. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function kubectlApply(kubectl: string, kubeconfig: string, path: string): Promise<void> {
  const args = ["apply", "--server-side", "-f", path, "--kubeconfig", kubeconfig];
  const child = spawn(kubectl, args, { stdio: ["ignore", "ignore", "pipe"] });
  const stderr = collect(child.stderr);
  const exit = await exitOf(child, "kubectl apply", 120_000);
  if (exit.code !== 0) throw new Error(`kubectl apply -f ${path} failed: ${stderr()}`);
}

async function growFleet(
  kube: KubeClients,
  fleet: AgentFleet,
  range: { from: number; to: number; fanoutBelow: number; nodes: number },
): Promise<void> {
  const pods = [];
  for (let index = range.from; index < range.to; index += 1) {
    pods.push(fleetPod(fleet, { index, nodes: range.nodes, fanout: index < range.fanoutBelow }));
  }
  const started = Date.now();
  await addPods(kube, fleet, pods);
  log(`  ${fleet.namespace}: ${pods.length} pods created in ${Date.now() - started} ms`);
  await waitAllReady(kube, fleet.namespace, 5 * 60_000);
  log(`  ${fleet.namespace}: all Ready ${Date.now() - started} ms after the first create`);
}

interface AgentMemory {
  readonly after10sMiB: number;
  readonly after30sMiB: number;
  /** The peak resident set (VmHWM) until then: the first LIST included. */
  readonly peakMiB: number;
}

interface MemoryResult {
  readonly cacheTrimmedMiB: number;
  readonly cacheFullMiB: number;
  readonly cacheBaselineMiB: number;
  /** The heap the synced cache holds (after a full GC), trimmed and whole. */
  readonly cacheHeapTrimmedMiB: number;
  readonly cacheHeapFullMiB: number;
  /** The agent process with Node's default heap settings. */
  readonly agentDefaults: AgentMemory;
  /** The agent process with the image's Node flags and environment (imageNodeFlags, imageEnvironment). */
  readonly agentImage: AgentMemory;
  /** `broadside --version`: Node and the CLI's start-up alone. */
  readonly versionMiB: number;
  readonly podsCached: number;
}

/** The pod cache alone, in a child process, trimmed or whole. */
async function cacheRss(kubeconfig: string, mode: "trim" | "full") {
  const script = join(repoRoot, "bench", "agent", "informer-rss.ts");
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", script, kubeconfig, mode], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const out = collect(child.stdout);
  const exit = await exitOf(child, `informer-rss ${mode}`, 15 * 60_000);
  if (exit.code !== 0) throw new Error(`informer-rss ${mode} failed`);
  const parsed: unknown = JSON.parse(out());
  return parsed as { pods: number; rssBeforeMiB: number; rssSyncedMiB: number; cacheHeapMiB: number };
}

/**
 * The resident set of a process that has just run `broadside --version` (Node and the CLI's start-up),
 * read from its own /proc once the command has finished: the CLI is imported in a plain Node process.
 */
async function versionRss(): Promise<number> {
  const bin = join(repoRoot, "bin", "broadside.js");
  const code = [
    `process.argv = [process.argv[0], ${JSON.stringify(bin)}, "--version"];`,
    `await import(${JSON.stringify(pathToFileURL(bin).href)});`,
    `const status = (await import("node:fs")).readFileSync("/proc/self/status", "utf8");`,
    `process.stdout.write("rss " + /^VmRSS:\\s+(\\d+) kB$/m.exec(status)[1] + "\\n");`,
  ].join("\n");
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const out = collect(child.stdout);
  const exit = await exitOf(child, "broadside --version", 60_000);
  const kib = /^rss (\d+)$/m.exec(out())?.[1];
  if (exit.code !== 0 || kib === undefined) throw new Error(`broadside --version failed: ${out()}`);
  return Number(kib) / 1024;
}

interface Run {
  readonly memory: MemoryResult;
  readonly warm: readonly WarmShot[];
  readonly firstDelete: readonly number[];
  readonly fanOut: FanOutResult | undefined;
}

/** Step c: the pod cache alone (trimmed, then whole), then a real agent process once ready. */
async function measureMemory(kubeconfig: string, logDir: string): Promise<MemoryResult> {
  log("c. memory: the pod cache, trimmed then whole, each in a child process");
  const trimmed = await cacheRss(kubeconfig, "trim");
  const full = await cacheRss(kubeconfig, "full");
  log("c. memory: the agent process, with Node's defaults then with the image's flags");
  const agentDefaults = await agentMemory(kubeconfig, join(logDir, "agent-memory.log"), {});
  const agentImage = await agentMemory(kubeconfig, join(logDir, "agent-memory-image.log"), {
    nodeFlags: imageNodeFlags,
    env: imageEnvironment,
  });
  return {
    cacheTrimmedMiB: trimmed.rssSyncedMiB,
    cacheFullMiB: full.rssSyncedMiB,
    cacheBaselineMiB: trimmed.rssBeforeMiB,
    cacheHeapTrimmedMiB: trimmed.cacheHeapMiB,
    cacheHeapFullMiB: full.cacheHeapMiB,
    agentDefaults,
    agentImage,
    versionMiB: await versionRss(),
    podsCached: trimmed.pods,
  };
}

/** A real agent process: its resident set 10 s and 30 s after ready, and its peak until then. */
async function agentMemory(
  kubeconfig: string,
  logFile: string,
  settings: { readonly nodeFlags?: readonly string[]; readonly env?: Readonly<Record<string, string>> },
): Promise<AgentMemory> {
  const agent = await startAgent(repoRoot, kubeconfig, logFile, settings);
  try {
    await sleep(10_000);
    const after10sMiB = await residentMiB(agent.pid);
    await sleep(20_000);
    const after30sMiB = await residentMiB(agent.pid);
    const peakMiB = await peakResidentMiB(agent.pid);
    const flags = settings.nodeFlags === undefined ? "Node's defaults" : "the image's settings";
    log(
      `  agent (${flags}): ${after10sMiB.toFixed(1)} / ${after30sMiB.toFixed(1)} MiB after 10 s / 30 s, peak ${peakMiB.toFixed(1)} MiB`,
    );
    return { after10sMiB, after30sMiB, peakMiB };
  } finally {
    await agent.stop();
  }
}

async function runAll(options: Options, env: SandboxEnvironment, logDir: string): Promise<Run> {
  const nodes = nodesFor(options);
  const state = await sandboxUp({ name: options.sandbox, nodes, lifecycle: fastLifecycle }, env);
  const kubeconfig = state.adminKubeconfig;
  const config = readConfig(process.env);
  const kube = connect({ kubeconfigPath: kubeconfig, limits: setupLimits });
  await kubectlApply(binaryPaths(config.cacheDir).kubectl, kubeconfig, join(repoRoot, "deploy", "crds"));
  const workloads = workloadsFor(options);
  const fleet = await createFleet(kube, "bench-agent", workloads);
  log(`filling ${fleet.namespace}: ${options.pods} pods over ${workloads} workloads on ${nodes} kwok nodes`);
  await growFleet(kube, fleet, { from: 0, to: options.pods, fanoutBelow: options.fanout, nodes });
  const other = await createFleet(kube, "bench-agent-meanwhile", 1);
  await growFleet(kube, other, { from: 0, to: 10, fanoutBelow: 0, nodes });

  const memory = await measureMemory(kubeconfig, logDir);
  if (options.only === "memory") return { memory, warm: [], firstDelete: [], fanOut: undefined };

  log("a. warm shots");
  const engine = connectEngine(config, { out: log, err: log }, { kubeconfig, optIn: true });
  const ctx = { ...engine.ctx, progress: () => undefined };
  const cache = new PodCache({ watches: ctx.watches, clock: ctx.clock, fallback: ctx.podFacts });
  await cache.start();
  const warm = await warmShots({ kube, ctx, cache, fleet }, options.rounds, options.warmup, log);
  await cache.stop();

  const deletions = new DeletionLog(kube);
  await deletions.start();
  // As deployed: the image's Node flags, so steps b and d time the agent whose memory step c reports.
  const agent = await startAgent(repoRoot, kubeconfig, join(logDir, "agent.log"), {
    nodeFlags: imageNodeFlags,
    env: imageEnvironment,
  });
  try {
    log("b. time to first DELETE");
    const firstDelete = await firstDeletes(kube, fleet, deletions, options.objects, log);
    const fanOutResult = options.skipFanout
      ? undefined
      : await runFanOut(
          kube,
          options,
          fleet,
          other,
          deletions,
          agent.readyz.replace(/\/readyz$/, "/metrics"),
        );
    return { memory, warm, firstDelete, fanOut: fanOutResult };
  } finally {
    await agent.stop();
    await deletions.stop();
  }
}

async function runFanOut(
  kube: KubeClients,
  options: Options,
  fleet: AgentFleet,
  other: AgentFleet,
  deletions: DeletionLog,
  metricsUrl: string,
): Promise<FanOutResult> {
  const target = fanoutFleetSize(options);
  const nodes = nodesFor(options);
  log(`d. fan-out: growing ${fleet.namespace} to ${target} pods (100 ready per workload)`);
  const extra = { from: options.pods, to: target, fanoutBelow: options.fanout, nodes };
  if (target > options.pods) await growFleet(kube, fleet, extra);
  const qps = defaultApiRateLimits.qps;
  const fanOutOptions = { pods: options.fanout, qps, timeoutMs: 30 * 60_000, metricsUrl };
  return fanOut(kube, fleet, other, deletions, fanOutOptions, log);
}

/** The fan-out's first DELETE, and what the agent sent meanwhile: requests per pod, by verb. */
function fanOutRequests(fan: FanOutResult): string {
  const first = `first DELETE ${fan.firstDeleteMs.toFixed(0)} ms after the create`;
  const requests = fan.agentRequests;
  if (requests === undefined) return `${first}; the agent's request counts were not readable`;
  const total = Object.values(requests).reduce((sum, count) => sum + count, 0);
  const verbs = Object.entries(requests)
    .sort(([, a], [, b]) => b - a)
    .map(([verb, count]) => `${verb} ${count}`)
    .join(", ");
  return `${first}; the agent sent ${total} requests meanwhile (${(total / fan.pods).toFixed(2)} per pod): ${verbs}`;
}

function markdown(options: Options, run: Run): string {
  const lines = [
    ...(options.only === "memory" ? [] : shotLines(options, run)),
    `### Memory (${run.memory.podsCached} pods cached)`,
    "",
    `The cache's own heap (after a full GC): ${run.memory.cacheHeapTrimmedMiB.toFixed(1)} MiB trimmed, ${run.memory.cacheHeapFullMiB.toFixed(1)} MiB whole.`,
    "",
    "| process | resident set |",
    "| --- | --- |",
    `| pod cache alone, trimmed | ${run.memory.cacheTrimmedMiB.toFixed(1)} MiB |`,
    `| pod cache alone, whole objects | ${run.memory.cacheFullMiB.toFixed(1)} MiB |`,
    `| the same process before syncing (tsx loaded) | ${run.memory.cacheBaselineMiB.toFixed(1)} MiB |`,
    `| broadside --version | ${run.memory.versionMiB.toFixed(1)} MiB |`,
    ...agentRows("Node's defaults", run.memory.agentDefaults),
    ...agentRows(
      `the image's settings (${imageNodeFlags.join(" ")}, MALLOC_ARENA_MAX=${imageEnvironment.MALLOC_ARENA_MAX})`,
      run.memory.agentImage,
    ),
  ];
  const fan = run.fanOut;
  if (fan !== undefined) {
    lines.push(
      "",
      `### Fan-out (mode all over ${fan.pods} pods at ${defaultApiRateLimits.qps} QPS)`,
      "",
      `done in ${(fan.durationMs / 1000).toFixed(1)} s = ${(fan.durationMs / fan.minimumMs).toFixed(2)}× the limit's minimum of ${(fan.minimumMs / 1000).toFixed(0)} s; ` +
        `a second PodChaos created at ${(fan.secondCreatedAfterMs / 1000).toFixed(1)} s got its first DELETE ${fan.secondFirstDeleteMs === undefined ? "never" : ms(fan.secondFirstDeleteMs)} later`,
      "",
      fanOutRequests(fan),
    );
  }
  return `${lines.join("\n")}\n`;
}

function agentRows(flags: string, memory: AgentMemory): string[] {
  const mib = (value: number) => `${value.toFixed(1)} MiB`;
  return [
    `| broadside agent, ${flags}, 10 s / 30 s after ready | ${mib(memory.after10sMiB)} / ${mib(memory.after30sMiB)} |`,
    `| broadside agent, ${flags}, peak (VmHWM) | ${mib(memory.peakMiB)} |`,
  ];
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

/** The warm shot's and the time to first DELETE's tables. */
function shotLines(options: Options, run: Run): string[] {
  const of = (kind: WarmShot["kind"]) => run.warm.filter((shot) => shot.kind === kind).map((shot) => shot.ms);
  const raw = of("raw");
  const rows = (["raw", "pick", "engine"] as const).map((kind) => {
    const values = of(kind);
    const ratio = percentile(values, 50) / percentile(raw, 50);
    return `| ${kind} | ${ms(percentile(values, 50))} | ${ms(percentile(values, 99))} | ${ratio.toFixed(2)}× |`;
  });
  return [
    `### Warm shot (1 of ${options.pods} pods, ${options.rounds} rounds)`,
    "",
    "| path | p50 | p99 | p50 / raw p50 |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
    `### Time to first DELETE (${options.objects} PodChaos)`,
    "",
    `p50 ${ms(percentile(run.firstDelete, 50))}, p99 ${ms(percentile(run.firstDelete, 99))}, max ${ms(Math.max(...run.firstDelete))}`,
    "",
  ];
}

async function writeResults(document: object, startedAt: Date): Promise<string> {
  const dir = join(repoRoot, "bench", "results");
  await mkdir(dir, { recursive: true });
  const stamp = startedAt.toISOString().slice(0, 19).replace(/:/g, "-");
  const file = join(dir, `agent-${stamp}Z.json`);
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  return file;
}

function machine() {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: loadavg(),
    versions: { kubernetes: kubernetesVersion, kwok: kwokVersion },
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const machineAtStart = machine();
  const io = {
    out: (text: string) => process.stderr.write(text),
    err: (text: string) => process.stderr.write(text),
  };
  const env: SandboxEnvironment = { ...sandboxEnvironment(readConfig(process.env), io), onProgress: log };
  const logDir = await mkdtemp(join(tmpdir(), "broadside-bench-agent-"));
  try {
    if (await sandboxDown(env, options.sandbox)) log(`stopped a leftover sandbox "${options.sandbox}"`);
    const run = await runAll(options, env, logDir);
    process.stdout.write(markdown(options, run));
    const document = {
      command: ["npm", "run", "bench:agent", "--", ...process.argv.slice(2)].join(" "),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: machineAtStart,
      loadAverageAtEnd: loadavg(),
      options,
      run,
    };
    log(`results: ${relative(repoRoot, await writeResults(document, startedAt))}`);
  } finally {
    if (options.keep) log(`--keep: sandbox "${options.sandbox}" left up; agent log in ${logDir}`);
    else {
      await sandboxDown(env, options.sandbox);
      await rm(logDir, { recursive: true, force: true });
    }
  }
}

await main();

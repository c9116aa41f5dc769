// Shot latency: Broadside against its peers, side by side in one run.
//
//   npm run bench -- [--sizes 100,1000,10000] [--peers broadside,kubectl,chaostoolkit,raw] [--rounds 5] [--keep]
//     [--sandbox bench-shot]
//
// Starts its own sandbox "bench-shot" (or --sandbox's name; stopped at the end unless --keep) and, per size N, fills a namespace
// bench-N with N bare pods. Then it alternates, round by round, one shot by each tool asked for:
// `broadside kill` (mode one, --unsafe: a bare pod is its own one-pod workload, which the blast-radius
// cap would spare), the classic kubectl script
//   kubectl get pods -l app=X -o name | sort --random-sort | head -n 1 | xargs kubectl delete
// Chaos Toolkit's terminate_pods (from a venv this benchmark builds, see shot-latency/chaostoolkit.ts),
// and the raw LIST + DELETE over fresh TLS connections (the physical limit). Every process is spawned
// with an argv array, no shell, under a python3 wrapper that reports its peak RSS. Markdown tables go to
// stdout and nothing else; progress goes to stderr; every measurement goes to
// bench/results/shot-latency-<start time>.json. See docs/benchmarks.md.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { readConfig } from "../src/cli/config.js";
import { sandboxEnvironment } from "../src/cli/sandbox-commands.js";
import { connect, type KubeClients } from "../src/kube/client.js";
import { nodeName } from "../src/sandbox/bootstrap.js";
import { binaryPaths } from "../src/sandbox/build.js";
import { SandboxName } from "../src/sandbox/sandbox-name.js";
import { sandboxDown, sandboxUp, type SandboxEnvironment } from "../src/sandbox/sandbox.js";
import { etcdVersion, kubernetesVersion, kwokVersion } from "../src/sandbox/versions.js";
import { createFleet, replaceVictim, type Fleet } from "./shot-latency/fleet.js";
import {
  chaosArgs,
  chaostoolkitVersions,
  ensureVenv,
  writeExperiment,
  type Venv,
} from "./shot-latency/chaostoolkit.js";
import { fanOut, fanOutTable } from "./shot-latency/fan-out.js";
import { collect, exitOf } from "./shot-latency/processes.js";
import { rawClient, requestDelta, scrapeRequests, type RawClient } from "./shot-latency/raw.js";
import {
  breakdownTable,
  exitTable,
  goals,
  goalsTable,
  latencyTable,
  memoryTable,
  requestsTable,
  summarize,
  toolOrder,
  type SizeResult,
} from "./shot-latency/report.js";
import {
  broadsideArgs,
  broadsideShot,
  chaostoolkitShot,
  kubectlDeleteArgs,
  kubectlGetArgs,
  kubectlShot,
  rawShot,
  startupFloor,
  type ShotMeasurement,
  type ShotTarget,
  type Tool,
} from "./shot-latency/shots.js";
import { fastLifecycle, podsPerNode, repoRoot } from "./settings.js";

// Not "bench": other benchmarks may run their own sandbox at the same time; --sandbox names another.
const defaultSandboxName = "bench-shot";
const maxNodes = 500;
/** High client-side limits for setting up the fleets (the tools measured use their own defaults). */
const setupLimits = { qps: 500, burst: 1000, maxRetries: 5 };

interface Options {
  readonly sizes: readonly number[];
  /** The tools, in the order each round runs them. */
  readonly peers: readonly Tool[];
  readonly rounds: number;
  /** Pods of the fan-out measurement (`kill --mode all`), 0 for none. */
  readonly fanOut: number;
  /** Leave the sandbox up at the end, to explore what was measured. */
  readonly keep: boolean;
  /** The sandbox the run starts (and stops, unless --keep). */
  readonly sandboxName: SandboxName;
}

interface Bench {
  readonly options: Options;
  readonly kube: KubeClients;
  readonly kubeconfig: string;
  readonly kubectl: string;
  /** kubectl's --cache-dir, the wrappers' reports, Chaos Toolkit's experiments, journal and log. */
  readonly scratch: string;
  readonly raw: RawClient;
  readonly venv: Venv | undefined;
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sizes: { type: "string", default: "100,1000,10000" },
      peers: { type: "string", default: toolOrder.join(",") },
      rounds: { type: "string", default: "5" },
      "fan-out": { type: "string", default: "0" },
      keep: { type: "boolean", default: false },
      sandbox: { type: "string", default: defaultSandboxName },
    },
    strict: true,
  });
  const sandboxName = SandboxName.parse(values.sandbox, "--sandbox");
  // --sizes "" measures no shot size, for a run of --fan-out alone.
  const sizes =
    values.sizes === "" ? [] : values.sizes.split(",").map((text) => positiveInteger(text, "--sizes"));
  const rounds = positiveInteger(values.rounds, "--rounds");
  const fanOut = values["fan-out"] === "0" ? 0 : positiveInteger(values["fan-out"], "--fan-out");
  const total = sizes.reduce((sum, size) => sum + size, fanOut);
  if (total > podsPerNode * maxNodes) {
    throw new Error(
      `--sizes: at most ${podsPerNode * maxNodes} pods in all (${maxNodes} nodes), got ${total}`,
    );
  }
  if (new Set(sizes).size !== sizes.length) throw new Error("--sizes: each size once");
  return { sizes, peers: parsePeers(values.peers), rounds, fanOut, keep: values.keep, sandboxName };
}

function parsePeers(text: string): Tool[] {
  const peers = text.split(",").map((name) => name.trim());
  for (const name of peers) {
    if (!toolOrder.some((tool) => tool === name)) {
      throw new Error(`--peers: "${name}" is not one of ${toolOrder.join(", ")}`);
    }
  }
  if (new Set(peers).size !== peers.length) throw new Error("--peers: each tool once");
  return toolOrder.filter((tool) => peers.includes(tool));
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag}: "${text}" is not a whole number >= 1`);
  return value;
}

function nodesFor(options: Options): number {
  const total = options.sizes.reduce((sum, size) => sum + size, options.fanOut);
  return Math.min(maxNodes, Math.max(3, Math.ceil(total / podsPerNode)));
}

interface Round {
  readonly shots: ShotMeasurement[];
  readonly floors: Partial<Record<Tool, number>>;
}

/** A random pod of the fleet, for the raw DELETE (which, unlike the tools, is told its victim). */
function anyPod(fleet: Fleet): string {
  const names = [...fleet.nodes.keys()];
  const name = names[Math.floor(Math.random() * names.length)];
  if (name === undefined) throw new Error(`${fleet.namespace} has no pod left`);
  return name;
}

function shotBy(bench: Bench, fleet: Fleet, tool: Tool): Promise<ShotMeasurement> {
  const target: ShotTarget = {
    kubeconfig: bench.kubeconfig,
    namespace: fleet.namespace,
    selector: fleet.selector,
  };
  switch (tool) {
    case "broadside":
      return broadsideShot(repoRoot, target, bench.scratch);
    case "kubectl":
      return kubectlShot(bench.kubectl, target, bench.scratch, bench.scratch);
    case "chaostoolkit": {
      const venv = needVenv(bench);
      return writeExperiment(bench.scratch, fleet.namespace, fleet.selector).then((file) =>
        chaostoolkitShot(venv.chaos, file, target, bench.scratch),
      );
    }
    case "raw":
      return rawShot(bench.raw, target, anyPod(fleet));
  }
}

function needVenv(bench: Bench): Venv {
  if (bench.venv === undefined) throw new Error("the Chaos Toolkit venv was not built");
  return bench.venv;
}

/** One shot, with the API server's request counter scraped just before and just after it. */
async function countedShot(bench: Bench, fleet: Fleet, tool: Tool): Promise<ShotMeasurement> {
  const before = await scrapeRequests(bench.raw);
  const shot = await shotBy(bench, fleet, tool);
  const after = await scrapeRequests(bench.raw);
  return { ...shot, serverCounted: requestDelta(before, after) };
}

/** The start-up floor of each process tool asked for: a command that starts, sends nothing and exits. */
async function floorsOf(bench: Bench): Promise<Partial<Record<Tool, number>>> {
  const floors: Partial<Record<Tool, number>> = {};
  const argv: Partial<Record<Tool, [string, ...string[]]>> = {
    broadside: [process.execPath, join(repoRoot, "bin", "broadside.js"), "--version"],
    kubectl: [bench.kubectl, "version", "--client"],
    ...(bench.venv === undefined
      ? {}
      : { chaostoolkit: [bench.venv.chaos, "--no-version-check", "--version"] }),
  };
  for (const tool of bench.options.peers) {
    const command = argv[tool];
    if (command !== undefined) floors[tool] = await startupFloor(tool, command, bench.scratch);
  }
  return floors;
}

function describeShot(shot: ShotMeasurement): string {
  const server = Object.values(shot.serverCounted ?? {}).reduce((a, b) => a + b, 0);
  const rss = shot.maxRssKiB === undefined ? "" : `, ${Math.round(shot.maxRssKiB / 1024)} MiB`;
  return `${shot.tool} ${Math.round(shot.latencyMs)} ms (exit ${Math.round(shot.exitMs)}), ${server} requests${rss}`;
}

/**
 * One round: a shot by each tool in turn, each victim recreated before the next shot; then each
 * tool's start-up floor.
 */
async function oneRound(bench: Bench, fleet: Fleet, counted: boolean): Promise<Round> {
  const shots: ShotMeasurement[] = [];
  for (const tool of bench.options.peers) {
    const shot = await countedShot(bench, fleet, tool);
    await replaceVictim(bench.kube, fleet, shot.victim);
    shots.push(shot);
  }
  const floors = await floorsOf(bench);
  const floorText = Object.entries(floors)
    .map(([tool, value]) => `${tool} ${value}`)
    .join(", ");
  log(
    `  ${fleet.namespace}${counted ? "" : " (warm-up)"}: ${shots.map(describeShot).join("; ")}; floors ${floorText} ms`,
  );
  return { shots, floors };
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
  const nodes = nodesFor(options);
  const { fleet, timings } = await createFleet(
    bench.kube,
    pods,
    (i) => nodeName((firstIndex + i) % nodes),
    log,
  );
  const bytes = await listBytes(bench, fleet.namespace);
  if (bench.options.peers.includes("chaostoolkit"))
    await writeExperiment(bench.scratch, fleet.namespace, fleet.selector);
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
    floors: Object.fromEntries(
      bench.options.peers.flatMap((tool) => {
        const values = rounds.flatMap((round) =>
          round.floors[tool] === undefined ? [] : [round.floors[tool]],
        );
        return values.length === 0 ? [] : [[tool, values]];
      }),
    ),
  };
}

/** The fan-out: N more pods in their own namespace, then one `kill --mode all` over them. */
async function benchFanOut(bench: Bench, firstIndex: number) {
  const pods = bench.options.fanOut;
  const namespace = `bench-fanout-${pods}`;
  log(`fan-out ${pods}: creating the fleet`);
  const nodes = nodesFor(bench.options);
  const { fleet, timings } = await createFleet(
    bench.kube,
    pods,
    (i) => nodeName((firstIndex + i) % nodes),
    log,
    namespace,
  );
  const target: ShotTarget = { kubeconfig: bench.kubeconfig, namespace, selector: fleet.selector };
  const before = await scrapeRequests(bench.raw);
  const measured = await fanOut(repoRoot, target, pods, bench.scratch);
  const serverCounted = requestDelta(before, await scrapeRequests(bench.raw));
  log(
    `  ${namespace}: kill --mode all exited after ${Math.round(measured.exitMs)} ms (${measured.accepted} accepted, ${measured.refused} refused, ${measured.apiRequests} requests)`,
  );
  return { ...measured, fleet: timings, serverCounted };
}

async function runBenchmarks(
  options: Options,
  env: SandboxEnvironment,
  scratch: string,
  venv: Venv | undefined,
) {
  const state = await sandboxUp(
    { name: options.sandboxName, nodes: nodesFor(options), lifecycle: fastLifecycle },
    env,
  );
  const bench: Bench = {
    options,
    kube: connect({ kubeconfigPath: state.adminKubeconfig, limits: setupLimits }),
    kubeconfig: state.adminKubeconfig,
    kubectl: binaryPaths(readConfig(process.env).cacheDir).kubectl,
    scratch,
    raw: await rawClient(state.adminKubeconfig),
    venv,
  };
  const results: SizeResult[] = [];
  let firstIndex = 0;
  for (const pods of options.sizes) {
    results.push(await benchSize(bench, pods, firstIndex, options));
    firstIndex += pods;
  }
  const fanOutResult = options.fanOut === 0 ? undefined : await benchFanOut(bench, firstIndex);
  return {
    results,
    fanOut: fanOutResult,
    template: templates(bench),
    chaostoolkit: venv === undefined ? undefined : { versions: chaostoolkitVersions, pipFreeze: venv.freeze },
  };
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
    chaostoolkit: [
      bench.venv?.chaos ?? "chaos",
      ...chaosArgs("experiment-bench-N.json", "journal.json", "chaostoolkit.log"),
    ],
    raw: [
      "GET /api/v1/namespaces/bench-N/pods?labelSelector=app%3Dbench-N",
      "DELETE /api/v1/namespaces/bench-N/pods/NAME?gracePeriodSeconds=0",
    ],
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
  const checks = goals(summaries);
  const sections: string[][] = [
    [
      "Milliseconds from start to the DELETE accepted, median (min-max); ratios of the medians",
      latencyTable(summaries),
    ],
    ["Milliseconds from start to the last process's exit, median (min-max)", exitTable(summaries)],
    [
      "API requests: the tool's own count to the DELETE; server: apiserver_request_total around the shot, to exit",
      requestsTable(summaries),
    ],
    ["Peak RSS per process, MiB, median (min-max)", memoryTable(summaries)],
    ["Where the time goes (medians, ms)", breakdownTable(summaries)],
    ["Issue 14's goals", goalsTable(checks)],
  ].filter(() => summaries.length > 0);
  if (run.fanOut !== undefined)
    sections.push(["Fan-out: one cold kill --mode all at the default 50 QPS", fanOutTable(run.fanOut)]);
  process.stdout.write(sections.map(([title, body]) => `**${title}**\n\n${body}`).join("\n"));
  const document = {
    command: ["npm", "run", "bench", "--", ...process.argv.slice(2)].join(" "),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machineAtStart,
    loadAverageAtEnd: loadavg(),
    sandbox: {
      name: options.sandboxName,
      nodes: nodesFor(options),
      podsPerNode,
      lifecycle: "every kwok stage delay 0 ms; pods have terminationGracePeriodSeconds 1",
    },
    rounds: options.rounds,
    peers: options.peers,
    argv: run.template,
    chaostoolkit: run.chaostoolkit,
    summaries,
    goals: checks,
    results: run.results,
    fanOut: run.fanOut,
  };
  log(`results: ${relative(repoRoot, await writeResults(document, startedAt))}`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const { sandboxName } = options;
  const startedAt = new Date();
  const machineAtStart = await machine();
  const io = {
    out: (text: string) => process.stderr.write(text),
    err: (text: string) => process.stderr.write(text),
  };
  const env: SandboxEnvironment = { ...sandboxEnvironment(readConfig(process.env), io), onProgress: log };
  // Before the sandbox: a venv that cannot be built stops the run before anything starts.
  const venv = options.peers.includes("chaostoolkit") ? await ensureVenv(log) : undefined;
  const scratch = await mkdtemp(join(tmpdir(), "broadside-bench-shot-"));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      log(`stopping sandbox "${sandboxName}"`);
      await sandboxDown(env, sandboxName);
      await rm(scratch, { recursive: true, force: true });
    })());
  process.once("SIGINT", () => {
    log("interrupted");
    void stop().finally(() => process.exit(130));
  });
  try {
    // A "bench" sandbox left by an interrupted run may have other pod timings: start from nothing.
    if (await sandboxDown(env, sandboxName)) log(`stopped a leftover sandbox "${sandboxName}"`);
    await report(options, await runBenchmarks(options, env, scratch, venv), startedAt, machineAtStart);
  } finally {
    if (options.keep) {
      log(
        `--keep: sandbox "${sandboxName}" left up; stop it with: npx broadside sandbox down --name ${sandboxName}`,
      );
      log(`--keep: the scratch dir ${scratch} (kubectl's cache, Chaos Toolkit's journal) left in place`);
    } else {
      await stop();
    }
  }
}

await main();

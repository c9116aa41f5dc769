// Event-to-screen lag on the GameDay board (issue 11, "Benchmark"): with N pods on the board, how long from
// the API server accepting a change to the spectators' stream (what the screen reads) telling it?
//
//   npm run bench:board -- [--sizes 10000] [--per-ship 100] [--rounds 30] [--gap-ms 1000]
//                          [--sandbox bench-board] [--keep]
//
// Starts its own sandbox (--sandbox, default "bench-board"; stopped at the end unless --keep) with one kwok
// node per 100 pods of the largest size (+1 for replacements) and fast kwok stages, fills namespace
// board-bench with Deployments of --per-ship pods (bench/board/fleet.ts), starts a real `broadside board`
// (the compiled CLI), has a ServiceAccount operator open a game on the namespace and follows the
// spectators' stream. At each size (increasing: the fleet only grows; the game is reopened so the board
// lists the whole fleet), --rounds rounds, one after another, --gap-ms apart: a random Ready pod is
// DELETEd over a kept-alive connection (its default 1 s grace, as a kill), and the lag is the time from
// the DELETE's answer to the stream's `sea` kill event for that pod (both stamped in this process with
// performance.now()). Markdown goes to stdout, progress to stderr, every measurement to
// bench/results/board-<start>.json. See docs/benchmarks.md. Nothing here is part of `npm test`.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, request, type RequestOptions } from "node:https";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { readConfig } from "../src/cli/config.js";
import { sandboxEnvironment } from "../src/cli/sandbox-commands.js";
import { connect, type KubeClients } from "../src/kube/client.js";
import { SandboxName } from "../src/sandbox/sandbox-name.js";
import { sandboxDown, sandboxUp, type SandboxEnvironment } from "../src/sandbox/sandbox.js";
import { kubernetesVersion, kwokVersion } from "../src/sandbox/versions.js";
import { peakResidentMiB, residentMiB } from "./agent/rss.js";
import { createNamespace } from "./agent/fleet.js";
import {
  closeGame,
  followStream,
  openGame,
  operatorToken,
  readyCells,
  startBoard,
  type BoardProcess,
  type SeaArrival,
} from "./board/board-process.js";
import { addShips, boardNamespace, readyPods, waitReady } from "./board/fleet.js";
import { fastLifecycle, podsPerNode, repoRoot } from "./settings.js";

/** The goal: a change on the screen within 1 s of the API accepting it. */
const goalMs = 1_000;
const setupLimits = { qps: 300, burst: 600, maxRetries: 5 };
/** A kill event not on the stream after this long counts as lost (and fails the run). */
const lostAfterMs = 30_000;

interface Options {
  readonly sizes: readonly number[];
  readonly perShip: number;
  readonly rounds: number;
  readonly gapMs: number;
  readonly keep: boolean;
  readonly sandbox: SandboxName;
}

function log(message: string): void {
  process.stderr.write(`[bench:board] ${message}\n`);
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sizes: { type: "string", default: "10000" },
      "per-ship": { type: "string", default: "100" },
      rounds: { type: "string", default: "30" },
      "gap-ms": { type: "string", default: "1000" },
      keep: { type: "boolean", default: false },
      sandbox: { type: "string", default: "bench-board" },
    },
    strict: true,
  });
  const perShip = positiveInteger(values["per-ship"], "--per-ship");
  const sizes = values.sizes.split(",").map((size) => positiveInteger(size, "--sizes"));
  for (const [index, size] of sizes.entries()) {
    if (size % perShip !== 0) throw new Error(`--sizes: ${size} is not a multiple of --per-ship ${perShip}`);
    if (index > 0 && size <= (sizes[index - 1] ?? 0))
      throw new Error("--sizes: must increase (the fleet only grows)");
  }
  return {
    sizes,
    perShip,
    rounds: positiveInteger(values.rounds, "--rounds"),
    gapMs: positiveInteger(values["gap-ms"], "--gap-ms"),
    keep: values.keep,
    sandbox: SandboxName.parse(values.sandbox, "--sandbox"),
  };
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag}: "${text}" is not a whole number >= 1`);
  return value;
}

/** Nearest-rank percentile of a sample. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

interface Round {
  readonly pod: string;
  /** performance.now() stamps: DELETE sent, its answer read, the stream's kill event read. */
  readonly sentAt: number;
  readonly answeredAt: number;
  readonly seenAt: number | undefined;
  /** Answer to stream; undefined when the event never came. */
  readonly lagMs: number | undefined;
}

interface SizeResult {
  readonly pods: number;
  readonly ships: number;
  /** Cells holding a Ready pod on the board when the rounds started. */
  readonly boardPods: number;
  readonly listedMs: number;
  readonly rounds: readonly Round[];
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly lost: number;
  readonly boardResidentMiB: number;
  readonly boardPeakMiB: number;
  readonly loadAverage: readonly number[];
}

/** DELETEs over one kept-alive TLS connection with the kubeconfig's credentials (pod's default grace). */
interface Deleter {
  delete(name: string): Promise<number>;
  close(): void;
}

async function deleter(kube: KubeClients): Promise<Deleter> {
  const server = new URL(kube.config.getCurrentCluster()?.server ?? "");
  const options: RequestOptions = {};
  await kube.config.applyToHTTPSOptions(options);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = (method: string, path: string) =>
    new Promise<number>((resolve, reject) => {
      const sent = request(
        { ...options, agent, method, hostname: server.hostname, port: server.port, path },
        (response) => {
          response.resume();
          response.on("end", () => {
            resolve(response.statusCode ?? 0);
          });
        },
      );
      sent.on("error", reject);
      sent.end();
    });
  await send("GET", "/version");
  return {
    delete: (name) => send("DELETE", `/api/v1/namespaces/${boardNamespace}/pods/${encodeURIComponent(name)}`),
    close: () => {
      agent.destroy();
    },
  };
}

/** Resolves with the stream's arrival of the kill of `uid`, or undefined after `lostAfterMs`. */
function killOf(arrivals: Map<string, SeaArrival>, uid: string): Promise<SeaArrival | undefined> {
  return new Promise((resolve) => {
    const started = performance.now();
    const poll = (): void => {
      const arrival = arrivals.get(uid);
      if (arrival !== undefined || performance.now() - started > lostAfterMs) {
        resolve(arrival);
        return;
      }
      setTimeout(poll, 20);
    };
    poll();
  });
}

/** One kill: a random Ready pod DELETEd, and the stream's event for it awaited. */
async function oneRound(kube: KubeClients, raw: Deleter, arrivals: Map<string, SeaArrival>): Promise<Round> {
  const pods = await readyPods(kube);
  const victim = pods[Math.floor(Math.random() * pods.length)];
  const name = victim?.metadata?.name ?? "";
  const uid = victim?.metadata?.uid ?? "";
  const sentAt = performance.now();
  const status = await raw.delete(name);
  const answeredAt = performance.now();
  if (status !== 200) throw new Error(`DELETE of ${boardNamespace}/${name}: HTTP ${status}`);
  const seen = await killOf(arrivals, uid);
  const lagMs = seen === undefined ? undefined : seen.receivedAt - answeredAt;
  return { pod: name, sentAt, answeredAt, seenAt: seen?.receivedAt, lagMs };
}

async function measureRounds(
  kube: KubeClients,
  arrivals: Map<string, SeaArrival>,
  options: Options,
): Promise<Round[]> {
  const raw = await deleter(kube);
  const rounds: Round[] = [];
  try {
    for (let round = 0; round < options.rounds; round += 1) {
      const measured = await oneRound(kube, raw, arrivals);
      rounds.push(measured);
      const lag = measured.lagMs === undefined ? "LOST" : ms(measured.lagMs);
      log(`  round ${round + 1}/${options.rounds}: ${measured.pod} ${lag}`);
      await sleep(options.gapMs);
    }
  } finally {
    raw.close();
  }
  return rounds;
}

interface Rig {
  readonly kube: KubeClients;
  readonly board: BoardProcess;
  readonly token: string;
}

async function measureSize(rig: Rig, options: Options, pods: number): Promise<SizeResult> {
  const opening = performance.now();
  await openGame(rig.board.url, rig.token);
  const listedMs = performance.now() - opening;
  const arrivals = new Map<string, SeaArrival>();
  const stream = followStream(rig.board.url, (arrival) => {
    if (arrival.type === "kill" && !arrivals.has(arrival.podUid)) arrivals.set(arrival.podUid, arrival);
  });
  try {
    const boardPods = await readyCells(rig.board.url);
    log(
      `${pods} pods: the game opened in ${listedMs.toFixed(0)} ms with ${boardPods} Ready pods on the board`,
    );
    await sleep(2_000);
    const rounds = await measureRounds(rig.kube, arrivals, options);
    const lags = rounds.flatMap((round) => (round.lagMs === undefined ? [] : [round.lagMs]));
    return {
      pods,
      ships: pods / options.perShip,
      boardPods,
      listedMs,
      rounds,
      medianMs: percentile(lags, 50),
      p95Ms: percentile(lags, 95),
      maxMs: Math.max(...lags),
      lost: rounds.length - lags.length,
      boardResidentMiB: await residentMiB(rig.board.pid),
      boardPeakMiB: await peakResidentMiB(rig.board.pid),
      loadAverage: loadavg(),
    };
  } finally {
    stream.stop();
    await closeGame(rig.board.url, rig.token);
  }
}

async function runAll(
  options: Options,
  env: SandboxEnvironment,
  logDir: string,
  boards: Set<BoardProcess>,
): Promise<SizeResult[]> {
  const largest = options.sizes.at(-1) ?? 0;
  const nodes = Math.min(500, Math.max(3, Math.ceil(largest / podsPerNode) + 1));
  const state = await sandboxUp({ name: options.sandbox, nodes, lifecycle: fastLifecycle }, env);
  const kube = connect({ kubeconfigPath: state.adminKubeconfig, limits: setupLimits });
  await createNamespace(kube, boardNamespace);
  const token = await operatorToken(kube);
  const board = await startBoard(repoRoot, state.adminKubeconfig, join(logDir, "board.log"));
  boards.add(board);
  const results: SizeResult[] = [];
  try {
    let ships = 0;
    for (const pods of options.sizes) {
      const target = pods / options.perShip;
      log(
        `growing ${boardNamespace} to ${target} Deployments of ${options.perShip} pods on ${nodes} kwok nodes`,
      );
      const started = Date.now();
      await addShips(kube, { from: ships, to: target, perShip: options.perShip });
      ships = target;
      await waitReady(kube, pods, 60 * 60_000, log);
      log(`  all ${pods} Ready ${((Date.now() - started) / 1000).toFixed(0)} s after the first create`);
      results.push(await measureSize({ kube, board, token }, options, pods));
    }
  } finally {
    await board.stop();
  }
  return results;
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

function markdown(results: readonly SizeResult[], options: Options): string {
  const rows = results.map(
    (result) =>
      `| ${result.pods.toLocaleString("en")} | ${result.ships} × ${options.perShip} | ${result.rounds.length} | ${ms(result.medianMs)} | ${ms(result.p95Ms)} | ${ms(result.maxMs)} | ${result.lost} | ${result.maxMs <= goalMs && result.lost === 0 ? "met" : "not met"} | ${(result.listedMs / 1000).toFixed(1)} s | ${result.boardResidentMiB.toFixed(0)} / ${result.boardPeakMiB.toFixed(0)} MiB | ${result.loadAverage.map((load) => load.toFixed(1)).join(" ")} |`,
  );
  return [
    "| pods on the board | ships | rounds | median | p95 | max | lost | goal ≤ 1 s (max) | game open (lists) | board RSS / peak | load average (1, 5, 15 min) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}

async function writeResults(document: object, startedAt: Date): Promise<string> {
  const dir = join(repoRoot, "bench", "results");
  await mkdir(dir, { recursive: true });
  const stamp = startedAt.toISOString().slice(0, 19).replace(/:/g, "-");
  const file = join(dir, `board-${stamp}Z.json`);
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
  const logDir = await mkdtemp(join(tmpdir(), "broadside-bench-board-"));
  const boards = new Set<BoardProcess>();
  // Ctrl-C (or a SIGTERM) stops the board and the sandbox too, unless --keep. npm and tsx pass the signal
  // on as well, so it may come more than once: `on`, not `once`, or the second would kill us midway.
  let stopping: Promise<void> | undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping !== undefined) return;
      log(`${signal}: stopping`);
      stopping = (async () => {
        for (const board of boards) await board.stop();
        if (!options.keep) await sandboxDown(env, options.sandbox);
      })().finally(() => process.exit(130));
    });
  }
  try {
    if (await sandboxDown(env, options.sandbox)) log(`stopped a leftover sandbox "${options.sandbox}"`);
    const results = await runAll(options, env, logDir, boards);
    process.stdout.write(markdown(results, options));
    const document = {
      command: ["npm", "run", "bench:board", "--", ...process.argv.slice(2)].join(" "),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: machineAtStart,
      loadAverageAtEnd: loadavg(),
      goalMs,
      options,
      results,
    };
    log(`results: ${relative(repoRoot, await writeResults(document, startedAt))}`);
    if (results.some((result) => result.lost > 0)) process.exitCode = 1;
  } finally {
    if (options.keep) log(`--keep: sandbox "${options.sandbox}" left up; the board's log in ${logDir}`);
    else {
      await sandboxDown(env, options.sandbox);
      await rm(logDir, { recursive: true, force: true });
    }
  }
}

await main();

import { spawn } from "node:child_process";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import { rm } from "node:fs/promises";
import { chaosArgs, readJournal } from "./chaostoolkit.js";
import { spawnMeasured, type Usage } from "./measured.js";
import { collect, describeExit, exitOf, tail, type Exit } from "./processes.js";
import { rawDelete, rawList, type RawClient } from "./raw.js";

/** One shot at one random pod, by one tool, as the benchmark measured it. */
export interface ShotMeasurement {
  readonly tool: Tool;
  /** The pod the tool chose and deleted. */
  readonly victim: string;
  /**
   * From the epoch ms just before the tool's first process started (measured by the wrapper of
   * measured.ts, its own start-up excluded) to the DELETE being accepted; for Chaos Toolkit, to the end of
   * its action in the journal, right after the DELETE's answer. Raw: the LIST plus the DELETE.
   */
  readonly latencyMs: number;
  /** API requests sent until the DELETE was answered, as the tool reports them; undefined: it cannot. */
  readonly requestsToDelete?: number;
  /** API requests of the whole command, as the tool reports them. */
  readonly requestsTotal?: number;
  /**
   * The API server's own count of the requests during the shot, by verb (apiserver_request_total before
   * and after; see raw.ts countRequests), up to the tool's exit.
   */
  readonly serverCounted?: Record<string, number>;
  /** From the same start to the last process exiting. */
  readonly exitMs: number;
  /** The largest peak RSS of the tool's processes (KiB); kubectl: the larger of its two kubectls. */
  readonly maxRssKiB?: number;
  /** Broadside only: the CPU time (user and system) of its process, ms. */
  readonly cpuMs?: number;
  /** kubectl only: from the same start to head's exit, the victim chosen (get | sort | head). */
  readonly pickMs?: number;
  /** raw only: the two requests' own times. */
  readonly listMs?: number;
  readonly deleteMs?: number;
}

export type Tool = "broadside" | "kubectl" | "chaostoolkit" | "raw";

/** Where the shot is aimed: one namespace, one label selector, through one kubeconfig. */
export interface ShotTarget {
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly selector: string;
}

const processTimeoutMs = 120_000;

/** What the benchmark reads from `broadside kill -o json` (docs/cli.md); other fields are ignored. */
const killResultSchema = z.object({
  targets: z
    .array(z.object({ name: z.string(), shot: z.object({ accepted: z.literal(true), at: z.number() }) }))
    .length(1),
  apiRequests: z.number().int().nonnegative(),
});

/** The argv of Broadside's shot, after `node`. */
export function broadsideArgs(repoRoot: string, target: ShotTarget): string[] {
  return [
    join(repoRoot, "bin", "broadside.js"),
    "kill",
    "-n",
    target.namespace,
    "-l",
    target.selector,
    "--unsafe",
    "--no-wait",
    "--grace-period",
    "0",
    "-o",
    "json",
    "--kubeconfig",
    target.kubeconfig,
  ];
}

/**
 * `broadside kill ... --no-wait -o json`: one Node process. The latency is the shot's own `at` (the epoch
 * ms at which the API answered the DELETE, stamped inside the process) minus the moment before spawning.
 */
export async function broadsideShot(
  repoRoot: string,
  target: ShotTarget,
  scratch: string,
): Promise<ShotMeasurement> {
  const run = spawnMeasured(process.execPath, broadsideArgs(repoRoot, target), scratch, {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout = collect(pipeOf(run.child.stdout));
  const stderr = collect(pipeOf(run.child.stderr));
  const exit = await exitOf(run.child, "broadside kill", processTimeoutMs);
  if (exit.code !== 0) throw new Error(`broadside kill: ${describeExit(exit)}\n${tail(stderr())}`);
  const usage = await run.usage();
  const parsed = killResultSchema.safeParse(JSON.parse(stdout()));
  if (!parsed.success) throw new Error(`broadside kill: unexpected JSON: ${parsed.error.message}`);
  const [only] = parsed.data.targets;
  if (only === undefined) throw new Error("broadside kill: no target in the JSON result");
  return {
    tool: "broadside",
    victim: only.name,
    latencyMs: only.shot.at - usage.spawnedAt,
    // Broadside's count stops when the last shot's ledger record is closed; it sends nothing after that.
    requestsToDelete: parsed.data.apiRequests,
    requestsTotal: parsed.data.apiRequests,
    exitMs: usage.exitedAt - usage.spawnedAt,
    maxRssKiB: usage.maxRssKiB,
    cpuMs: usage.cpuMs,
  };
}

/** Chaos Toolkit's shot: `chaos --no-version-check run` of a one-action experiment, KUBECONFIG set. */
export async function chaostoolkitShot(
  chaos: string,
  experimentFile: string,
  target: ShotTarget,
  scratch: string,
): Promise<ShotMeasurement> {
  const journal = join(scratch, "journal.json");
  const logFile = join(scratch, "chaostoolkit.log");
  await rm(journal, { force: true });
  const run = spawnMeasured(chaos, chaosArgs(experimentFile, journal, logFile), scratch, {
    cwd: scratch,
    env: { ...process.env, KUBECONFIG: target.kubeconfig },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const stderr = collect(pipeOf(run.child.stderr));
  const exit = await exitOf(run.child, "chaos run", processTimeoutMs);
  if (exit.code !== 0) throw new Error(`chaos run: ${describeExit(exit)}\n${tail(stderr())}`);
  const usage = await run.usage();
  const { victim, actionEndedAt } = await readJournal(journal);
  return {
    tool: "chaostoolkit",
    victim,
    latencyMs: actionEndedAt - usage.spawnedAt,
    exitMs: usage.exitedAt - usage.spawnedAt,
    maxRssKiB: usage.maxRssKiB,
  };
}

/** The physical limit: the raw LIST, then the raw DELETE of a pod the benchmark names itself. */
export async function rawShot(
  client: RawClient,
  target: ShotTarget,
  victim: string,
): Promise<ShotMeasurement> {
  const list = await rawList(client, target.namespace, target.selector);
  const deletion = await rawDelete(client, target.namespace, victim);
  return {
    tool: "raw",
    victim,
    latencyMs: list.ms + deletion.ms,
    requestsToDelete: 2,
    requestsTotal: 2,
    exitMs: list.ms + deletion.ms,
    listMs: list.ms,
    deleteMs: deletion.ms,
  };
}

function pipeOf<T>(stream: T | null): T {
  if (stream === null) throw new Error("a child's pipe is missing");
  return stream;
}

/** The argv of the first kubectl: `kubectl get pods -l app=X -o name`. */
export function kubectlGetArgs(target: ShotTarget, cacheDir: string): string[] {
  return [
    "get",
    "pods",
    "-n",
    target.namespace,
    "-l",
    target.selector,
    "-o",
    "name",
    ...kubectlCommon(target, cacheDir),
  ];
}

/** The argv of the second kubectl, as xargs would run it with the chosen line: `kubectl delete pod/NAME`. */
export function kubectlDeleteArgs(target: ShotTarget, cacheDir: string, chosen: string): string[] {
  return ["delete", chosen, "-n", target.namespace, ...kubectlCommon(target, cacheDir)];
}

/** -v=6 logs one line per HTTP response; a fixed cache dir keeps discovery cached between runs. */
function kubectlCommon(target: ShotTarget, cacheDir: string): string[] {
  return ["--kubeconfig", target.kubeconfig, "-v=6", "--cache-dir", cacheDir];
}

/**
 * The classic script, `kubectl get pods -l app=X -o name | sort --random-sort | head -n 1 | xargs kubectl
 * delete`, without a shell: kubectl, sort and head are spawned together with argv arrays and their
 * stdout piped to the next one's stdin; when head has exited (xargs's cue: its stdin ends), the second
 * kubectl is spawned with the chosen line as its argument. The latency ends when the delete's `pod "..." deleted`
 * line reaches us: kubectl prints it as soon as the DELETE is answered, then waits for the pod to go.
 */
export async function kubectlShot(
  kubectl: string,
  target: ShotTarget,
  cacheDir: string,
  scratch: string,
): Promise<ShotMeasurement> {
  const chooser = await chooseVictim(kubectl, target, cacheDir, scratch);
  const pickedAt = Date.now();
  const [deletion, get] = await Promise.all([
    deleteChosen(kubectl, target, cacheDir, chooser.chosen, scratch),
    chooser.get,
  ]);
  const getRequests = countResponses(get.log);
  if (getRequests.total === 0) throw new Error(`kubectl get: no "Response" lines at -v=6:\n${tail(get.log)}`);
  const deleteRequests = countResponses(deletion.log);
  // From the get's spawn; the delete's wrapper start-up (spawn by us to its own spawn) is not kubectl's.
  const started = get.usage.spawnedAt;
  const wrapperDelay = deletion.usage.spawnedAt - deletion.wrapperSpawnedAt;
  return {
    tool: "kubectl",
    victim: chooser.chosen.replace(/^pod\//, ""),
    latencyMs: deletion.acceptedAt - started - wrapperDelay,
    requestsToDelete: getRequests.total + deleteRequests.throughDelete,
    requestsTotal: getRequests.total + deleteRequests.total,
    exitMs: deletion.usage.exitedAt - started - wrapperDelay,
    maxRssKiB: Math.max(get.usage.maxRssKiB, deletion.usage.maxRssKiB),
    pickMs: pickedAt - started,
  };
}

/**
 * The floor of a tool's start-up: spawn to exit of a command that sends no request
 * (`broadside --version`, `kubectl version --client`, `chaos --version`).
 */
export async function startupFloor(
  what: string,
  argv: readonly [string, ...string[]],
  cwd: string,
): Promise<number> {
  const [program, ...args] = argv;
  const started = Date.now();
  const child = spawn(program, args, { cwd, stdio: "ignore" });
  const exit = await exitOf(child, `${what} start-up floor`, processTimeoutMs);
  if (exit.code !== 0) throw new Error(`${argv.join(" ")}: ${describeExit(exit)}`);
  return exit.at - started;
}

/** What `get | sort | head` left: the chosen line, and, once kubectl get and sort have exited, the get's log. */
interface Choice {
  readonly chosen: string;
  readonly get: Promise<{ log: string; usage: Usage }>;
}

/**
 * kubectl get | sort --random-sort | head -n 1. Returns as soon as head has exited, which is when xargs
 * would run its command; kubectl get's exit status and log are awaited later, through `get`.
 */
async function chooseVictim(
  kubectl: string,
  target: ShotTarget,
  cacheDir: string,
  scratch: string,
): Promise<Choice> {
  const run = spawnMeasured(kubectl, kubectlGetArgs(target, cacheDir), scratch, {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const get = run.child;
  const sort = spawn("sort", ["--random-sort"], { stdio: ["pipe", "pipe", "ignore"] });
  const head = spawn("head", ["-n", "1"], { stdio: ["pipe", "pipe", "ignore"] });
  const log = collect(pipeOf(get.stderr));
  const chosen = collect(head.stdout);
  // As in a shell: head exits after one line, and sort, still writing, gets EPIPE. That is not an error.
  const pipes = [pipeline(pipeOf(get.stdout), sort.stdin), pipeline(sort.stdout, head.stdin)].map((p) =>
    p.catch(() => undefined),
  );
  const rest = Promise.all([
    exitOf(get, "kubectl get", processTimeoutMs),
    exitOf(sort, "sort", processTimeoutMs),
    ...pipes,
  ]).then(
    async ([getExit]) =>
      getExit.code === 0
        ? { log: log(), usage: await run.usage() }
        : { error: `kubectl get: ${describeExit(getExit)}\n${tail(log())}` },
    (error: unknown) => ({ error: String(error) }),
  );
  await exitOf(head, "head", processTimeoutMs);
  const got = rest.then((outcome) => {
    if ("error" in outcome) throw new Error(outcome.error);
    return outcome;
  });
  const line = chosen().trim();
  if (line === "") {
    await got;
    throw new Error("kubectl get | sort | head printed nothing: no pod matched");
  }
  return { chosen: line, get: got };
}

/** The second kubectl. `acceptedAt` is when its stdout said "deleted". */
async function deleteChosen(
  kubectl: string,
  target: ShotTarget,
  cacheDir: string,
  chosen: string,
  scratch: string,
): Promise<{ acceptedAt: number; exit: Exit; log: string; usage: Usage; wrapperSpawnedAt: number }> {
  const run = spawnMeasured(kubectl, kubectlDeleteArgs(target, cacheDir, chosen), scratch, {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const child = run.child;
  let acceptedAt: number | undefined;
  let printed = "";
  const stdout = pipeOf(child.stdout);
  stdout.setEncoding("utf8");
  stdout.on("data", (chunk: string) => {
    printed += chunk;
    if (acceptedAt === undefined && /\bdeleted\b/.test(printed)) acceptedAt = Date.now();
  });
  const log = collect(pipeOf(child.stderr));
  const exit = await exitOf(child, "kubectl delete", processTimeoutMs);
  if (exit.code !== 0 || acceptedAt === undefined) {
    throw new Error(
      `kubectl delete ${chosen}: ${describeExit(exit)}, printed "${printed.trim()}"\n${tail(log())}`,
    );
  }
  return { acceptedAt, exit, log: log(), usage: await run.usage(), wrapperSpawnedAt: run.wrapperSpawnedAt };
}

/** kubectl -v=6 logs `round_trippers.go:NNN] "Response" verb="GET" url=... status=...` per HTTP response. */
const responseLine = /round_trippers\.go:\d+\] "Response" verb="([A-Z]+)"/;

/** HTTP responses in a -v=6 log: all of them, and those up to and including the first DELETE. */
export function countResponses(log: string): { total: number; throughDelete: number } {
  const verbs = log.split("\n").flatMap((line) => {
    const verb = responseLine.exec(line)?.[1];
    return verb === undefined ? [] : [verb];
  });
  const deleteIndex = verbs.indexOf("DELETE");
  return { total: verbs.length, throughDelete: deleteIndex === -1 ? verbs.length : deleteIndex + 1 };
}

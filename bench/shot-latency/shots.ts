import { spawn } from "node:child_process";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import { collect, describeExit, exitOf, tail, type Exit } from "./processes.js";

/** One shot at one random pod, by one tool, as the benchmark measured it. */
export interface ShotMeasurement {
  readonly tool: Tool;
  /** The pod the tool chose and deleted. */
  readonly victim: string;
  /** From the epoch ms just before the first process was spawned to the DELETE being accepted. */
  readonly latencyMs: number;
  /** API requests sent until the DELETE was answered (Broadside: with its ledger writes). */
  readonly requestsToDelete: number;
  /** API requests of the whole command, including what it does after the DELETE. */
  readonly requestsTotal: number;
  /** From the same start to the last process exiting. */
  readonly exitMs: number;
  /** kubectl only: from the same start to head's exit, the victim chosen (get | sort | head). */
  readonly pickMs?: number;
}

export type Tool = "broadside" | "kubectl";

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
export async function broadsideShot(repoRoot: string, target: ShotTarget): Promise<ShotMeasurement> {
  const started = Date.now();
  const child = spawn(process.execPath, broadsideArgs(repoRoot, target), {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const exit = await exitOf(child, "broadside kill", processTimeoutMs);
  if (exit.code !== 0) throw new Error(`broadside kill: ${describeExit(exit)}\n${tail(stderr())}`);
  const parsed = killResultSchema.safeParse(JSON.parse(stdout()));
  if (!parsed.success) throw new Error(`broadside kill: unexpected JSON: ${parsed.error.message}`);
  const [only] = parsed.data.targets;
  if (only === undefined) throw new Error("broadside kill: no target in the JSON result");
  return {
    tool: "broadside",
    victim: only.name,
    latencyMs: only.shot.at - started,
    // Broadside's count stops when the last shot's ledger record is closed; it sends nothing after that.
    requestsToDelete: parsed.data.apiRequests,
    requestsTotal: parsed.data.apiRequests,
    exitMs: exit.at - started,
  };
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
): Promise<ShotMeasurement> {
  const started = Date.now();
  const chooser = await chooseVictim(kubectl, target, cacheDir);
  const pickedAt = Date.now();
  const [deletion, getLog] = await Promise.all([
    deleteChosen(kubectl, target, cacheDir, chooser.chosen),
    chooser.getLog,
  ]);
  const getRequests = countResponses(getLog);
  if (getRequests.total === 0) throw new Error(`kubectl get: no "Response" lines at -v=6:\n${tail(getLog)}`);
  const deleteRequests = countResponses(deletion.log);
  return {
    tool: "kubectl",
    victim: chooser.chosen.replace(/^pod\//, ""),
    latencyMs: deletion.acceptedAt - started,
    requestsToDelete: getRequests.total + deleteRequests.throughDelete,
    requestsTotal: getRequests.total + deleteRequests.total,
    exitMs: deletion.exit.at - started,
    pickMs: pickedAt - started,
  };
}

/**
 * The floor of a tool's start-up: spawn to exit of a command that sends no request
 * (`broadside --version`, `kubectl version --client`).
 */
export async function startupFloor(tool: Tool, repoRoot: string, kubectl: string): Promise<number> {
  const [program, args] =
    tool === "broadside"
      ? [process.execPath, [join(repoRoot, "bin", "broadside.js"), "--version"]]
      : [kubectl, ["version", "--client"]];
  const started = Date.now();
  const child = spawn(program, args, { cwd: repoRoot, stdio: "ignore" });
  const exit = await exitOf(child, `${tool} start-up floor`, processTimeoutMs);
  if (exit.code !== 0) throw new Error(`${program} ${args.join(" ")}: ${describeExit(exit)}`);
  return exit.at - started;
}

/** What `get | sort | head` left: the chosen line, and, once kubectl get and sort have exited, the get's log. */
interface Choice {
  readonly chosen: string;
  readonly getLog: Promise<string>;
}

/**
 * kubectl get | sort --random-sort | head -n 1. Returns as soon as head has exited, which is when xargs
 * would run its command; kubectl get's exit status and log are awaited later, through `getLog`.
 */
async function chooseVictim(kubectl: string, target: ShotTarget, cacheDir: string): Promise<Choice> {
  const get = spawn(kubectl, kubectlGetArgs(target, cacheDir), { stdio: ["ignore", "pipe", "pipe"] });
  const sort = spawn("sort", ["--random-sort"], { stdio: ["pipe", "pipe", "ignore"] });
  const head = spawn("head", ["-n", "1"], { stdio: ["pipe", "pipe", "ignore"] });
  const log = collect(get.stderr);
  const chosen = collect(head.stdout);
  // As in a shell: head exits after one line, and sort, still writing, gets EPIPE. That is not an error.
  const pipes = [pipeline(get.stdout, sort.stdin), pipeline(sort.stdout, head.stdin)].map((p) =>
    p.catch(() => undefined),
  );
  const rest = Promise.all([
    exitOf(get, "kubectl get", processTimeoutMs),
    exitOf(sort, "sort", processTimeoutMs),
    ...pipes,
  ]).then(
    ([getExit]) =>
      getExit.code === 0
        ? { log: log() }
        : { error: `kubectl get: ${describeExit(getExit)}\n${tail(log())}` },
    (error: unknown) => ({ error: String(error) }),
  );
  await exitOf(head, "head", processTimeoutMs);
  const getLog = rest.then((outcome) => {
    if ("error" in outcome) throw new Error(outcome.error);
    return outcome.log;
  });
  const line = chosen().trim();
  if (line === "") {
    await getLog;
    throw new Error("kubectl get | sort | head printed nothing: no pod matched");
  }
  return { chosen: line, getLog };
}

/** The second kubectl. `acceptedAt` is when its stdout said "deleted". */
async function deleteChosen(
  kubectl: string,
  target: ShotTarget,
  cacheDir: string,
  chosen: string,
): Promise<{ acceptedAt: number; exit: Exit; log: string }> {
  const child = spawn(kubectl, kubectlDeleteArgs(target, cacheDir, chosen), {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let acceptedAt: number | undefined;
  let printed = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    printed += chunk;
    if (acceptedAt === undefined && /\bdeleted\b/.test(printed)) acceptedAt = Date.now();
  });
  const log = collect(child.stderr);
  const exit = await exitOf(child, "kubectl delete", processTimeoutMs);
  if (exit.code !== 0 || acceptedAt === undefined) {
    throw new Error(
      `kubectl delete ${chosen}: ${describeExit(exit)}, printed "${printed.trim()}"\n${tail(log())}`,
    );
  }
  return { acceptedAt, exit, log: log() };
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

import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Long-running sandbox processes: started detached with their output in a log file (never our
 * stdout, so a test runner is not kept waiting on them), tracked by pid, stopped by pid. A pid is
 * only signalled while /proc says it still runs the binary we started, so a recycled pid is safe.
 */
export interface StartedProcess {
  readonly pid: number;
  readonly binary: string;
  /** For a script run by an interpreter (node): the script, which must be the first argument. */
  readonly script?: string | undefined;
}

/** Starts `binary` with `args`; `script` names the script among them when the binary is an interpreter. */
export function startDetached(
  binary: string,
  args: readonly string[],
  logFile: string,
  env: NodeJS.ProcessEnv,
  script?: string,
): StartedProcess {
  const out = openSync(logFile, "a");
  try {
    const child = spawn(binary, args, { detached: true, stdio: ["ignore", out, out], env });
    if (child.pid === undefined) throw new Error(`could not start ${binary}`);
    child.unref();
    return { pid: child.pid, binary, script };
  } finally {
    closeSync(out);
  }
}

/** True while `pid` is a live (not zombie) process running `binary` (and `script`, when set). */
export async function isRunning(process: StartedProcess): Promise<boolean> {
  try {
    const [cmdline, stat] = await Promise.all([
      readFile(`/proc/${process.pid}/cmdline`, "utf8"),
      readFile(`/proc/${process.pid}/stat`, "utf8"),
    ]);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && commandMatches(cmdline.split("\0"), process);
  } catch {
    return false;
  }
}

/** argv[0] is the binary we started; for an interpreter, argv[1] is also the script we gave it. */
export function commandMatches(argv: readonly string[], process: StartedProcess): boolean {
  if (argv[0] !== process.binary) return false;
  return process.script === undefined || argv[1] === process.script;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(target: StartedProcess, graceMs = 10_000): Promise<void> {
  if (!(await isRunning(target))) return;
  signal(target.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!(await isRunning(target))) return;
    await sleep(50);
  }
  signal(target.pid, "SIGKILL");
  while (await isRunning(target)) await sleep(50);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error: unknown) {
    // ESRCH: it exited between our check and the signal, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

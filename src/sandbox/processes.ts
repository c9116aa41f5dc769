import { spawn } from "node:child_process";
import { constants, closeSync, openSync } from "node:fs";
import { access } from "node:fs/promises";
import type { Clock } from "../core/clock.js";
import { BroadsideError } from "../core/errors.js";
import { startError } from "./exec.js";
import { isRunning, type ProcReader, type StartedProcess } from "./liveness.js";

/**
 * Long-running sandbox processes: started detached with their output in a log file (never our
 * stdout, so a test runner is not kept waiting on them), tracked by pid, stopped by pid. A pid is
 * only signalled while /proc says it still runs the binary we started (liveness.ts), so a recycled
 * pid is safe.
 */
export interface DetachedCommand {
  readonly binary: string;
  readonly args: readonly string[];
  readonly logFile: string;
  /** The script among the args when the binary is an interpreter. */
  readonly script?: string | undefined;
}

/**
 * Starts the command. A binary that is missing or not executable is BRD_PREREQUISITE_MISSING; any other
 * failure to start (the log file, spawn itself) is BRD_SANDBOX_START_FAILED naming the log.
 */
export async function startDetached(
  command: DetachedCommand,
  env: NodeJS.ProcessEnv,
): Promise<StartedProcess> {
  const { binary, args, logFile, script } = command;
  await access(binary, constants.X_OK).catch((error: unknown) => {
    throw startError(binary, error as NodeJS.ErrnoException);
  });
  let out: number;
  try {
    out = openSync(logFile, "a", 0o600);
  } catch (error: unknown) {
    throw startFailed(binary, `its log file ${logFile} cannot be opened`, error);
  }
  try {
    const child = spawn(binary, args, { detached: true, stdio: ["ignore", out, out], env });
    // A failed spawn also emits "error" later; without a listener that would end Broadside.
    child.on("error", () => undefined);
    if (child.pid === undefined) throw startFailed(binary, `see ${logFile}`);
    child.unref();
    return { pid: child.pid, binary, script };
  } catch (error: unknown) {
    if (error instanceof BroadsideError) throw error;
    throw startFailed(binary, `see ${logFile}`, error);
  } finally {
    closeSync(out);
  }
}

function startFailed(binary: string, detail: string, cause?: unknown): BroadsideError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new BroadsideError(
    "BRD_SANDBOX_START_FAILED",
    `could not start ${binary}${code === undefined ? "" : ` (${code})`}: ${detail}`,
    cause === undefined ? undefined : { cause },
  );
}

/** What stopping needs: the clock it waits on and the /proc it checks. */
export interface StopContext {
  readonly clock: Clock;
  readonly proc: ProcReader;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(
  target: StartedProcess,
  context: StopContext,
  graceMs = 10_000,
): Promise<void> {
  const { clock, proc } = context;
  if (!(await isRunning(proc, target))) return;
  signal(target.pid, "SIGTERM");
  const deadline = clock.now() + graceMs;
  while (clock.now() < deadline) {
    if (!(await isRunning(proc, target))) return;
    await clock.sleep(50);
  }
  signal(target.pid, "SIGKILL");
  while (await isRunning(proc, target)) await clock.sleep(50);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error: unknown) {
    // ESRCH: it exited between our check and the signal, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") {
      throw new BroadsideError("BRD_SANDBOX_STOP_FAILED", `cannot send ${name} to pid ${pid}`, {
        cause: error,
      });
    }
  }
}

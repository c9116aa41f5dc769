import { spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { BroadsideError } from "../core/errors.js";

import { optional } from "../core/objects.js";
/** What a failure of a program the sandbox runs means to the user: a failed build, or a sandbox that cannot start. */
export type FailureCode = "BRD_SANDBOX_BUILD_FAILED" | "BRD_SANDBOX_START_FAILED";

export interface RunOptions {
  /** The code of the error a non-zero exit (or a missing working directory) becomes. */
  readonly failure: FailureCode;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** When set, stdout and stderr are appended to this file instead of being captured. */
  readonly logFile?: string;
  /** Called with each chunk of output, for progress display. */
  readonly onOutput?: (chunk: string) => void;
}

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program with an argv array (never a shell string) and waits for it to exit. */
export function run(program: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  // spawn reports a missing working directory as ENOENT too, which would read as "program not installed".
  if (options.cwd !== undefined && !existsSync(options.cwd)) {
    return Promise.reject(
      new BroadsideError(
        options.failure,
        `cannot run ${program}: its working directory ${options.cwd} does not exist`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      // Without an explicit environment, spawn passes the parent's own.
      ...optional("env", options.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const log =
      options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: "a" });
    log?.on("error", (error: NodeJS.ErrnoException) => {
      child.kill();
      reject(
        new BroadsideError(
          options.failure,
          `cannot write ${program}'s log ${options.logFile ?? ""} (${error.code ?? error.message})`,
          {
            cause: error,
          },
        ),
      );
    });
    let stdout = "";
    let stderr = "";
    const collect = (chunk: Buffer, into: "out" | "err"): void => {
      const text = chunk.toString("utf8");
      if (log) log.write(text);
      else if (into === "out") stdout += text;
      else stderr += text;
      options.onOutput?.(text);
    };
    child.stdout.on("data", (chunk: Buffer) => {
      collect(chunk, "out");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      collect(chunk, "err");
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      log?.end();
      reject(startError(program, error));
    });
    child.on("close", (code, signal) => {
      const finish = (): void => {
        resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr });
      };
      if (log) log.end(finish);
      else finish();
    });
  });
}

/** A program that cannot be started at all: not installed (ENOENT), or not executable (EACCES...). */
export function startError(program: string, error: NodeJS.ErrnoException): BroadsideError {
  const problem =
    error.code === "ENOENT"
      ? "is not installed or not on PATH"
      : `cannot be run (${error.code ?? error.message})`;
  return new BroadsideError("BRD_PREREQUISITE_MISSING", `${program} ${problem}`, { cause: error });
}

/** Runs a program and returns its stdout; a non-zero exit becomes `options.failure`, carrying stderr. */
export async function runChecked(
  program: string,
  args: readonly string[],
  options: RunOptions,
): Promise<string> {
  const result = await run(program, args, options);
  if (result.exitCode !== 0) {
    const where = options.logFile === undefined ? result.stderr.trim() : `see ${options.logFile}`;
    throw new BroadsideError(
      options.failure,
      `${program} ${args.join(" ")} exited with ${result.exitCode}: ${where}`,
    );
  }
  return result.stdout;
}

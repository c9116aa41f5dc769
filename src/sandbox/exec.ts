import { spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { BroadsideError } from "../core/errors.js";

export interface RunOptions {
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
export function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  // spawn reports a missing working directory as ENOENT too, which would read as "program not installed".
  if (options.cwd !== undefined && !existsSync(options.cwd)) {
    return Promise.reject(new Error(`working directory ${options.cwd} does not exist`));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      // Without an explicit environment, spawn passes the parent's own.
      ...(options.env === undefined ? {} : { env: options.env }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const log =
      options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: "a" });
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
      if (error.code === "ENOENT") {
        reject(new BroadsideError("BRD_PREREQUISITE_MISSING", `${program} is not installed or not on PATH`));
      } else reject(error);
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

/** Runs a program and returns its stdout; a non-zero exit becomes an error carrying stderr. */
export async function runChecked(
  program: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  const result = await run(program, args, options);
  if (result.exitCode !== 0) {
    const where = options.logFile === undefined ? result.stderr.trim() : `see ${options.logFile}`;
    throw new Error(`${program} ${args.join(" ")} exited with ${result.exitCode}: ${where}`);
  }
  return result.stdout;
}

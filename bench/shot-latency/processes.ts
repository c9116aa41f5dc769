import type { ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";

/** How a child process ended, and when (epoch ms, stamped when its 'close' event arrived). */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
}

/**
 * Resolves when the child has exited and its output streams are closed. A child still running after
 * `timeoutMs` is killed by its pid (it is ours: we spawned it) and the promise rejects.
 */
export function exitOf(child: ChildProcess, what: string, timeoutMs: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what} did not finish within ${timeoutMs / 1000}s; killed pid ${child.pid ?? "?"}`));
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`${what} could not be started: ${error.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, at: Date.now() });
    });
  });
}

/** Collects a stream's text as it arrives; the returned function gives what has arrived so far. */
export function collect(stream: Readable): () => string {
  const chunks: string[] = [];
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => chunks.push(chunk));
  return () => chunks.join("");
}

/** "exit code 1" or "signal SIGKILL", for error messages. */
export function describeExit(exit: Exit): string {
  return exit.signal === null ? `exit code ${exit.code ?? "?"}` : `signal ${exit.signal}`;
}

/** The last lines of a process's stderr, for error messages. */
export function tail(text: string, lines = 5): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

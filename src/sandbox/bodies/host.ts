import { execFile } from "node:child_process";
import { access, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import type { Argv } from "./network.js";

/**
 * What pod bodies do to the machine, through one small seam: run a program (argv array, never a shell),
 * and touch cgroup files and directories. systemHost does it for real; unit tests use MemoryHost
 * (memory-host.ts), which records every call.
 */
export interface Host {
  run(argv: Argv): Promise<RunOutcome>;
  /** One level, like mkdir(2): fails when the parent is missing or the directory exists (EEXIST). */
  mkdir(path: string): Promise<void>;
  /** Fails with ENOENT when it is gone, EBUSY when a cgroup still has processes. */
  rmdir(path: string): Promise<void>;
  write(path: string, value: string): Promise<void>;
  read(path: string): Promise<string>;
  exists(path: string): Promise<boolean>;
  /** Signals a process; false when it is gone already. */
  kill(pid: number, signal: NodeJS.Signals): boolean;
}

export interface RunOutcome {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export const systemHost: Host = {
  run: (argv) =>
    new Promise((resolve) => {
      const [program = "", ...args] = argv;
      execFile(program, args, { timeout: 30_000 }, (error, stdout, stderr) => {
        const exitCode = error === null ? 0 : typeof error.code === "number" ? error.code : 127;
        resolve({ exitCode, stdout, stderr: error !== null && stderr === "" ? error.message : stderr });
      });
    }),
  mkdir: (path) => mkdir(path).then(() => undefined),
  rmdir: (path) => rmdir(path),
  write: (path, value) => writeFile(path, value),
  read: (path) => readFile(path, "utf8"),
  exists: (path) =>
    access(path).then(
      () => true,
      () => false,
    ),
  kill: (pid, signal) => {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  },
};

/** The errno code of a failed file call, if any. */
export function errnoOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}

/** `ip`'s words for "it is not there": the object was removed already, which cleanup counts as done. */
export function saysGone(stderr: string): boolean {
  return /Cannot find device|No such file or directory|does not exist|Cannot open network namespace/i.test(
    stderr,
  );
}

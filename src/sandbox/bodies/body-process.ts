import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { BroadsideError } from "../../core/errors.js";
import { joinWrites } from "./cgroups.js";
import type { Host } from "./host.js";
import type { Argv } from "./network.js";
import { bodyArgs, parseListeningLine, startLine } from "./protocol.js";
import type { BodyArgs } from "./protocol.js";

/** What starting one body process needs. */
export interface LaunchSpec {
  readonly netns: string;
  /** The cgroup leaves its pid goes into before it serves. */
  readonly leaves: readonly string[];
  readonly args: BodyArgs;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One run of a body's process. */
export interface RunningBody {
  readonly pid: number;
  /** Resolves with the port once it listens; rejects when it exits first. */
  readonly listening: Promise<number>;
  readonly exited: Promise<ExitStatus>;
  /** A line to its stdin (behaviour changes). */
  send(line: string): void;
  /** Closes its stdin, which makes it exit. */
  close(): void;
}

export interface BodyLauncher {
  launch(spec: LaunchSpec): Promise<RunningBody>;
}

/** The body program: the Node running Broadside and the compiled body-main.js. */
export interface BodyProgram {
  readonly node: string;
  readonly script: string;
}

/** `ip netns exec NETNS node body-main.js --pod=... ...`: ip execs the program in place, so its pid is the body's. */
export function bodyCommand(program: BodyProgram, spec: LaunchSpec): Argv {
  return ["ip", "netns", "exec", spec.netns, program.node, program.script, ...bodyArgs(spec.args)];
}

/**
 * Starts body processes for real: spawned with an argv array, its pid written into each cgroup leaf,
 * and only then told to start serving. Its stderr goes to the traffic process's log.
 */
export function processLauncher(program: BodyProgram, host: Host): BodyLauncher {
  return {
    launch: async (spec) => {
      const [command = "", ...args] = bodyCommand(program, spec);
      const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
      const exited = new Promise<ExitStatus>((resolve) => {
        child.once("exit", (code, signal) => {
          resolve({ code, signal });
        });
        child.once("error", () => {
          resolve({ code: 127, signal: null });
        });
      });
      const pid = child.pid;
      if (pid === undefined) {
        await exited;
        throw new BroadsideError("BRD_INTERNAL", `could not start ${command} for a pod body`);
      }
      try {
        for (const write of joinWrites({ leaves: spec.leaves }, pid))
          await host.write(write.path, write.value);
      } catch (error: unknown) {
        child.kill("SIGKILL");
        throw new BroadsideError("BRD_INTERNAL", `could not put pid ${pid} into its cgroups`, {
          cause: error,
        });
      }
      child.stdin.on("error", () => undefined);
      const listening = new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stdout }).on("line", (line) => {
          const port = parseListeningLine(line);
          if (port !== undefined) resolve(port);
        });
        void exited.then((status) => {
          reject(
            new BroadsideError(
              "BRD_INTERNAL",
              `the body exited before it listened (${describeExit(status)})`,
            ),
          );
        });
      });
      void listening.catch(() => undefined);
      child.stdin.write(`${startLine}\n`);
      return {
        pid,
        listening,
        exited,
        send: (line) => {
          if (child.stdin.writable) child.stdin.write(line);
        },
        close: () => {
          child.stdin.end();
        },
      };
    },
  };
}

export function describeExit(status: ExitStatus): string {
  return status.signal === null ? `exit code ${status.code ?? "?"}` : `signal ${status.signal}`;
}

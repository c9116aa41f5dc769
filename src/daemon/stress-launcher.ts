import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isJournalName } from "./journal.js";
import { goLine, stressorArgv, stressorWorkOf } from "./stress.js";
import type { RunningStressor, StressHost, StressorConfig } from "./stress.js";

/*
 * The stressor's processes on a real node (ADR 0040): spawned with an argv array (no shell), detached so
 * it outlives a daemon killed while it holds a fault, as the proxy does; it waits on stdin until the daemon
 * has put it into the container's cgroups and journaled it, then is told to go. Cgroup files are read and
 * written as plain files (the daemon needs write access to the cgroup file system).
 */
export class NodeStressHost implements StressHost {
  constructor(
    private readonly program: { readonly node: string; readonly script: string },
    /** Where each stressor's stderr goes (`stress-<work>.log`): the journal's directory. */
    private readonly logDir: string,
    private readonly procDir = "/proc",
  ) {}

  read(path: string): Promise<string> {
    return readFile(path, "utf8");
  }

  write(path: string, value: string): Promise<void> {
    return writeFile(path, value);
  }

  async start(work: string, config: StressorConfig, place: (pid: number) => Promise<void>): Promise<number> {
    if (!isJournalName(work)) throw new Error(`${JSON.stringify(work)} is not a node work name`);
    mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
    const log = openSync(join(this.logDir, `stress-${work}.log`), "a", 0o600);
    const [command = "", ...args] = stressorArgv(this.program, work, config);
    const child = spawn(command, args, { detached: true, stdio: ["pipe", "ignore", log] });
    closeSync(log);
    const exited = new Promise<string>((resolve) => {
      child.once("exit", (code, signal) => {
        resolve(`the stressor exited (${signal ?? `code ${String(code)}`}); see stress-${work}.log`);
      });
      child.once("error", (error) => {
        resolve(`the stressor did not start: ${error.message}`);
      });
    });
    const pid = child.pid;
    const stdin = child.stdin;
    if (pid === undefined || stdin === null) {
      child.kill("SIGKILL");
      throw new Error(await exited);
    }
    stdin.on("error", () => undefined);
    try {
      const early = await Promise.race([place(pid).then(() => undefined), exited]);
      if (early !== undefined) throw new Error(early);
    } catch (error: unknown) {
      child.kill("SIGKILL");
      stdin.destroy();
      throw error;
    }
    stdin.end(`${goLine}\n`);
    child.removeAllListeners("exit");
    child.unref();
    return pid;
  }

  async running(): Promise<RunningStressor[]> {
    const found: RunningStressor[] = [];
    for (const name of await readdir(this.procDir).catch(() => [] as string[])) {
      if (!/^\d+$/.test(name)) continue;
      const cmdline = await readFile(join(this.procDir, name, "cmdline"), "utf8").catch(() => "");
      const work = stressorWorkOf(cmdline, this.program.script);
      if (work !== undefined) found.push({ pid: Number(name), work });
    }
    return found;
  }
}

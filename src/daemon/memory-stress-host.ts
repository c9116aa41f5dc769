import type { MemoryProcessTable } from "./memory-processes.js";
import type { RunningStressor, StressHost, StressorConfig } from "./stress.js";

/**
 * The stress seam in memory, for unit tests: cgroup files as a map, stressors "started" as processes in
 * the memory process table, and every step recorded in order (`events`).
 */
export class MemoryStressHost implements StressHost {
  readonly files = new Map<string, string>();
  readonly started: { work: string; config: StressorConfig; pid: number }[] = [];
  readonly events: string[] = [];
  /** Stressors running that the table lists (the start-up scan). */
  readonly stray: RunningStressor[] = [];
  failStart = false;
  private nextPid = 6_000;

  constructor(private readonly processes: MemoryProcessTable) {}

  read(path: string): Promise<string> {
    const text = this.files.get(path);
    return text === undefined ? Promise.reject(new Error(`ENOENT: ${path}`)) : Promise.resolve(text);
  }

  write(path: string, value: string): Promise<void> {
    this.events.push(`write ${path} ${value}`);
    this.files.set(path, value);
    return Promise.resolve();
  }

  async start(work: string, config: StressorConfig, place: (pid: number) => Promise<void>): Promise<number> {
    if (this.failStart) throw new Error("spawn node ENOENT");
    const pid = (this.nextPid += 1);
    this.processes.processes.set(pid, `${pid}00`);
    this.events.push(`spawn ${pid}`);
    try {
      await place(pid);
    } catch (error: unknown) {
      this.processes.processes.delete(pid);
      throw error;
    }
    this.events.push(`go ${pid}`);
    this.started.push({ work, config, pid });
    return pid;
  }

  running(): Promise<RunningStressor[]> {
    const live = [...this.started.map(({ work, pid }) => ({ work, pid })), ...this.stray];
    return Promise.resolve(live.filter(({ pid }) => this.processes.processes.has(pid)));
  }
}

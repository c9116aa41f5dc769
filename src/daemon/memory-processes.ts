import type { ProcessTable } from "./proc.js";

/** A process table in memory, for unit tests: pids with start times, and every signal sent. */
export class MemoryProcessTable implements ProcessTable {
  readonly processes = new Map<number, string>();
  readonly signals: { pid: number; signal: NodeJS.Signals }[] = [];
  /** Told of every signal, in order with other events a test records. */
  onSignal: ((pid: number) => void) | undefined;

  startTime(pid: number): Promise<string | undefined> {
    return Promise.resolve(this.processes.get(pid));
  }

  signal(pid: number, signal: NodeJS.Signals): boolean {
    if (!this.processes.has(pid)) return false;
    this.signals.push({ pid, signal });
    this.onSignal?.(pid);
    if (signal === "SIGKILL") this.processes.delete(pid);
    return true;
  }
}

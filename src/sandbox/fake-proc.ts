import type { ProcReader } from "./liveness.js";

/*
 * For tests: an in-memory /proc, so liveness, lock takeover and stopping can be tested without
 * starting processes.
 */

export interface FakeProcess {
  readonly argv: readonly string[];
  /** One letter as /proc shows it: S sleeping, R running, Z zombie. */
  state: string;
  readonly startTime: string;
  /** The command name in /proc/<pid>/stat's parentheses, which may hold spaces and ')'. */
  readonly comm?: string;
}

export class FakeProc implements ProcReader {
  readonly processes = new Map<number, FakeProcess>();

  add(pid: number, process: FakeProcess): this {
    this.processes.set(pid, process);
    return this;
  }

  read(pid: number, entry: "cmdline" | "stat"): Promise<string | undefined> {
    const process = this.processes.get(pid);
    if (process === undefined) return Promise.resolve(undefined);
    if (entry === "cmdline") return Promise.resolve(`${process.argv.join("\0")}\0`);
    return Promise.resolve(statLine(pid, process));
  }
}

/** A /proc/<pid>/stat line: pid (comm) state, then fields 4 to 52, starttime being field 22. */
function statLine(pid: number, process: FakeProcess): string {
  const fields = Array.from({ length: 49 }, (_, index) => (index === 18 ? process.startTime : "0"));
  const comm = process.comm ?? (process.argv[0] ?? "").split("/").pop() ?? "";
  return `${pid} (${comm}) ${process.state} ${fields.join(" ")}\n`;
}

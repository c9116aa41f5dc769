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

  add(pid: number, fake: FakeProcess): this {
    this.processes.set(pid, fake);
    return this;
  }

  read(pid: number, entry: "cmdline" | "stat"): Promise<string | undefined> {
    const fake = this.processes.get(pid);
    if (fake === undefined) return Promise.resolve(undefined);
    if (entry === "cmdline") return Promise.resolve(`${fake.argv.join("\0")}\0`);
    return Promise.resolve(statLine(pid, fake));
  }
}

/** A /proc/<pid>/stat line: pid (comm) state, then fields 4 to 52, starttime being field 22. */
function statLine(pid: number, fake: FakeProcess): string {
  const fields = Array.from({ length: 49 }, (_, index) => (index === 18 ? fake.startTime : "0"));
  const comm = fake.comm ?? (fake.argv[0] ?? "").split("/").pop() ?? "";
  return `${pid} (${comm}) ${fake.state} ${fields.join(" ")}\n`;
}

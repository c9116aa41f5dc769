import { readFile } from "node:fs/promises";

/**
 * What the sandbox reads of /proc to tell whether a pid is still the process it started: a pid is only
 * signalled while /proc says it runs that binary, so a recycled pid is never hit. The reads go through
 * this interface so the checks can be tested with an in-memory process table.
 */
export interface ProcReader {
  /** The text of /proc/<pid>/<entry>, or undefined when there is no such process (or it cannot be read). */
  read(pid: number, entry: "cmdline" | "stat"): Promise<string | undefined>;
}

export const systemProc: ProcReader = {
  read: (pid, entry) => readFile(`/proc/${pid}/${entry}`, "utf8").catch(() => undefined),
};

/** A process the sandbox started, as its state file records it. */
export interface StartedProcess {
  readonly pid: number;
  readonly binary: string;
  /** For a script run by an interpreter (node): the script, which must be the first argument. */
  readonly script?: string | undefined;
}

/** The fields of /proc/<pid>/stat the sandbox uses. */
export interface ProcStat {
  /** One letter: R, S, D, Z (zombie), ... */
  readonly state: string;
  /** Clock ticks after boot when the process started: with the pid, it names one process for good. */
  readonly startTime: string;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself hold spaces and
 * parentheses, so fields are counted from the last ')': state is field 3, starttime field 22.
 */
export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(" ");
  const [state] = fields;
  const startTime = fields[19];
  if (state === undefined || state === "" || startTime === undefined || !/^\d+$/.test(startTime))
    return undefined;
  return { state, startTime };
}

/** argv[0] is the binary we started; for an interpreter, argv[1] is also the script we gave it. */
export function commandMatches(argv: readonly string[], process: StartedProcess): boolean {
  if (argv[0] !== process.binary) return false;
  return process.script === undefined || argv[1] === process.script;
}

/** True while `pid` is a live (not zombie) process running `binary` (and `script`, when set). */
export async function isRunning(proc: ProcReader, process: StartedProcess): Promise<boolean> {
  const [cmdline, stat] = await Promise.all([
    proc.read(process.pid, "cmdline"),
    proc.read(process.pid, "stat"),
  ]);
  if (cmdline === undefined || stat === undefined) return false;
  const parsed = parseStat(stat);
  return parsed !== undefined && parsed.state !== "Z" && commandMatches(cmdline.split("\0"), process);
}

/** The live (not zombie) process `pid`, or undefined when there is none. */
export async function liveProcess(proc: ProcReader, pid: number): Promise<ProcStat | undefined> {
  const stat = await proc.read(pid, "stat");
  const parsed = stat === undefined ? undefined : parseStat(stat);
  return parsed === undefined || parsed.state === "Z" ? undefined : parsed;
}

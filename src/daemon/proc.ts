import { readFile } from "node:fs/promises";

/**
 * The processes of this node, as the daemon reads and signals them: /proc in production, a table in
 * memory in unit tests.
 */
export interface ProcessTable {
  /** The start time (clock ticks after boot, /proc/<pid>/stat field 22) of a live process, else undefined. */
  startTime(pid: number): Promise<string | undefined>;
  /** Sends the signal; false when there is no such process. */
  signal(pid: number, signal: NodeJS.Signals): boolean;
}

export const systemProcessTable: ProcessTable = {
  startTime: async (pid) => {
    const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
    return text === undefined ? undefined : liveStartTime(text);
  },
  signal: (pid, signal) => {
    // 0 and negative pids name process groups, 1 is init: never a container's process, whatever a record says.
    if (!isSignallablePid(pid)) return false;
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  },
};

/** Whether a pid may be signalled at all: one process, never init nor a group (0 or negative). */
export function isSignallablePid(pid: number): boolean {
  return Number.isSafeInteger(pid) && pid > 1;
}

/**
 * The start time in a /proc/<pid>/stat line, undefined for a zombie. The command name (field 2) is in
 * parentheses and may hold spaces and parentheses, so fields are counted from the last ')'.
 */
export function liveStartTime(stat: string): string | undefined {
  const close = stat.lastIndexOf(")");
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(" ");
  const startTime = fields[19];
  if (fields[0] === "Z" || startTime === undefined || !/^\d+$/.test(startTime)) return undefined;
  return startTime;
}

/** Of several pids, the one that started first (the container's main process), with its start time. */
export async function oldestProcess(
  table: ProcessTable,
  pids: readonly number[],
): Promise<{ pid: number; startTime: string } | undefined> {
  let oldest: { pid: number; startTime: string } | undefined;
  for (const pid of pids) {
    const startTime = await table.startTime(pid);
    if (startTime === undefined) continue;
    if (oldest === undefined || BigInt(startTime) < BigInt(oldest.startTime)) oldest = { pid, startTime };
  }
  return oldest;
}

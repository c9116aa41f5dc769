import { open, readFile, rm } from "node:fs/promises";
import { BroadsideError } from "../core/errors.js";
import { liveProcess, type ProcReader } from "./liveness.js";

/** Who takes the lock: this process, and the /proc it is looked up in. */
export interface LockHolder {
  readonly pid: number;
  readonly proc: ProcReader;
}

/** The owner a lock file names: its pid and, when recorded, its start time (so a recycled pid is not it). */
export interface LockOwner {
  readonly pid: number;
  readonly startTime?: string | undefined;
}

/**
 * One `up`, `down` or restart of a sandbox at a time. The lock file holds its owner's pid and start time;
 * a lock whose owner is gone (or whose pid now belongs to another process) is taken over.
 */
export async function withLock<T>(lockFile: string, holder: LockHolder, work: () => Promise<T>): Promise<T> {
  const mine = await acquireLock(lockFile, holder);
  try {
    return await work();
  } finally {
    // Only our own lock: never one another process took over meanwhile.
    if ((await readFile(lockFile, "utf8").catch(() => undefined)) === mine)
      await rm(lockFile, { force: true });
  }
}

/** Takes the lock and returns the text written to it. */
export async function acquireLock(lockFile: string, holder: LockHolder): Promise<string> {
  const self = await liveProcess(holder.proc, holder.pid);
  const mine = formatOwner({ pid: holder.pid, startTime: self?.startTime });
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (await tryCreate(lockFile, mine)) return mine;
    const text = await readFile(lockFile, "utf8").catch(() => undefined);
    if (text === undefined) continue;
    const owner = parseOwner(text);
    if (owner !== undefined && (await ownerAlive(holder.proc, owner))) {
      throw new BroadsideError(
        "BRD_SANDBOX_BUSY",
        `another broadside process (pid ${owner.pid}) holds ${lockFile}`,
      );
    }
    // Taken over only while it still names the dead owner: another process may have taken it first.
    if ((await readFile(lockFile, "utf8").catch(() => undefined)) === text)
      await rm(lockFile, { force: true });
  }
  throw new BroadsideError("BRD_SANDBOX_BUSY", `could not take ${lockFile}`);
}

async function tryCreate(lockFile: string, content: string): Promise<boolean> {
  try {
    const handle = await open(lockFile, "wx", 0o600);
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    throw new BroadsideError(
      "BRD_SANDBOX_DIR_REFUSED",
      `cannot create the lock file ${lockFile} (${code ?? "error"})`,
      {
        cause: error,
      },
    );
  }
}

export function formatOwner(owner: LockOwner): string {
  return owner.startTime === undefined ? `${owner.pid}\n` : `${owner.pid} ${owner.startTime}\n`;
}

/** "pid" (as older Broadside wrote it) or "pid starttime"; undefined for anything else. */
export function parseOwner(text: string): LockOwner | undefined {
  const match = /^(\d+)(?: (\d+))?\s*$/.exec(text);
  if (match === null) return undefined;
  const pid = Number(match[1]);
  return pid > 0 ? { pid, startTime: match[2] } : undefined;
}

/** Alive: a live process has the pid and, when the lock recorded it, the same start time. */
export async function ownerAlive(proc: ProcReader, owner: LockOwner): Promise<boolean> {
  const process = await liveProcess(proc, owner.pid);
  if (process === undefined) return false;
  return owner.startTime === undefined || owner.startTime === process.startTime;
}

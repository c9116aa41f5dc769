import { readdir, readFile, readlink } from "node:fs/promises";

/**
 * Who holds a TCP port on 127.0.0.1, as Linux tells it without privileges: /proc/net/tcp and tcp6 list
 * the listening sockets with their inodes, and /proc/PID/fd/* link to "socket:[INODE]" for the
 * processes this user may inspect (its own, or all of them as root). Used to name the process when a
 * front door's port is taken; where /proc says too little, the answer says why instead.
 */

export interface PortHolder {
  readonly pid: number;
  /** Its command line (arguments joined by spaces), or its name when the command line is empty. */
  readonly command: string;
}

/** The holders found, or why none could be named. */
export type HolderLookup =
  { readonly holders: readonly [PortHolder, ...PortHolder[]] } | { readonly unknown: string };

/** The part of /proc the lookup reads: the real one, or an in-memory one in unit tests. */
export interface ProcFiles {
  readFile(path: string): Promise<string>;
  readdir(path: string): Promise<string[]>;
  readlink(path: string): Promise<string>;
}

export const procFiles: ProcFiles = {
  readFile: (path) => readFile(path, "utf8"),
  readdir: (path) => readdir(path),
  readlink: (path) => readlink(path),
};

const listenState = "0A";
/**
 * Local addresses whose listener stops a bind to 127.0.0.1: 127.0.0.1 itself and the wildcard, in
 * /proc's hex (the address as the host stores it: little-endian on x86 and arm64, big-endian elsewhere),
 * and over IPv6 the wildcard (a dual-stack socket) and ::ffff:127.0.0.1.
 */
const blockingAddresses = new Set([
  "0100007F",
  "7F000001",
  "00000000",
  "00000000000000000000000000000000",
  "0000000000000000FFFF00000100007F",
  "00000000000000000000FFFF7F000001",
]);

/** Inodes of the sockets listening on `port` that stop a bind to 127.0.0.1:port. */
export function listeningInodes(table: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [address = "", hexPort = ""] = (fields[1] ?? "").split(":");
    const inode = fields[9] ?? "0";
    const blocks = blockingAddresses.has(address.toUpperCase()) && Number.parseInt(hexPort, 16) === port;
    if (blocks && fields[3] === listenState && inode !== "0") inodes.push(inode);
  }
  return inodes;
}

async function readOrUndefined(proc: ProcFiles, path: string): Promise<string | undefined> {
  return proc.readFile(path).catch(() => undefined);
}

/** What one process's open files say: which of `inodes` it holds, or that it may not be inspected. */
async function socketsOf(
  proc: ProcFiles,
  pid: string,
  inodes: ReadonlySet<string>,
): Promise<boolean | "denied"> {
  let fds: string[];
  try {
    fds = await proc.readdir(`/proc/${pid}/fd`);
  } catch (error: unknown) {
    // Gone meanwhile (ENOENT) is no answer; another user's process (EACCES) may be the one.
    return (error as NodeJS.ErrnoException).code === "EACCES" ? "denied" : false;
  }
  for (const fd of fds) {
    const target = await proc.readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && inodes.has(inode)) return true;
  }
  return false;
}

async function commandOf(proc: ProcFiles, pid: number): Promise<string> {
  const argv = (await readOrUndefined(proc, `/proc/${pid}/cmdline`)) ?? "";
  const command = argv.split("\0").filter(Boolean).join(" ");
  if (command !== "") return command.length > 300 ? `${command.slice(0, 297)}...` : command;
  return ((await readOrUndefined(proc, `/proc/${pid}/comm`)) ?? "").trim() || "?";
}

/** Every process that holds one of the sockets, and whether some processes could not be inspected. */
async function processesHolding(
  proc: ProcFiles,
  inodes: ReadonlySet<string>,
): Promise<{ pids: number[]; denied: boolean }> {
  const entries = (await proc.readdir("/proc")).filter((entry) => /^\d+$/.test(entry));
  const answers = await Promise.all(entries.map((pid) => socketsOf(proc, pid, inodes)));
  return {
    pids: entries.filter((_, index) => answers[index] === true).map(Number),
    denied: answers.includes("denied"),
  };
}

async function tablesOf(proc: ProcFiles): Promise<string[]> {
  const tables = await Promise.all(
    ["/proc/net/tcp", "/proc/net/tcp6"].map((path) => readOrUndefined(proc, path)),
  );
  return tables.filter((table) => table !== undefined);
}

/** Who listens on `port` in a way that keeps 127.0.0.1:port from being bound. Never throws. */
export async function findPortHolders(port: number, proc: ProcFiles = procFiles): Promise<HolderLookup> {
  const tables = await tablesOf(proc);
  if (tables.length === 0) return { unknown: "a process this system does not name (no /proc/net/tcp)" };
  const inodes = new Set(tables.flatMap((table) => listeningInodes(table, port)));
  if (inodes.size === 0)
    return { unknown: "a listener not visible here (in another network namespace, or just gone)" };
  const { pids, denied } = await processesHolding(proc, inodes).catch(() => ({ pids: [], denied: true }));
  const holders = await Promise.all(pids.map(async (pid) => ({ pid, command: await commandOf(proc, pid) })));
  const [first, ...rest] = holders;
  if (first !== undefined) return { holders: [first, ...rest] };
  return {
    unknown: denied
      ? "a process this user may not inspect (another user's: `sudo ss -ltnp` names it)"
      : "a process that could not be found (it may have just exited)",
  };
}

/** "pid 4242 (python3 -m http.server 18081)", or what is known instead; reads after "in use by". */
export function describeHolders(lookup: HolderLookup): string {
  if ("unknown" in lookup) return lookup.unknown;
  return lookup.holders.map((holder) => `pid ${holder.pid} (${holder.command})`).join(", ");
}

/** findPortHolders, described. */
export async function describePortHolder(port: number, proc: ProcFiles = procFiles): Promise<string> {
  return describeHolders(await findPortHolders(port, proc));
}

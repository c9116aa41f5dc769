import { readdir, readFile } from "node:fs/promises";
import type { LedgerRecord } from "../core/ledger/record.js";
import type { Journal } from "./journal.js";
import { isJournalName } from "./journal.js";
import { proxyUid } from "./network.js";
import type { ProcessTable } from "./proc.js";

/*
 * The orphan-proxy scan at the daemon's start (issue 12, ADR 0039's revert guarantee): a proxy the journal
 * does not account for is SIGKILLed. A proxy started but not yet journaled when the daemon died, or one
 * left by a fault whose record is closed, would otherwise hold its pod's redirected connections until it
 * ends itself. A process is taken for one of this daemon's proxies only if all of these hold: it runs as
 * the proxy's uid (2909, which only root can take), its argv[1] is this daemon's proxy script, and its
 * argv names this daemon's journal directory (`--journal DIR`) and a work name (`--work NAME`), as the
 * launcher writes them. Its start time is read when it is found and checked again just before the kill.
 */

/** A process of the node as the scan sees it. */
export interface RunningProcess {
  readonly pid: number;
  readonly argv: readonly string[];
  readonly uid: number | undefined;
}

/** Lists the node's processes: /proc in production, a list in unit tests. */
export interface ProcessLister {
  list(): Promise<RunningProcess[]>;
}

export interface OrphanScanContext {
  readonly lister: ProcessLister;
  readonly processes: ProcessTable;
  readonly journal: Pick<Journal, "read">;
  readonly ledger: { get(id: string): Promise<LedgerRecord | undefined> };
  /** The proxy script the launcher runs, and the journal directory it names. */
  readonly script: string;
  readonly journalDir: string;
  readonly log: (message: string, fields?: Record<string, unknown>) => void;
}

/** The value after `flag` in argv, or undefined. */
function argAfter(argv: readonly string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at < 0 ? undefined : argv[at + 1];
}

/** This daemon's proxies among the processes, with the work each was started for. */
export function broadsideProxies(
  processes: readonly RunningProcess[],
  script: string,
  journalDir: string,
): { pid: number; work: string }[] {
  return processes.flatMap((each) => {
    const work = argAfter(each.argv, "--work");
    const ours =
      each.uid === proxyUid &&
      each.argv[1] === script &&
      argAfter(each.argv, "--journal") === journalDir &&
      work !== undefined &&
      isJournalName(work);
    return ours ? [{ pid: each.pid, work }] : [];
  });
}

/** Why the proxy must go, or undefined when its journal entry holds it and its ledger record is open. */
async function orphanReason(ctx: OrphanScanContext, pid: number, work: string): Promise<string | undefined> {
  const entry = await ctx.journal.read(work);
  if (entry === undefined) return "its journal entry is missing";
  if (entry.proxy?.pid !== pid) return "its journal entry names another proxy (or none)";
  if (entry.phase !== "applied") return `its fault is ${entry.phase}, not held`;
  try {
    const record = await ctx.ledger.get(entry.spec.ledgerId);
    if (record === undefined) return "its ledger record is missing";
    if (record.state === "closed") return "its ledger record is closed";
  } catch {
    // A ledger that cannot be read counts as open: the fault's own end still reverts it.
  }
  return undefined;
}

/** SIGKILLs every proxy of this daemon's that nothing accounts for; returns what it killed, and why. */
export async function killOrphanProxies(ctx: OrphanScanContext): Promise<string[]> {
  const killed: string[] = [];
  for (const { pid, work } of broadsideProxies(await ctx.lister.list(), ctx.script, ctx.journalDir)) {
    const startTime = await ctx.processes.startTime(pid);
    if (startTime === undefined) continue;
    const reason = await orphanReason(ctx, pid, work);
    if (reason === undefined) continue;
    // The same process still (a pid reused meanwhile has another start time): only then the kill.
    if ((await ctx.processes.startTime(pid)) !== startTime) continue;
    if (!ctx.processes.signal(pid, "SIGKILL")) continue;
    killed.push(`proxy ${String(pid)} of ${work}: ${reason}`);
    ctx.log("orphan proxy killed", { pid, work, reason });
  }
  return killed;
}

/** The node's processes from /proc: argv from cmdline, the real uid from status. */
export const systemProcessLister: ProcessLister = {
  list: async () => {
    const names = await readdir("/proc").catch(() => [] as string[]);
    const listed = await Promise.all(
      names
        .filter((name) => /^[0-9]+$/.test(name))
        .map(async (name): Promise<RunningProcess | undefined> => {
          const cmdline = await readFile(`/proc/${name}/cmdline`, "utf8").catch(() => undefined);
          const status = await readFile(`/proc/${name}/status`, "utf8").catch(() => undefined);
          if (cmdline === undefined || status === undefined) return undefined;
          const uid = /^Uid:\s+([0-9]+)/m.exec(status)?.[1];
          return {
            pid: Number(name),
            argv: cmdline.split("\0").filter((part, at, all) => part !== "" || at < all.length - 1),
            uid: uid === undefined ? undefined : Number(uid),
          };
        }),
    );
    return listed.filter((each): each is RunningProcess => each !== undefined);
  },
};

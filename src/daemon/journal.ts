import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { nodeWorkSpecSchema, nodeWorkStatusSchema } from "../core/node-work.js";

/*
 * The daemon's node-local journal (ADR 0029): one file per work object, written before the daemon acts,
 * so a daemon killed at any point finds on its restart what it was doing. The ledger in the cluster says
 * what Broadside meant to do; the journal says how far this node got, and what it acted on.
 *
 * - open: about to act; `target` is set once the process is found (pid and start time), before the signal.
 * - decided: the outcome is known (`status`), not yet written to the work object.
 * - applied (timed kinds, ADR 0032): the fault holds in `netns` (stress: `stress.cgroups`, ADR 0040) until
 *   `endsAt`; `status` is Applied.
 * - reported: the work object has the status; kept a while for the record, then pruned.
 * A timed entry is journaled `open` with its namespace before anything is applied, so a daemon killed
 * mid-apply finds what to remove.
 */

export const journalEntrySchema = z.strictObject({
  work: z.string(),
  spec: nodeWorkSpecSchema,
  phase: z.enum(["open", "applied", "decided", "reported"]),
  openedAt: z.number(),
  netns: z.strictObject({ path: z.string(), how: z.string() }).optional(),
  appliedAt: z.number().optional(),
  endsAt: z.number().optional(),
  /** Whether the work object has the Applied status (a lost API server may delay it). */
  appliedReported: z.boolean().optional(),
  target: z
    .strictObject({ pid: z.number().int().positive(), startTime: z.string(), how: z.string() })
    .optional(),
  status: nodeWorkStatusSchema.optional(),
  /** delay and loss: the backend the daemon chose, and why (ADR 0039). */
  backend: z.strictObject({ kind: z.enum(["kernel", "proxy"]), why: z.string() }).optional(),
  /** The proxy backend: the proxy's process (pid and start time, journaled before the redirect) and ports. */
  proxy: z
    .strictObject({
      pid: z.number().int().positive(),
      startTime: z.string(),
      listeners: z.array(
        z.strictObject({
          port: z.number().int(),
          proxyPort: z.number().int(),
          /** A listener for the pod's connections to a peer (ADR 0041): the peer's address. */
          upstream: z.string().optional(),
        }),
      ),
    })
    .optional(),
  /**
   * stress (ADR 0040): the container's cgroups (journaled before the stressor starts), the OOM kill count
   * then, and the stressor's process (pid and start time, journaled before it is told to go).
   */
  stress: z
    .strictObject({
      cgroups: z.strictObject({ version: z.enum(["v1", "v2"]), memory: z.string(), cpu: z.string() }),
      how: z.string(),
      oomBaseline: z.number().int().nonnegative(),
      pid: z.number().int().positive().optional(),
      startTime: z.string().optional(),
    })
    .optional(),
});
export type JournalEntry = z.infer<typeof journalEntrySchema>;

export interface Journal {
  /** Writes the entry whole (a crash leaves the previous version or this one, never half of either). */
  write(entry: JournalEntry): Promise<void>;
  read(work: string): Promise<JournalEntry | undefined>;
  /** Entries not yet reported, oldest first. */
  unfinished(): Promise<JournalEntry[]>;
  /** Removes reported entries opened before `before` (epoch ms); returns how many. */
  prune(before: number): Promise<number>;
}

/** A work object's name as a journal file name: only names Broadside makes (nodework-<ledger id>). */
const workNamePattern = /^nodework-[0-9]{8}t[0-9]{6}-[0-9a-f]{6}$/;

export function isJournalName(work: string): boolean {
  return workNamePattern.test(work);
}

/** The journal as files in a directory of the node (a hostPath in the DaemonSet). */
export class FileJournal implements Journal {
  constructor(readonly dir: string) {}

  async write(entry: JournalEntry): Promise<void> {
    const file = this.fileOf(entry.work);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(entry), { mode: 0o600 });
    await rename(temporary, file);
  }

  async read(work: string): Promise<JournalEntry | undefined> {
    if (!isJournalName(work)) return undefined;
    return this.parse(await readFile(this.fileOf(work), "utf8").catch(() => undefined));
  }

  async unfinished(): Promise<JournalEntry[]> {
    return (await this.all()).filter((entry) => entry.phase !== "reported");
  }

  async prune(before: number): Promise<number> {
    let pruned = 0;
    for (const entry of await this.all()) {
      if (entry.phase !== "reported" || entry.openedAt >= before) continue;
      await rm(this.fileOf(entry.work), { force: true });
      pruned += 1;
    }
    return pruned;
  }

  private async all(): Promise<JournalEntry[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const entries: JournalEntry[] = [];
    for (const name of names.filter((each) => each.endsWith(".json")).sort()) {
      const work = name.slice(0, -".json".length);
      const entry = await this.read(work);
      if (entry !== undefined) entries.push(entry);
    }
    return entries.sort((a, b) => a.openedAt - b.openedAt);
  }

  private fileOf(work: string): string {
    if (!isJournalName(work)) throw new Error(`${JSON.stringify(work)} is not a node work name`);
    return join(this.dir, `${work}.json`);
  }

  private parse(text: string | undefined): JournalEntry | undefined {
    if (text === undefined) return undefined;
    try {
      const parsed = journalEntrySchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The journal in memory, for unit tests. */
export class MemoryJournal implements Journal {
  readonly entries = new Map<string, JournalEntry>();
  /** Every write in order, to check that the journal was written before the action. */
  readonly writes: JournalEntry[] = [];

  write(entry: JournalEntry): Promise<void> {
    this.entries.set(entry.work, entry);
    this.writes.push(entry);
    return Promise.resolve();
  }

  read(work: string): Promise<JournalEntry | undefined> {
    return Promise.resolve(this.entries.get(work));
  }

  unfinished(): Promise<JournalEntry[]> {
    return Promise.resolve(
      [...this.entries.values()]
        .filter((e) => e.phase !== "reported")
        .sort((a, b) => a.openedAt - b.openedAt),
    );
  }

  prune(before: number): Promise<number> {
    let pruned = 0;
    for (const [work, entry] of this.entries) {
      if (entry.phase === "reported" && entry.openedAt < before) {
        this.entries.delete(work);
        pruned += 1;
      }
    }
    return Promise.resolve(pruned);
  }
}

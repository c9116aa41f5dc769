import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sampleWork } from "../core/node-work-fixture.js";
import { FileJournal, isJournalName } from "./journal.js";
import type { JournalEntry } from "./journal.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function journal(): Promise<FileJournal> {
  const dir = await mkdtemp(join(tmpdir(), "broadside-journal-"));
  dirs.push(dir);
  return new FileJournal(join(dir, "journal"));
}

const open: JournalEntry = {
  work: "nodework-20261207t133000-abc123",
  spec: sampleWork,
  phase: "open",
  openedAt: 1_000,
};

describe("the daemon's journal: one file per work object, written whole", () => {
  it("keeps an entry through every phase and lists only the unfinished ones", async () => {
    const files = await journal();
    await files.write(open);
    expect(await files.unfinished()).toEqual([open]);
    const target = { pid: 42, startTime: "777", how: "cgroup x" };
    await files.write({ ...open, target });
    expect(await files.read(open.work)).toEqual({ ...open, target });
    await files.write({ ...open, target, phase: "reported" });
    expect(await files.unfinished()).toEqual([]);
    expect(await readdir(files.dir)).toEqual([`${open.work}.json`]);
  });

  it("prunes reported entries older than the cut-off, never unfinished ones", async () => {
    const files = await journal();
    const other = { ...open, work: "nodework-20261207t133001-abc124", openedAt: 500 };
    await files.write({ ...open, phase: "reported", openedAt: 400 });
    await files.write(other);
    expect(await files.prune(1_000)).toBe(1);
    expect(await files.unfinished()).toEqual([other]);
  });

  it("refuses a name that is not a work object's, so no name becomes a path unchecked", async () => {
    const files = await journal();
    expect(isJournalName("../../etc/passwd")).toBe(false);
    await expect(files.write({ ...open, work: "../escape" })).rejects.toThrow(/not a node work name/);
    expect(await files.read("../escape")).toBeUndefined();
  });
});

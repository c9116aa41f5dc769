import { describe, expect, it } from "vitest";
import type { LedgerRecord } from "../core/ledger/record.js";
import { sampleWork } from "../core/node-work-fixture.js";
import type { NodeWorkSpec } from "../core/node-work.js";
import { MemoryJournal } from "./journal.js";
import type { JournalEntry } from "./journal.js";
import { MemoryProcessTable } from "./memory-processes.js";
import { broadsideProxies, killOrphanProxies } from "./orphan-proxies.js";
import type { RunningProcess } from "./orphan-proxies.js";

const script = "/opt/broadside/dist/daemon/proxy-main.js";
const journalDir = "/var/lib/broadside/daemon";
const delayWork: NodeWorkSpec = {
  ...sampleWork,
  kind: "delay",
  signal: undefined,
  network: { device: "eth0", delay: { latencyMs: 100, jitterMs: 0, correlation: 0 }, ports: [8080] },
  durationMs: 60_000,
};

function work(n: number): string {
  return `nodework-20261207t13300${String(n)}-abc123`;
}

function proxy(pid: number, workName: string, overrides: Partial<RunningProcess> = {}): RunningProcess {
  return {
    pid,
    uid: 2909,
    argv: ["/usr/bin/node", script, "--config", "{}", "--work", workName, "--journal", journalDir],
    ...overrides,
  };
}

function applied(workName: string, ledgerId: string, pid: number): JournalEntry {
  return {
    work: workName,
    spec: { ...delayWork, ledgerId },
    phase: "applied",
    openedAt: 1,
    proxy: { pid, startTime: String(pid * 10), listeners: [] },
  };
}

describe("the orphan-proxy scan at the daemon's start", () => {
  it("knows this daemon's proxies only by uid 2909, its script, its journal directory and a work name", () => {
    const listed = [
      proxy(10, work(1)),
      proxy(11, work(2), { uid: 0 }),
      proxy(12, work(3), {
        argv: ["/usr/bin/node", "/tmp/proxy-main.js", "--work", work(3), "--journal", journalDir],
      }),
      proxy(13, work(4), { argv: ["/usr/bin/node", script, "--work", work(4), "--journal", "/elsewhere"] }),
      proxy(14, "../../etc/passwd"),
      { pid: 15, uid: 2909, argv: ["/usr/bin/node", script] },
    ];
    expect(broadsideProxies(listed, script, journalDir)).toEqual([{ pid: 10, work: work(1) }]);
  });

  it("SIGKILLs proxies without a journal entry, not the one journaled, of a fault not held, or of a closed or missing record; keeps a held one", async () => {
    const processes = new MemoryProcessTable();
    const journal = new MemoryJournal();
    const records = new Map<string, LedgerRecord>();
    const open = { state: "active" } as unknown as LedgerRecord;
    const closed = { state: "closed" } as unknown as LedgerRecord;
    // 20: held, record open: kept. 21: no journal entry. 22: its entry names pid 99. 23: record closed.
    // 24: record missing. 25: its fault decided (reverted).
    const id = (n: number): string => `20261207t133000-aaaaa${String(n)}`;
    await journal.write(applied(work(0), id(0), 20));
    await journal.write(applied(work(2), id(2), 99));
    await journal.write(applied(work(3), id(3), 23));
    await journal.write(applied(work(4), id(4), 24));
    await journal.write({ ...applied(work(5), id(5), 25), phase: "decided" });
    records.set(id(0), open);
    records.set(id(2), open);
    records.set(id(3), closed);
    records.set(id(5), open);
    for (const pid of [20, 21, 22, 23, 24, 25]) processes.processes.set(pid, String(pid * 10));
    const listed = [20, 21, 22, 23, 24, 25].map((pid) => proxy(pid, work(pid - 20)));
    const logged: string[] = [];
    const killed = await killOrphanProxies({
      lister: { list: () => Promise.resolve(listed) },
      processes,
      journal,
      ledger: { get: (id) => Promise.resolve(records.get(id)) },
      script,
      journalDir,
      log: (message) => logged.push(message),
    });
    expect(processes.signals).toEqual([21, 22, 23, 24, 25].map((pid) => ({ pid, signal: "SIGKILL" })));
    expect(killed).toEqual([
      `proxy 21 of ${work(1)}: its journal entry is missing`,
      `proxy 22 of ${work(2)}: its journal entry names another proxy (or none)`,
      `proxy 23 of ${work(3)}: its ledger record is closed`,
      `proxy 24 of ${work(4)}: its ledger record is missing`,
      `proxy 25 of ${work(5)}: its fault is decided, not held`,
    ]);
    expect(processes.processes.has(20)).toBe(true);
    expect(logged).toHaveLength(5);
  });

  it("checks the start time again just before the kill: a pid reused meanwhile is left alone", async () => {
    const processes = new MemoryProcessTable();
    processes.processes.set(30, "300");
    const journal = new MemoryJournal();
    let reads = 0;
    const reused = {
      startTime: (pid: number) => {
        reads += 1;
        // The first read finds the proxy; by the second, the pid is another process's.
        return Promise.resolve(reads === 1 ? processes.processes.get(pid) : "999");
      },
      signal: (pid: number, signal: NodeJS.Signals) => processes.signal(pid, signal),
    };
    const killed = await killOrphanProxies({
      lister: { list: () => Promise.resolve([proxy(30, work(0))]) },
      processes: reused,
      journal,
      ledger: { get: () => Promise.resolve(undefined) },
      script,
      journalDir,
      log: () => undefined,
    });
    expect(killed).toEqual([]);
    expect(processes.signals).toEqual([]);
  });
});

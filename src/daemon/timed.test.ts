import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../core/fake-clock.js";
import { MemoryHaltSwitch } from "../core/halt.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import { MemoryNodeWork } from "../core/memory-node-work.js";
import { sampleWork } from "../core/node-work-fixture.js";
import type { NodeWorkSpec } from "../core/node-work.js";
import type { ArgvRunner } from "./cri-finder.js";
import type { FoundNetns, FoundProcess, ProcessFinder } from "./finder.js";
import { MemoryJournal } from "./journal.js";
import type { JournalEntry } from "./journal.js";
import { MemoryProcessTable } from "./memory-processes.js";
import { TimedFaults } from "./timed.js";
import type { TimedContext } from "./timed.js";

const netnsPath = "/run/netns/bs-test-pod";

type RunResult = Awaited<ReturnType<ArgvRunner["run"]>>;
const ok: RunResult = { exitCode: 0, stdout: "", stderr: "" };
const unknown: RunResult = { exitCode: 127, stdout: "", stderr: "unknown" };

/** The pod namespaces' state as tc and nft would change it; every argv recorded. */
class FakeKernel implements ArgvRunner {
  readonly runs: string[] = [];
  qdisc = false;
  readonly tables = new Set<string>();
  failApply = false;

  run(argv: readonly string[]) {
    this.runs.push(argv.join(" "));
    const inner = argv.slice(argv.indexOf("--") + 1);
    const text = inner.join(" ");
    return Promise.resolve(text.startsWith("tc") ? this.tc(text) : this.nft(text, inner));
  }

  private tc(text: string): RunResult {
    if (text.startsWith("tc qdisc replace")) {
      if (this.failApply) return { exitCode: 2, stdout: "", stderr: "Error: boom" };
      this.qdisc = true;
      return ok;
    }
    if (text.startsWith("tc qdisc del")) {
      if (!this.qdisc) return { exitCode: 2, stdout: "", stderr: "Error: Invalid handle." };
      this.qdisc = false;
      return ok;
    }
    if (text.startsWith("tc -j qdisc show"))
      return {
        ...ok,
        stdout: JSON.stringify(this.qdisc ? [{ kind: "tbf", handle: "b5d:", root: true }] : []),
      };
    return unknown;
  }

  private nft(text: string, inner: readonly string[]): RunResult {
    if (text.startsWith("nft -f")) {
      this.tables.add("broadside_20261207t133000_abc123");
      return ok;
    }
    if (text.startsWith("nft delete table")) {
      if (!this.tables.delete(inner[4] ?? ""))
        return { exitCode: 1, stdout: "", stderr: "Error: No such file or directory" };
      return ok;
    }
    if (text.startsWith("nft -j list tables"))
      return {
        ...ok,
        stdout: JSON.stringify({
          nftables: [...this.tables].map((name) => ({ table: { family: "inet", name } })),
        }),
      };
    return unknown;
  }
}

class NetnsFinder implements ProcessFinder {
  readonly name = "memory";
  find(): Promise<FoundProcess> {
    return Promise.resolve({ found: false, reason: "not used" });
  }
  netns(): Promise<FoundNetns> {
    return Promise.resolve({ found: true, path: netnsPath, how: "netns bs-test-pod" });
  }
  netnsPaths(): Promise<string[]> {
    return Promise.resolve([netnsPath]);
  }
}

const bandwidthWork: NodeWorkSpec = {
  ...sampleWork,
  kind: "bandwidth",
  signal: undefined,
  network: { device: "eth0", bandwidth: { rate: "1mbit", limit: 20_000, buffer: 10_000 } },
  durationMs: 60_000,
};

async function world(spec: NodeWorkSpec = bandwidthWork) {
  const clock = new FakeClock(2_000);
  const store = new MemoryNodeWork();
  const journal = new MemoryJournal();
  const kernel = new FakeKernel();
  const halt = new MemoryHaltSwitch();
  const records = new Map<string, LedgerRecord>();
  const events: string[] = [];
  const write = journal.write.bind(journal);
  journal.write = (entry: JournalEntry) => {
    events.push(`journal ${entry.phase}${entry.netns ? " with netns" : ""}`);
    return write(entry);
  };
  const run = kernel.run.bind(kernel);
  kernel.run = (argv) => {
    const inner = argv.slice(argv.indexOf("--") + 1);
    if (!inner.includes("-j")) events.push(inner.slice(0, 3).join(" "));
    return run(argv);
  };
  const ctx: TimedContext = {
    node: spec.node,
    store,
    journal,
    finder: new NetnsFinder(),
    processes: new MemoryProcessTable(),
    halt,
    clock,
    protectedNamespaces: ["kube-system"],
    self: { host: "node-host", pid: 7 },
    log: () => undefined,
    runner: kernel,
    ledger: { get: (id) => Promise.resolve(records.get(id)) },
    scratchDir: await mkdtemp(join(tmpdir(), "broadside-timed-")),
  };
  const timed = new TimedFaults(ctx);
  const work = await store.create(spec);
  return { ctx, clock, store, journal, kernel, halt, records, events, timed, work };
}

describe("timed node faults in the daemon (ADR 0032)", () => {
  it("journals the namespace before applying, answers Applied, and reverts by itself at the end", async () => {
    const w = await world();
    await w.timed.act(w.work);
    expect(w.events).toEqual([
      "journal open",
      "journal open with netns",
      "tc qdisc replace",
      "journal applied with netns",
      "journal applied with netns",
    ]);
    expect(w.kernel.qdisc).toBe(true);
    const applied = await w.store.read(w.work.name);
    expect(applied?.status).toMatchObject({ phase: "Applied", actedAt: 2_000, endsAt: 62_000 });
    expect(w.timed.holding()).toEqual([w.work.name]);
    await w.clock.advance(59_999);
    expect(w.kernel.qdisc).toBe(true);
    await w.clock.advance(1);
    await w.timed.revert(w.work.name, "settle");
    expect(w.kernel.qdisc).toBe(false);
    expect((await w.store.read(w.work.name))?.status).toMatchObject({
      phase: "Reverted",
      revertedAt: 62_000,
      message: expect.stringContaining("its duration ended") as string,
    });
    expect((await w.journal.read(w.work.name))?.phase).toBe("reported");
    expect(w.timed.holding()).toEqual([]);
  });

  it("reverts on request, and on halt, long before the end", async () => {
    const w = await world();
    await w.timed.act(w.work);
    await w.clock.advance(5_000);
    await w.timed.revertAll("halted (chaos is halted by ops)");
    expect(w.kernel.qdisc).toBe(false);
    expect((await w.store.read(w.work.name))?.status?.message).toContain("halted");
  });

  it("refuses new work while halted: nothing journaled, nothing applied", async () => {
    const w = await world();
    await w.halt.hold({ by: "ops", reason: "incident", since: 1_000 });
    await w.timed.act(w.work);
    expect(w.kernel.runs).toEqual([]);
    expect(w.journal.writes).toEqual([]);
    expect((await w.store.read(w.work.name))?.status?.phase).toBe("Refused");
  });

  it("an apply that fails is cleaned up and answered Failed with tc's words", async () => {
    const w = await world();
    w.kernel.failApply = true;
    await w.timed.act(w.work);
    expect((await w.store.read(w.work.name))?.status).toMatchObject({
      phase: "Failed",
      message: "tc failed: Error: boom",
    });
    expect(w.timed.holding()).toEqual([]);
  });

  it("after a crash: a fault whose ledger record is closed or missing is reverted at start", async () => {
    const w = await world();
    await w.timed.act(w.work);
    const entry = await w.journal.read(w.work.name);
    // A new daemon (the old one was killed): its ledger has no record of the fault.
    const again = new TimedFaults(w.ctx);
    if (entry === undefined) throw new Error("no journal entry");
    await again.resume(entry);
    expect(w.kernel.qdisc).toBe(false);
    expect((await w.store.read(w.work.name))?.status?.message).toContain("ledger record is missing");
  });

  it("after a crash: a fault whose record is open and end is ahead is held again, and reverted at its end", async () => {
    const w = await world();
    w.records.set(bandwidthWork.ledgerId, { state: "active" } as unknown as LedgerRecord);
    await w.timed.act(w.work);
    const entry = await w.journal.read(w.work.name);
    if (entry === undefined) throw new Error("no journal entry");
    const again = new TimedFaults(w.ctx);
    await again.resume(entry);
    expect(again.holding()).toEqual([w.work.name]);
    expect(w.kernel.qdisc).toBe(true);
    await w.clock.advance(60_000);
    await again.revert(w.work.name, "settle");
    expect(w.kernel.qdisc).toBe(false);
  });

  it("after a crash mid-apply (journaled open with its namespace): what was made is removed, the work abandoned", async () => {
    const w = await world();
    w.kernel.qdisc = true;
    const entry: JournalEntry = {
      work: w.work.name,
      spec: bandwidthWork,
      phase: "open",
      openedAt: 2_000,
      netns: { path: netnsPath, how: "test" },
    };
    await new TimedFaults(w.ctx).resume(entry);
    expect(w.kernel.qdisc).toBe(false);
    expect((await w.store.read(w.work.name))?.status?.phase).toBe("Abandoned");
  });

  it("the start-up scan removes marked qdiscs and tables no held fault accounts for, and keeps held ones", async () => {
    const w = await world();
    w.kernel.qdisc = true;
    w.kernel.tables.add("broadside_20261207t133000_abc123");
    const removed = await w.timed.removeLeftovers();
    expect(removed).toEqual([
      `qdisc b5d: on eth0 in ${netnsPath}`,
      `nft table broadside_20261207t133000_abc123 in ${netnsPath}`,
    ]);
    expect(w.kernel.qdisc).toBe(false);
    expect(w.kernel.tables.size).toBe(0);
    await w.timed.act(w.work);
    expect(await w.timed.removeLeftovers()).toEqual([]);
    expect(w.kernel.qdisc).toBe(true);
  });

  it("a partition loads its table and deletes it on revert", async () => {
    const w = await world({
      ...bandwidthWork,
      kind: "partition",
      network: { device: "eth0", partition: { direction: "both" } },
    });
    await w.timed.act(w.work);
    expect(w.kernel.tables.has("broadside_20261207t133000_abc123")).toBe(true);
    await w.timed.revert(w.work.name, "asked");
    expect(w.kernel.tables.size).toBe(0);
    expect((await w.store.read(w.work.name))?.status?.phase).toBe("Reverted");
  });
});

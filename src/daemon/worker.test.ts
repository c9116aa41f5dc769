import { describe, expect, it } from "vitest";
import { FakeClock } from "../core/fake-clock.js";
import { MemoryHaltSwitch } from "../core/halt.js";
import { MemoryNodeWork } from "../core/memory-node-work.js";
import { sampleWork } from "../core/node-work-fixture.js";
import type { NodeWorkSpec } from "../core/node-work.js";
import type { ContainerTarget, FoundNetns, FoundProcess, ProcessFinder } from "./finder.js";
import { MemoryJournal } from "./journal.js";
import type { JournalEntry } from "./journal.js";
import { MemoryProcessTable } from "./memory-processes.js";
import { actOn, resume } from "./worker.js";
import type { WorkerContext } from "./worker.js";

/** Finds every container at pid 42 (start time 777) unless told otherwise. */
class TableFinder implements ProcessFinder {
  readonly name = "memory";
  readonly asked: ContainerTarget[] = [];
  answer: FoundProcess = { found: true, pid: 42, startTime: "777", how: "memory" };

  find(target: ContainerTarget): Promise<FoundProcess> {
    this.asked.push(target);
    return Promise.resolve(this.answer);
  }

  netns(): Promise<FoundNetns> {
    return Promise.resolve({ found: true, path: "/run/netns/memory", how: "memory" });
  }

  netnsPaths(): Promise<string[]> {
    return Promise.resolve([]);
  }
}

function world(spec: NodeWorkSpec = sampleWork) {
  const clock = new FakeClock(2_000);
  const store = new MemoryNodeWork();
  const journal = new MemoryJournal();
  const processes = new MemoryProcessTable();
  processes.processes.set(42, "777");
  const finder = new TableFinder();
  const halt = new MemoryHaltSwitch();
  /** Journal writes and signals in the order they happened. */
  const events: string[] = [];
  processes.onSignal = (pid) => events.push(`signal ${pid}`);
  const write = journal.write.bind(journal);
  journal.write = (entry: JournalEntry) => {
    events.push(`journal ${entry.phase}${entry.target ? " with target" : ""}`);
    return write(entry);
  };
  const ctx: WorkerContext = {
    node: spec.node,
    store,
    journal,
    finder,
    processes,
    halt,
    clock,
    protectedNamespaces: ["kube-system"],
    self: { host: "node-host", pid: 7 },
    log: () => undefined,
  };
  return { ctx, clock, store, journal, processes, finder, halt, events, spec };
}

async function created(w: ReturnType<typeof world>) {
  return w.store.create(w.spec);
}

describe("the daemon's worker: journal, then act, then answer", () => {
  it("journals the work and its target before the SIGKILL, then answers Done with the pid and the time", async () => {
    const w = world();
    const work = await created(w);
    await actOn(w.ctx, work);
    expect(w.events).toEqual([
      "journal open",
      "journal open with target",
      "signal 42",
      "journal decided with target",
      "journal reported with target",
    ]);
    expect(w.processes.signals).toEqual([{ pid: 42, signal: "SIGKILL" }]);
    expect((await w.store.read(work.name))?.status).toMatchObject({ phase: "Done", pid: 42, actedAt: 2_000 });
    expect(w.finder.asked[0]).toMatchObject({ container: "web", pod: sampleWork.pod });
  });

  it("acts once: work answered already, or seen again, is left alone", async () => {
    const w = world();
    const work = await created(w);
    await actOn(w.ctx, work);
    await actOn(w.ctx, (await w.store.read(work.name)) ?? work);
    await actOn(w.ctx, work);
    expect(w.processes.signals).toHaveLength(1);
  });

  it("refuses while chaos is halted: nothing journaled, nothing signalled", async () => {
    const w = world();
    await w.halt.hold({ by: "ops", reason: "incident", since: 1_000 });
    const work = await created(w);
    await actOn(w.ctx, work);
    expect(w.processes.signals).toEqual([]);
    expect(w.journal.writes).toEqual([]);
    expect((await w.store.read(work.name))?.status).toMatchObject({
      phase: "Refused",
      message: expect.stringMatching(/halted.*by ops: incident/) as string,
    });
  });

  it("refuses a protected namespace and another node's work, and abandons work past its deadline", async () => {
    for (const [spec, phase] of [
      [{ ...sampleWork, pod: { ...sampleWork.pod, namespace: "kube-system" } }, "Refused"],
      [{ ...sampleWork, deadline: 1_500 }, "Abandoned"],
    ] as const) {
      const w = world(spec);
      const work = await created(w);
      await actOn(w.ctx, work);
      expect(w.processes.signals).toEqual([]);
      expect((await w.store.read(work.name))?.status?.phase).toBe(phase);
    }
    const w = world();
    const work = await created(w);
    await actOn({ ...w.ctx, node: "kwok-node-9" }, work);
    expect((await w.store.read(work.name))?.status).toMatchObject({
      phase: "Refused",
      message: "the work is for node kwok-node-0, not kwok-node-9",
    });
  });

  it("fails, without a signal, when the container has no process or its pid now belongs to another process", async () => {
    const w = world();
    w.finder.answer = { found: false, reason: "pod shop/web-1 has no body" };
    const work = await created(w);
    await actOn(w.ctx, work);
    expect((await w.store.read(work.name))?.status).toMatchObject({
      phase: "Failed",
      message: "pod shop/web-1 has no body",
    });

    const reused = world();
    reused.finder.answer = { found: true, pid: 42, startTime: "111", how: "memory" };
    const again = await created(reused);
    await actOn(reused.ctx, again);
    expect(reused.processes.signals).toEqual([]);
    expect((await reused.store.read(again.name))?.status?.phase).toBe("Failed");
  });
});

describe("the daemon's worker after a restart: the journal's open entries", () => {
  const target = { pid: 42, startTime: "777", how: "memory" };

  it("finishes an entry whose target still runs, before the deadline: signals it and answers Done", async () => {
    const w = world();
    const work = await created(w);
    await resume(w.ctx, { work: work.name, spec: w.spec, phase: "open", openedAt: 1_900, target });
    expect(w.processes.signals).toEqual([{ pid: 42, signal: "SIGKILL" }]);
    expect((await w.store.read(work.name))?.status?.phase).toBe("Done");
    expect((await w.journal.read(work.name))?.phase).toBe("reported");
  });

  it("abandons an entry whose target still runs past the deadline, without a signal", async () => {
    const w = world();
    const work = await created(w);
    await w.clock.advance(40_000);
    await resume(w.ctx, { work: work.name, spec: w.spec, phase: "open", openedAt: 1_900, target });
    expect(w.processes.signals).toEqual([]);
    expect((await w.store.read(work.name))?.status?.phase).toBe("Abandoned");
  });

  it("counts a target gone as killed, and re-sends an outcome decided but not reported", async () => {
    const w = world();
    w.processes.processes.delete(42);
    const work = await created(w);
    await resume(w.ctx, { work: work.name, spec: w.spec, phase: "open", openedAt: 1_900, target });
    expect((await w.store.read(work.name))?.status).toMatchObject({
      phase: "Done",
      message: expect.stringMatching(/gone when the daemon restarted/) as string,
    });

    const decided = world();
    const other = await created(decided);
    const status = {
      phase: "Done" as const,
      message: "sent",
      at: 1_950,
      actedAt: 1_950,
      pid: 42,
      daemon: { node: "kwok-node-0", host: "h", pid: 1 },
    };
    await resume(decided.ctx, {
      work: other.name,
      spec: decided.spec,
      phase: "decided",
      openedAt: 1_900,
      target,
      status,
    });
    expect((await decided.store.read(other.name))?.status).toEqual(status);
    expect(decided.processes.signals).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { FakeClock } from "../core/fake-clock.js";
import { MemoryHaltSwitch } from "../core/halt.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import { MemoryNodeWork } from "../core/memory-node-work.js";
import { sampleWork } from "../core/node-work-fixture.js";
import type { NodeWorkSpec } from "../core/node-work.js";
import type { FoundNetns, FoundProcess, ProcessFinder } from "./finder.js";
import { MemoryJournal } from "./journal.js";
import { MemoryProcessTable } from "./memory-processes.js";
import { MemoryStressHost } from "./memory-stress-host.js";
import { TimedFaults } from "./timed.js";
import type { TimedContext } from "./timed.js";

const leaf = "broadside-st-a/pod0b5a6c1e-1111-4222-8333-944455556666/web";
const memoryDir = `/sys/fs/cgroup/memory/${leaf}`;
const cpuDir = `/sys/fs/cgroup/cpu/${leaf}`;
const mainPid = 500;

class OneProcessFinder implements ProcessFinder {
  readonly name = "memory";
  find(): Promise<FoundProcess> {
    return Promise.resolve({ found: true, pid: mainPid, startTime: "100", how: `cgroup ${memoryDir}` });
  }
  netns(): Promise<FoundNetns> {
    return Promise.resolve({ found: false, reason: "not used" });
  }
  netnsPaths(): Promise<string[]> {
    return Promise.resolve([]);
  }
}

const stressWork: NodeWorkSpec = {
  ...sampleWork,
  kind: "stress",
  signal: undefined,
  stress: { memory: { bytes: 512 * 2 ** 20, workers: 1 } },
  durationMs: 60_000,
};

function world(spec: NodeWorkSpec = stressWork, limit = String(256 * 2 ** 20)) {
  const clock = new FakeClock(2_000);
  const store = new MemoryNodeWork();
  const journal = new MemoryJournal();
  const processes = new MemoryProcessTable();
  processes.processes.set(mainPid, "100");
  const stressors = new MemoryStressHost(processes);
  stressors.files.set(`/proc/${mainPid}/cgroup`, `4:memory:/${leaf}\n1:cpu:/${leaf}\n0::/\n`);
  stressors.files.set(`${memoryDir}/memory.limit_in_bytes`, `${limit}\n`);
  stressors.files.set(`${memoryDir}/memory.oom_control`, "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  const records = new Map<string, LedgerRecord>([
    [spec.ledgerId, { state: "applied" } as unknown as LedgerRecord],
  ]);
  const write = journal.write.bind(journal);
  journal.write = (entry) => {
    stressors.events.push(`journal ${entry.phase}${entry.stress?.pid === undefined ? "" : " with stressor"}`);
    return write(entry);
  };
  const ctx: TimedContext = {
    node: spec.node,
    store,
    journal,
    finder: new OneProcessFinder(),
    processes,
    halt: new MemoryHaltSwitch(),
    clock,
    protectedNamespaces: ["kube-system"],
    self: { host: "node-host", pid: 7 },
    log: () => undefined,
    runner: { run: () => Promise.resolve({ exitCode: 127, stdout: "", stderr: "not used" }) },
    ledger: { get: (id) => Promise.resolve(records.get(id)) },
    scratchDir: "/nonexistent",
    proxies: { start: () => Promise.reject(new Error("not used")) },
    stressors,
  };
  return { ctx, clock, store, journal, processes, stressors, records, timed: new TimedFaults(ctx) };
}

type World = ReturnType<typeof world>;

async function applied(w: World) {
  const work = await w.store.create(stressWork);
  await w.timed.act(work);
  const status = (await w.store.read(work.name))?.status;
  return { work, status, pid: w.stressors.started[0]?.pid ?? 0 };
}

describe("stress in the daemon (ADR 0040)", () => {
  it("journals the cgroups, puts the stressor into them and journals its pid before it goes, then answers Applied", async () => {
    const w = world();
    const { status, pid } = await applied(w);
    expect(status).toMatchObject({ phase: "Applied", endsAt: 62_000 });
    expect(status?.message).toContain(
      `stress (memory 512MiB in 1 worker(s)) in container web of pod shop/web-1 applied in cgroup ${memoryDir} and ${cpuDir}`,
    );
    expect(w.stressors.events).toEqual([
      "journal open",
      "journal open",
      `spawn ${pid}`,
      `write ${memoryDir}/cgroup.procs ${pid}`,
      `write ${cpuDir}/cgroup.procs ${pid}`,
      "journal open with stressor",
      `go ${pid}`,
      "journal applied with stressor",
      "journal applied with stressor",
    ]);
    expect(w.stressors.started[0]?.config).toEqual({
      memory: { workers: 1, bytesPerWorker: 512 * 2 ** 20 },
      untilMs: 72_000,
    });
    expect((await w.journal.read(w.stressors.started[0]?.work ?? ""))?.stress).toMatchObject({
      pid,
      startTime: `${pid}00`,
      oomBaseline: 3,
    });
  });

  it("SIGKILLs the stressor at the end and answers Reverted", async () => {
    const w = world();
    const { work, pid } = await applied(w);
    await w.clock.advance(60_000);
    await w.timed.revert(work.name, "its duration ended");
    expect(w.processes.signals).toEqual([{ pid, signal: "SIGKILL" }]);
    expect((await w.store.read(work.name))?.status).toMatchObject({ phase: "Reverted", actedAt: 2_000 });
  });

  it("never signals a reused pid: the journaled start time must match", async () => {
    const w = world();
    const { work, pid } = await applied(w);
    w.processes.processes.set(pid, "999999");
    await w.timed.revert(work.name, "halted");
    expect(w.processes.signals).toEqual([]);
    expect((await w.store.read(work.name))?.status?.phase).toBe("Reverted");
  });

  it("a stressor ended by its cgroup's OOM killer: the sweep answers Reverted, saying so", async () => {
    const w = world();
    const { work, pid } = await applied(w);
    w.processes.processes.delete(pid);
    w.stressors.files.set(`${memoryDir}/memory.oom_control`, "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
    await w.timed.sweep();
    const status = (await w.store.read(work.name))?.status;
    expect(status?.phase).toBe("Reverted");
    expect(status?.message).toContain("the OOM killer of the container's memory cgroup ended the stressor");
    expect(w.timed.holding()).toEqual([]);
  });

  it("refuses a memory stress on a container without a memory limit before any stressor starts (the daemon's double check)", async () => {
    const w = world(stressWork, "9223372036854771712");
    const { work, status } = await applied(w);
    expect(status?.phase).toBe("Refused");
    expect(status?.message).toContain("container web of pod shop/web-1: the container has no memory limit");
    expect(w.stressors.started).toEqual([]);
    expect((await w.journal.read(work.name))?.phase).toBe("reported");
  });

  it("fails, leaving nothing, when the stressor cannot start", async () => {
    const w = world();
    w.stressors.failStart = true;
    const { status } = await applied(w);
    expect(status).toMatchObject({ phase: "Failed" });
    expect(status?.message).toContain("the stressor did not start: spawn node ENOENT");
  });

  it("after a crash: holds a stressor still running, reverts one gone, and kills one whose record is closed", async () => {
    const w = world();
    const { work, pid } = await applied(w);
    const entry = await w.journal.read(work.name);
    if (entry === undefined) throw new Error("no journal entry");
    const restarted = new TimedFaults(w.ctx);
    await restarted.resume(entry);
    expect(restarted.holding()).toEqual([work.name]);
    expect(w.processes.signals).toEqual([]);

    w.records.set(stressWork.ledgerId, { state: "closed" } as unknown as LedgerRecord);
    const third = new TimedFaults(w.ctx);
    await third.resume(entry);
    expect(w.processes.signals).toEqual([{ pid, signal: "SIGKILL" }]);
    expect((await w.store.read(work.name))?.status?.message).toContain("its ledger record is closed");
  });

  it("after a crash, a stressor gone while the daemon was down is answered Reverted, never started again", async () => {
    const w = world();
    const { work, pid } = await applied(w);
    const entry = await w.journal.read(work.name);
    if (entry === undefined) throw new Error("no journal entry");
    w.processes.processes.delete(pid);
    const restarted = new TimedFaults(w.ctx);
    await restarted.resume(entry);
    expect(w.stressors.started).toHaveLength(1);
    const status = (await w.store.read(work.name))?.status;
    expect(status?.phase).toBe("Reverted");
    expect(status?.message).toContain("ended before its time while the daemon was down");
  });

  it("kills stressors at start-up that no held fault accounts for", async () => {
    const w = world();
    w.processes.processes.set(7_777, "77700");
    w.stressors.stray.push({ pid: 7_777, work: "nodework-20261207t120000-0000aa" });
    const removed = await w.timed.removeLeftovers();
    expect(removed).toEqual(["stressor pid 7777 of nodework-20261207t120000-0000aa"]);
    expect(w.processes.signals).toEqual([{ pid: 7_777, signal: "SIGKILL" }]);
  });
});

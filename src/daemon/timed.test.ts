import { readFileSync } from "node:fs";
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
import { MemoryStressHost } from "./memory-stress-host.js";
import type { ProxyConfig } from "./proxy.js";
import type { ProxyLauncher, StartedProxy } from "./proxy-launcher.js";
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
  /** Whether this kernel has sch_netem (the daemon's probe). */
  netem = false;
  /** The last ruleset `nft -f` loaded. */
  ruleset = "";

  run(argv: readonly string[]) {
    this.runs.push(argv.join(" "));
    const inner = argv.slice(argv.indexOf("--") + 1);
    const text = inner.join(" ");
    return Promise.resolve(text.startsWith("tc") ? this.tc(text) : this.nft(text, inner));
  }

  private tc(text: string): RunResult {
    if (text.startsWith("tc qdisc add dev lo root netem"))
      return this.netem
        ? ok
        : { exitCode: 2, stdout: "", stderr: "Error: Specified qdisc kind is unknown.\n" };
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
      this.ruleset = readFileSync(inner[2] ?? "", "utf8");
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

/** Proxies "started" as processes in the memory process table. */
class FakeProxies implements ProxyLauncher {
  readonly started: { netnsPath: string; config: ProxyConfig; pid: number }[] = [];
  private nextPid = 4_000;

  constructor(private readonly processes: MemoryProcessTable) {}

  start(netnsPath: string, config: ProxyConfig): Promise<StartedProxy> {
    const pid = (this.nextPid += 1);
    this.processes.processes.set(pid, `${pid}00`);
    this.started.push({ netnsPath, config, pid });
    return Promise.resolve({
      pid,
      listeners: config.ports.map((port, i) => ({ port, proxyPort: 40_000 + i })),
    });
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
  const processes = new MemoryProcessTable();
  const proxies = new FakeProxies(processes);
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
    processes,
    halt,
    clock,
    protectedNamespaces: ["kube-system"],
    self: { host: "node-host", pid: 7 },
    log: () => undefined,
    runner: kernel,
    ledger: { get: (id) => Promise.resolve(records.get(id)) },
    scratchDir: await mkdtemp(join(tmpdir(), "broadside-timed-")),
    proxies,
    stressors: new MemoryStressHost(processes),
  };
  const timed = new TimedFaults(ctx);
  const work = await store.create(spec);
  return { ctx, clock, store, journal, kernel, halt, records, events, timed, work, processes, proxies };
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

  describe("delay and loss (ADR 0039)", () => {
    const delayWork = (backend: "auto" | "kernel" | "proxy", ports?: number[]): NodeWorkSpec => ({
      ...bandwidthWork,
      kind: "delay",
      network: {
        device: "eth0",
        delay: { latencyMs: 200, jitterMs: 50, correlation: 25 },
        backend,
        ...(ports === undefined ? {} : { ports }),
      },
    });

    it("auto on a kernel without netem: the proxy started, journaled, then the redirect; revert removes both", async () => {
      const w = await world(delayWork("auto", [8080]));
      await w.timed.act(w.work);
      expect(w.proxies.started).toEqual([
        {
          netnsPath,
          config: {
            ports: [8080],
            delay: { latencyMs: 200, jitterMs: 50, correlation: 25 },
            untilMs: 2_000 + 60_000 + 10_000,
          },
          pid: 4_001,
        },
      ]);
      const entry = await w.journal.read(w.work.name);
      expect(entry?.backend).toEqual({
        kind: "proxy",
        why: "auto: this node's kernel has no sch_netem (tc: Error: Specified qdisc kind is unknown.)",
      });
      expect(entry?.proxy).toEqual({
        pid: 4_001,
        startTime: "400100",
        listeners: [{ port: 8080, proxyPort: 40_000 }],
      });
      expect(w.kernel.ruleset).toBe(
        [
          "table inet broadside_20261207t133000_abc123 {",
          "  chain prerouting {",
          "    type nat hook prerouting priority dstnat; policy accept;",
          '    iifname "eth0" meta nfproto ipv4 tcp dport 8080 meta time < 67 redirect to :40000',
          "  }",
          "}",
          "",
        ].join("\n"),
      );
      // The pod's qdisc is not touched by the proxy backend.
      expect(w.kernel.runs.some((run) => run.includes("qdisc replace"))).toBe(false);
      const applied = await w.store.read(w.work.name);
      expect(applied?.status?.message).toContain("proxy backend (auto: this node's kernel has no sch_netem");
      await w.timed.revert(w.work.name, "asked");
      expect(w.kernel.tables.size).toBe(0);
      expect(w.processes.signals).toEqual([{ pid: 4_001, signal: "SIGKILL" }]);
      expect((await w.store.read(w.work.name))?.status?.phase).toBe("Reverted");
    });

    it("auto on a kernel with netem: netem on the device, no proxy", async () => {
      const w = await world(delayWork("auto", [8080]));
      w.kernel.netem = true;
      await w.timed.act(w.work);
      expect(w.proxies.started).toEqual([]);
      expect(w.kernel.runs).toContain(
        `nsenter --net=${netnsPath} -- tc qdisc replace dev eth0 root handle b5d: netem delay 200ms 50ms 25%`,
      );
      expect((await w.journal.read(w.work.name))?.backend?.kind).toBe("kernel");
      await w.timed.revert(w.work.name, "asked");
      expect(w.kernel.qdisc).toBe(false);
    });

    const shareWork = (kind: "duplicate" | "corrupt"): NodeWorkSpec => ({
      ...bandwidthWork,
      kind,
      network: { device: "eth0", [kind]: { percent: 5, correlation: 25 } },
    });

    it("duplicate and corrupt on a kernel without netem are refused naming the action and why; nothing journaled or run", async () => {
      for (const kind of ["duplicate", "corrupt"] as const) {
        const w = await world(shareWork(kind));
        await w.timed.act(w.work);
        const status = (await w.store.read(w.work.name))?.status;
        expect(status?.phase).toBe("Refused");
        expect(status?.message).toBe(
          `${kind}: this node's kernel has no sch_netem (tc: Error: Specified qdisc kind is unknown.), and the proxy backend cannot ${kind} packets (a TCP proxy sees a stream, not packets); nothing was done`,
        );
        expect(w.journal.writes).toEqual([]);
        expect(w.kernel.runs.filter((run) => run.startsWith("nsenter"))).toEqual([]);
      }
    });

    it("duplicate and corrupt on a kernel with netem: netem on the device with Broadside's handle", async () => {
      for (const kind of ["duplicate", "corrupt"] as const) {
        const w = await world(shareWork(kind));
        w.kernel.netem = true;
        await w.timed.act(w.work);
        expect(w.kernel.runs).toContain(
          `nsenter --net=${netnsPath} -- tc qdisc replace dev eth0 root handle b5d: netem ${kind} 5% 25%`,
        );
        expect((await w.store.read(w.work.name))?.status?.message).toContain(
          `kernel backend (${kind} is netem's only)`,
        );
        await w.timed.revert(w.work.name, "asked");
        expect(w.kernel.qdisc).toBe(false);
      }
    });

    it("--backend kernel on a kernel without netem is refused naming the flag; nothing journaled or run in the pod", async () => {
      const w = await world(delayWork("kernel", [8080]));
      await w.timed.act(w.work);
      const status = (await w.store.read(w.work.name))?.status;
      expect(status?.phase).toBe("Refused");
      expect(status?.message).toContain("--backend kernel: this node's kernel has no sch_netem");
      expect(w.journal.writes).toEqual([]);
      expect(w.kernel.runs.filter((run) => run.startsWith("nsenter"))).toEqual([]);
    });

    it("after a crash, an applied proxy fault whose end passed: the redirect deleted and the proxy stopped", async () => {
      const w = await world(delayWork("proxy", [8080]));
      await w.timed.act(w.work);
      const entry = await w.journal.read(w.work.name);
      if (entry === undefined) throw new Error("no journal entry");
      w.records.set(bandwidthWork.ledgerId, { state: "active" } as unknown as LedgerRecord);
      // The daemon is killed: its timers go with it.
      w.timed.stop();
      await w.clock.advance(61_000);
      await new TimedFaults(w.ctx).resume(entry);
      expect(w.kernel.tables.size).toBe(0);
      expect(w.processes.signals).toEqual([{ pid: 4_001, signal: "SIGKILL" }]);
      expect((await w.store.read(w.work.name))?.status?.message).toContain(
        "its end passed while the daemon was down",
      );
    });

    it("after a crash before its end: the running proxy is kept and the redirect loaded again; a dead one is started anew", async () => {
      const w = await world(delayWork("proxy", [8080]));
      w.records.set(bandwidthWork.ledgerId, { state: "active" } as unknown as LedgerRecord);
      await w.timed.act(w.work);
      const entry = await w.journal.read(w.work.name);
      if (entry === undefined) throw new Error("no journal entry");
      await new TimedFaults(w.ctx).resume(entry);
      expect(w.proxies.started).toHaveLength(1);
      w.processes.processes.delete(4_001);
      await new TimedFaults(w.ctx).resume(entry);
      expect(w.proxies.started).toHaveLength(2);
      expect((await w.journal.read(w.work.name))?.proxy?.pid).toBe(4_002);
      expect(w.kernel.tables.size).toBe(1);
    });

    it("loss through the proxy passes its share and correlation to the proxy", async () => {
      const w = await world({
        ...bandwidthWork,
        kind: "loss",
        network: {
          device: "eth0",
          loss: { percent: 25, correlation: 0 },
          backend: "proxy",
          ports: [8080, 9090],
        },
      });
      await w.timed.act(w.work);
      expect(w.proxies.started[0]?.config).toMatchObject({
        ports: [8080, 9090],
        loss: { percent: 25, correlation: 0 },
      });
      expect(w.kernel.ruleset).toContain("tcp dport 9090 meta time < 67 redirect to :40001");
      expect((await w.store.read(w.work.name))?.status?.message).toContain("loss 25% on eth0");
    });
  });
});

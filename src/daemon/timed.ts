import { join } from "node:path";
import { rm, writeFile, mkdir } from "node:fs/promises";
import { setTimer } from "../core/clock.js";
import { describeError } from "../core/errors.js";
import { describeHold } from "../core/halt.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import { isTimedKind, noProxyFor, workRefusal } from "../core/node-work.js";
import type { NodeWork, NodeWorkSpec, NodeWorkStatus } from "../core/node-work.js";
import type { ArgvRunner } from "./cri-finder.js";
import type { JournalEntry } from "./journal.js";
import {
  broadsideTables,
  hasBroadsideQdisc,
  chooseBackend,
  inNetns,
  kernelQdiscArgvs,
  ledgerIdOfTable,
  netemLack,
  netemProbeArgv,
  nftDeleteTableArgv,
  nftListTablesArgv,
  nftLoadArgv,
  partitionRuleset,
  proxyRuleset,
  qdiscDeleteArgv,
  qdiscShowArgv,
  saysAlreadyGone,
  saysNoSuchQdisc,
  tableName,
} from "./network.js";
import type { Argv, NetemProbe } from "./network.js";
import type { ProxyConfig } from "./proxy.js";
import type { ProxyLauncher } from "./proxy-launcher.js";
import { describeStress } from "./stress.js";
import type { StressHost } from "./stress.js";
import {
  locateStress,
  removeStressLeftovers,
  startStressor,
  stopStressor,
  stressorAlive,
  stressorGoneReason,
} from "./timed-stress.js";
import { answer, decide, statusOf } from "./worker.js";
import type { WorkerContext } from "./worker.js";

/*
 * Timed node faults (ADR 0032): applied by the daemon, held, and reverted by it at the first of: the
 * fault's end (a timer of the node's own, so a daemon cut off from the API server still reverts on
 * time), a revert request on the work object, its work object deleted, the kill switch held, or, at a
 * restart, a ledger record found closed or missing. Every step is journaled before it is taken.
 */

export interface TimedContext extends WorkerContext {
  /** Runs tc and nft (argv arrays only). */
  readonly runner: ArgvRunner;
  /** Reads a ledger record (the daemon's start-up check of what it held). */
  readonly ledger: { get(id: string): Promise<LedgerRecord | undefined> };
  /** Where nft rulesets are written before `nft -f` (the journal's directory). */
  readonly scratchDir: string;
  /** Starts the proxy backend's process in a pod's namespace (ADR 0039). */
  readonly proxies: ProxyLauncher;
  /** stress (ADR 0040): cgroup files and the stressor's processes. */
  readonly stressors: StressHost;
}

/** The proxy outlives the fault's end by this much at most (its own end); its redirect by half of it. */
export const proxyGraceMs = 10_000;

type Backend = ReturnType<typeof chooseBackend>;

interface Held {
  entry: JournalEntry;
  cancel: () => void;
}

export class TimedFaults {
  private readonly held = new Map<string, Held>();
  /** Reverts in progress, so a timer, a request and a halt never revert one fault twice at once. */
  private readonly reverting = new Map<string, Promise<void>>();
  /** Whether this node's kernel has sch_netem, probed once (undefined: the probe could not tell). */
  private netem: Promise<NetemProbe> | undefined;

  constructor(private readonly ctx: TimedContext) {}

  /** Work names of the faults this daemon holds now. */
  holding(): string[] {
    return [...this.held.keys()];
  }

  /** New timed work: checks, journal, netns found and journaled, apply, journal applied, answer Applied. */
  async act(work: NodeWork): Promise<void> {
    const { ctx } = this;
    const refusal = workRefusal(work.spec, { ...ctx, now: ctx.clock.now() });
    if (refusal !== undefined) {
      await answer(ctx, work.name, statusOf(ctx, refusal.phase, refusal.message));
      return;
    }
    const hold = await ctx.halt.read();
    if (hold !== undefined) {
      await answer(ctx, work.name, statusOf(ctx, "Refused", `${describeHold(hold)}; nothing was done`));
      return;
    }
    const backend = await this.backendOf(work.spec);
    if (backend !== undefined && "refused" in backend) {
      await answer(ctx, work.name, statusOf(ctx, "Refused", `${backend.refused}; nothing was done`));
      return;
    }
    const opened: JournalEntry = {
      work: work.name,
      spec: work.spec,
      phase: "open",
      openedAt: ctx.clock.now(),
      ...(backend === undefined ? {} : { backend }),
    };
    await ctx.journal.write(opened);
    if (work.spec.kind === "stress") {
      const located = await locateStress(ctx, opened);
      if ("problem" in located) {
        await decide(
          ctx,
          opened,
          statusOf(ctx, located.refused === true ? "Refused" : "Failed", located.problem),
        );
        return;
      }
      await ctx.journal.write(located.entry);
      await this.apply(located.entry);
      return;
    }
    const netns = await ctx.finder.netns(work.spec).catch((error: unknown) => ({
      found: false as const,
      reason: `finding the pod's network namespace failed: ${describeError(error)}`,
    }));
    if (!netns.found) {
      await decide(ctx, opened, statusOf(ctx, "Failed", netns.reason));
      return;
    }
    const entry: JournalEntry = { ...opened, netns: { path: netns.path, how: netns.how } };
    await ctx.journal.write(entry);
    await this.apply(entry);
  }

  /**
   * delay and loss: the backend (ADR 0039). `kernel` needs sch_netem (refused without it, naming the
   * flag); `proxy` needs the pod's TCP ports; `auto` takes the kernel's netem where there is one.
   */
  private async backendOf(spec: NodeWorkSpec): Promise<Backend | { refused: string } | undefined> {
    if (spec.kind === "duplicate" || spec.kind === "corrupt") {
      const lacks = netemLack(await this.netemOnNode());
      return lacks === undefined
        ? { kind: "kernel", why: `${spec.kind} is netem's only` }
        : { refused: `${spec.kind}: ${lacks}, and ${noProxyFor(spec.kind)}` };
    }
    if (spec.kind !== "delay" && spec.kind !== "loss") return undefined;
    const asked = spec.network?.backend ?? "auto";
    const lacks = asked === "proxy" ? undefined : netemLack(await this.netemOnNode());
    return chooseBackend(asked, lacks, unproxiable(spec));
  }

  /** The netem probe, run once per daemon (published at start for writers: duplicate and corrupt need it). */
  netemOnNode(): Promise<NetemProbe> {
    this.netem ??= this.ctx.runner.run(netemProbeArgv()).then((probe) => ({
      has: probe.exitCode === 0 ? true : saysNoSuchQdisc(probe.stderr) ? false : undefined,
      words: (probe.stderr.trim().split("\n")[0] ?? "").slice(0, 200),
    }));
    return this.netem;
  }

  /** Applies (or applies again, idempotently) and holds until the end. */
  private async apply(given: JournalEntry): Promise<void> {
    const { ctx } = this;
    const { problem, entry } = await this.runApply(given);
    if (problem !== undefined) {
      await this.removeMarks(entry).catch(() => undefined);
      await decide(ctx, entry, statusOf(ctx, "Failed", problem));
      return;
    }
    const appliedAt = entry.appliedAt ?? ctx.clock.now();
    const endsAt = entry.endsAt ?? appliedAt + (entry.spec.durationMs ?? 0);
    const status: NodeWorkStatus = {
      ...statusOf(
        ctx,
        "Applied",
        `${describeFault(entry.spec)} applied in ${placeOf(entry)} until ${new Date(endsAt).toISOString()}${
          entry.backend === undefined ? "" : `, ${entry.backend.kind} backend (${entry.backend.why})`
        }`,
      ),
      actedAt: appliedAt,
      endsAt,
    };
    const applied: JournalEntry = { ...entry, phase: "applied", appliedAt, endsAt, status };
    await ctx.journal.write(applied);
    this.hold(applied);
    ctx.log("fault applied", { work: entry.work, kind: entry.spec.kind, endsAt });
    if (entry.appliedReported !== true) await this.reportApplied(applied);
  }

  private async reportApplied(entry: JournalEntry): Promise<void> {
    if (entry.status === undefined) return;
    try {
      await answer(this.ctx, entry.work, entry.status);
      const reported: JournalEntry = { ...entry, appliedReported: true };
      const current = this.held.get(entry.work);
      if (current !== undefined) current.entry = reported;
      await this.ctx.journal.write(reported);
    } catch (error: unknown) {
      this.ctx.log("Applied not reported yet", { work: entry.work, error: describeError(error) });
    }
  }

  private hold(entry: JournalEntry): void {
    this.held.get(entry.work)?.cancel();
    const wait = Math.max(0, (entry.endsAt ?? 0) - this.ctx.clock.now());
    const cancel = setTimer(this.ctx.clock, wait, () => {
      void this.revert(entry.work, "its duration ended");
    });
    this.held.set(entry.work, { entry, cancel });
  }

  /** Reverts a held fault (a no-op for one not held); the journal says Reverted before the work object does. */
  revert(work: string, reason: string): Promise<void> {
    const running = this.reverting.get(work);
    if (running !== undefined) return running;
    const held = this.held.get(work);
    if (held === undefined) return Promise.resolve();
    const done = this.revertHeld(held, reason).finally(() => {
      this.reverting.delete(work);
    });
    this.reverting.set(work, done);
    return done;
  }

  private async revertHeld(held: Held, reason: string): Promise<void> {
    const { ctx } = this;
    const { entry } = held;
    const problem = await this.removeMarks(entry).catch((error: unknown) => describeError(error));
    if (problem !== undefined) {
      // Kept held: the sweep tries again; the journal keeps it for a restart.
      ctx.log("revert failed, will retry", { work: entry.work, error: problem });
      return;
    }
    held.cancel();
    this.held.delete(entry.work);
    const revertedAt = ctx.clock.now();
    ctx.log("fault reverted", { work: entry.work, reason });
    const status: NodeWorkStatus = {
      ...statusOf(ctx, "Reverted", `${describeFault(entry.spec)} reverted: ${reason}`),
      ...(entry.appliedAt === undefined ? {} : { actedAt: entry.appliedAt }),
      ...(entry.endsAt === undefined ? {} : { endsAt: entry.endsAt }),
      revertedAt,
    };
    await decide(ctx, entry, status).catch((error: unknown) => {
      ctx.log("Reverted not reported yet", { work: entry.work, error: describeError(error) });
    });
  }

  /** Every held fault reverted now (the kill switch). */
  async revertAll(reason: string): Promise<void> {
    await Promise.all(this.holding().map((work) => this.revert(work, reason)));
  }

  /**
   * Every few seconds: faults past their end reverted (a timer may be late, a revert may have failed),
   * and answers the API server did not take retried.
   */
  async sweep(): Promise<void> {
    const now = this.ctx.clock.now();
    for (const { entry } of [...this.held.values()]) {
      if ((entry.endsAt ?? 0) <= now) await this.revert(entry.work, "its duration ended");
      else if (await this.stressorGone(entry))
        await this.revert(entry.work, await stressorGoneReason(this.ctx, entry));
      else if (entry.appliedReported !== true) await this.reportApplied(entry);
    }
    for (const entry of await this.ctx.journal.unfinished()) {
      if (entry.phase === "decided" && entry.status !== undefined && isTimedKind(entry.spec.kind))
        await decide(this.ctx, entry, entry.status).catch(() => undefined);
    }
  }

  /** A held stress fault whose stressor is no longer running (the OOM killer, or an exit). */
  private async stressorGone(entry: JournalEntry): Promise<boolean> {
    return entry.stress !== undefined && !(await stressorAlive(this.ctx.processes, entry));
  }

  /**
   * A timed journal entry found at start: its ledger record closed or missing, or its end passed,
   * reverts it; an entry opened but never applied is cleaned and abandoned; otherwise it is held again.
   * A ledger that cannot be read counts as open: the end still reverts it.
   */
  async resume(entry: JournalEntry): Promise<void> {
    const { ctx } = this;
    if (entry.phase === "decided" || entry.phase === "reported") return;
    if (entry.phase === "open") {
      if (entry.netns !== undefined || entry.stress !== undefined)
        await this.removeMarks(entry).catch(() => undefined);
      const message =
        "the daemon restarted before the fault was applied; whatever part of it was made is removed";
      await decide(ctx, entry, statusOf(ctx, "Abandoned", message));
      return;
    }
    const closed = await this.recordClosed(entry);
    this.hold(entry);
    if (closed !== undefined) await this.revert(entry.work, closed);
    else if ((entry.endsAt ?? 0) <= ctx.clock.now())
      await this.revert(entry.work, "its end passed while the daemon was down");
    else await this.holdAgain(entry);
  }

  /** A fault still due after a restart: applied again (idempotently); a stressor gone is not started again. */
  private async holdAgain(entry: JournalEntry): Promise<void> {
    const { ctx } = this;
    if (entry.stress !== undefined) {
      if (await this.stressorGone(entry))
        await this.revert(entry.work, `${await stressorGoneReason(ctx, entry)} while the daemon was down`);
      return;
    }
    const { problem, entry: reapplied } = await this.runApply(entry);
    const held = this.held.get(entry.work);
    if (held !== undefined) held.entry = reapplied;
    if (problem !== undefined)
      ctx.log("re-applying after a restart failed", { work: entry.work, error: problem });
  }

  /** Why the entry's ledger record says the fault must go (closed, missing); undefined while open or unreadable. */
  private async recordClosed(entry: JournalEntry): Promise<string | undefined> {
    try {
      const record = await this.ctx.ledger.get(entry.spec.ledgerId);
      if (record === undefined) return "its ledger record is missing";
      return record.state === "closed" ? "its ledger record is closed" : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Marks in this node's pod namespaces that no held fault accounts for: a qdisc with Broadside's handle,
   * an nft table named broadside_<id>. Removed; returns what was removed.
   */
  async removeLeftovers(): Promise<string[]> {
    const { ctx } = this;
    const removed: string[] = [];
    const heldNetns = new Set([...this.held.values()].map(({ entry }) => entry.netns?.path));
    const heldTables = new Set([...this.held.values()].map(({ entry }) => tableName(entry.spec.ledgerId)));
    for (const path of await ctx.finder.netnsPaths().catch(() => [] as string[])) {
      const shown = await ctx.runner.run(inNetns(path, qdiscShowArgv("eth0")));
      if (shown.exitCode === 0 && hasBroadsideQdisc(shown.stdout) && !heldNetns.has(path)) {
        await ctx.runner.run(inNetns(path, qdiscDeleteArgv("eth0")));
        removed.push(`qdisc b5d: on eth0 in ${path}`);
      }
      const tables = await ctx.runner.run(inNetns(path, nftListTablesArgv()));
      if (tables.exitCode !== 0) continue;
      for (const table of broadsideTables(tables.stdout)) {
        if (heldTables.has(table) && ledgerIdOfTable(table) !== undefined) continue;
        await ctx.runner.run(inNetns(path, nftDeleteTableArgv(table)));
        removed.push(`nft table ${table} in ${path}`);
      }
    }
    const heldWork = new Set([...this.held.values()].map(({ entry }) => entry.work));
    removed.push(...(await removeStressLeftovers(ctx, heldWork)));
    for (const what of removed) ctx.log("leftover removed", { what });
    return removed;
  }

  /** Stops the timers (the faults stay: a restarted daemon holds them again, or reverts them). */
  stop(): void {
    for (const held of this.held.values()) held.cancel();
  }

  /** Runs the apply; a problem's words, or undefined, and the entry as journaled (the proxy's process). */
  private async runApply(entry: JournalEntry): Promise<{ problem: string | undefined; entry: JournalEntry }> {
    const { spec, netns } = entry;
    const done = (problem: string | undefined) => ({ problem, entry });
    if (spec.kind === "stress") return this.applyStress(entry);
    if (netns === undefined || spec.network === undefined)
      return done("the work has no network namespace or parameters");
    if (entry.backend?.kind === "proxy") return this.applyProxy(entry, netns.path);
    const { device, partition, peers } = spec.network;
    if (spec.kind === "partition" && partition !== undefined)
      return done(await this.loadTable(entry, partitionRuleset(spec.ledgerId, device, partition, peers)));
    return done(await this.applyQdiscs(spec, netns.path));
  }

  /** The kernel backend's tc commands, in order; the first failure's words. */
  private async applyQdiscs(spec: NodeWorkSpec, netnsPath: string): Promise<string | undefined> {
    const network = spec.network;
    const argvs = network === undefined ? undefined : kernelQdiscArgvs(spec.kind, network);
    if (network === undefined || argvs === undefined) return `the daemon cannot apply ${spec.kind}`;
    // A filtered fault's htb root cannot be changed in place: one left by a run before a restart is removed.
    if (network.peers !== undefined)
      await this.ctx.runner.run(inNetns(netnsPath, qdiscDeleteArgv(network.device)));
    for (const argv of argvs) {
      const problem = failure(await this.ctx.runner.run(inNetns(netnsPath, argv)), "tc");
      if (problem !== undefined) return problem;
    }
    return undefined;
  }

  /** stress (ADR 0040): the stressor started into the container's cgroups (or the journaled one kept). */
  private async applyStress(
    entry: JournalEntry,
  ): Promise<{ problem: string | undefined; entry: JournalEntry }> {
    const endsAt = entry.endsAt ?? this.ctx.clock.now() + (entry.spec.durationMs ?? 0);
    const started = await startStressor(this.ctx, entry, endsAt);
    return "problem" in started
      ? { problem: started.problem, entry }
      : { problem: undefined, entry: started.entry };
  }

  /** Loads a fault's nft table afresh: a table left by a run before a restart is replaced, never doubled. */
  private async loadTable(entry: JournalEntry, ruleset: string): Promise<string | undefined> {
    const { spec, netns } = entry;
    if (netns === undefined) return "the work has no network namespace";
    const table = tableName(spec.ledgerId);
    await this.ctx.runner.run(inNetns(netns.path, nftDeleteTableArgv(table)));
    await mkdir(this.ctx.scratchDir, { recursive: true, mode: 0o700 });
    const file = join(this.ctx.scratchDir, `${table}.nft`);
    await writeFile(file, ruleset, { mode: 0o600 });
    try {
      return failure(await this.ctx.runner.run(inNetns(netns.path, nftLoadArgv(file))), "nft");
    } finally {
      await rm(file, { force: true });
    }
  }

  /**
   * The proxy backend (ADR 0039): the proxy started in the pod's namespace (or the one journaled, still
   * running after a restart), its pid and start time journaled, then the redirect of the pod's ports.
   */
  private async applyProxy(
    given: JournalEntry,
    netnsPath: string,
  ): Promise<{ problem: string | undefined; entry: JournalEntry }> {
    const { spec } = given;
    const network = spec.network;
    const problem = network === undefined ? "the work has no network parameters" : unproxiable(spec);
    if (network === undefined || problem !== undefined) return { problem, entry: given };
    const endsAt = given.endsAt ?? this.ctx.clock.now() + (spec.durationMs ?? 0);
    const started = await this.proxyFor(given, netnsPath, network, endsAt);
    if ("problem" in started) return { problem: started.problem, entry: given };
    const entry = started.entry;
    const listeners = entry.proxy?.listeners ?? [];
    const ruleset = proxyRuleset(
      spec.ledgerId,
      network.device,
      listeners,
      (endsAt + proxyGraceMs / 2) / 1000,
      network.peers,
    );
    return { problem: await this.loadTable(entry, ruleset), entry };
  }

  /** The journaled proxy while it still runs; else a new one, journaled before any redirect points at it. */
  private async proxyFor(
    entry: JournalEntry,
    netnsPath: string,
    network: NonNullable<NodeWorkSpec["network"]>,
    endsAt: number,
  ): Promise<{ entry: JournalEntry } | { problem: string }> {
    const { ctx } = this;
    const { proxy } = entry;
    if (proxy !== undefined && (await ctx.processes.startTime(proxy.pid)) === proxy.startTime)
      return { entry };
    const upstreams = (network.peers ?? []).flatMap((peer) =>
      (peer.ports ?? []).map((port) => ({ host: peer.address, port })),
    );
    const config: ProxyConfig = {
      ports: network.ports ?? [],
      ...(upstreams.length === 0 ? {} : { upstreams }),
      ...(network.delay === undefined ? {} : { delay: network.delay }),
      ...(network.loss === undefined ? {} : { loss: network.loss }),
      untilMs: endsAt + proxyGraceMs,
    };
    let started: Awaited<ReturnType<ProxyLauncher["start"]>>;
    try {
      started = await ctx.proxies.start(netnsPath, config, entry.work);
    } catch (error: unknown) {
      return { problem: `the proxy did not start: ${describeError(error)}` };
    }
    const startTime = await ctx.processes.startTime(started.pid);
    if (startTime === undefined) return { problem: "the proxy exited as soon as it listened" };
    const journaled: JournalEntry = {
      ...entry,
      proxy: { pid: started.pid, startTime, listeners: [...started.listeners] },
    };
    await ctx.journal.write(journaled);
    ctx.log("proxy started", { work: entry.work, pid: started.pid, listeners: started.listeners });
    return { entry: journaled };
  }

  /** Removes what the fault added; "already gone" counts as removed. Throws with the tool's words otherwise. */
  private async removeMarks(entry: JournalEntry): Promise<void> {
    if (entry.stress !== undefined) await stopStressor(this.ctx, entry);
    else await this.removeNetworkMarks(entry);
  }

  private async removeNetworkMarks(entry: JournalEntry): Promise<void> {
    const { spec, netns } = entry;
    if (netns === undefined || spec.network === undefined) return;
    const proxied = entry.backend?.kind === "proxy";
    const argv: Argv =
      spec.kind === "partition" || proxied
        ? nftDeleteTableArgv(tableName(spec.ledgerId))
        : qdiscDeleteArgv(spec.network.device);
    const outcome = await this.ctx.runner.run(inNetns(netns.path, argv));
    const gone =
      outcome.exitCode === 0 ||
      saysAlreadyGone(outcome.stderr) ||
      /Cannot open network namespace|No such file/i.test(outcome.stderr);
    if (!gone) throw new Error(`${argv.join(" ")}: ${outcome.stderr.trim()}`);
    // The redirect first, then the proxy: no new connection is sent to a proxy that is gone.
    if (proxied) await this.stopProxy(entry);
  }

  /** SIGKILL to the journaled proxy, only while that pid still has that start time. */
  private async stopProxy(entry: JournalEntry): Promise<void> {
    const { proxy } = entry;
    if (proxy === undefined) return;
    if ((await this.ctx.processes.startTime(proxy.pid)) !== proxy.startTime) return;
    this.ctx.processes.signal(proxy.pid, "SIGKILL");
    this.ctx.log("proxy stopped", { work: entry.work, pid: proxy.pid });
  }
}

/** Where the fault was applied: the pod's namespace, or the container's cgroups. */
function placeOf(entry: JournalEntry): string {
  return entry.netns?.how ?? entry.stress?.how ?? "?";
}

/**
 * Why the proxy backend cannot carry the work, or undefined: it redirects connections into the pod on its
 * declared ports (from the peers, when there are peers) and the pod's connections to peer pods on theirs
 * (ADR 0041), so it needs one of those; and an external target (no ports) it could not redirect at all.
 */
export function unproxiable(spec: NodeWorkSpec): string | undefined {
  const network = spec.network;
  const external = network?.peers?.find((peer) => peer.ports === undefined || peer.ports.length === 0);
  if (external !== undefined)
    return `the proxy backend redirects the pod's connections to a target's declared ports, and ${external.address} (an external target, or a pod that declares no TCP port) has none; faulting it needs the kernel backend (sch_netem)`;
  const peerPorts = (network?.peers ?? []).some((peer) => (peer.ports ?? []).length > 0);
  if (network?.ports === undefined && !peerPorts)
    return `pod ${spec.pod.namespace}/${spec.pod.name} declares no TCP port, so the proxy backend has nothing to redirect`;
  return undefined;
}

function failure(outcome: { exitCode: number; stderr: string }, tool: string): string | undefined {
  if (outcome.exitCode === 0) return undefined;
  const words = outcome.stderr.trim().split("\n")[0] ?? "";
  if (outcome.exitCode === 127) return `${tool} is not installed on this node (${words})`;
  return `${tool} failed: ${words}`;
}

function faultDetail(network: NodeWorkSpec["network"]): string {
  if (network === undefined) return "";
  const { bandwidth, partition, delay, loss, duplicate, corrupt } = network;
  if (bandwidth !== undefined) return ` ${bandwidth.rate}`;
  if (partition !== undefined) return ` (${partition.direction})`;
  if (delay !== undefined)
    return ` ${delay.latencyMs}ms${delay.jitterMs > 0 ? ` ±${delay.jitterMs}ms (correlation ${delay.correlation}%)` : ""}`;
  const share = loss ?? duplicate ?? corrupt;
  if (share !== undefined)
    return ` ${share.percent}%${share.correlation > 0 ? ` (correlation ${share.correlation}%)` : ""}`;
  return "";
}

/** "bandwidth 1mbit on eth0 of pod shop/web-1", for statuses and logs. */
export function describeFault(spec: NodeWorkSpec): string {
  if (spec.kind === "stress")
    return `stress (${describeStress(spec.stress)}) in container ${spec.container} of pod ${spec.pod.namespace}/${spec.pod.name}`;
  const network = spec.network;
  const where = `${network?.device ?? "eth0"} of pod ${spec.pod.namespace}/${spec.pod.name}`;
  const peers = network?.peers;
  const only =
    peers === undefined
      ? ""
      : `, only with ${peers
          .slice(0, 3)
          .map((peer) => peer.address)
          .join(", ")}${peers.length > 3 ? ` and ${String(peers.length - 3)} more` : ""}`;
  return `${spec.kind}${faultDetail(network)} on ${where}${only}`;
}

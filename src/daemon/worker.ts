import type { Clock } from "../core/clock.js";
import { describeError } from "../core/errors.js";
import { describeHold } from "../core/halt.js";
import type { HaltSwitch } from "../core/halt.js";
import { ConflictError } from "../core/ledger/store.js";
import { workRefusal } from "../core/node-work.js";
import type { NodeWork, NodeWorkPhase, NodeWorkStatus, NodeWorkStore } from "../core/node-work.js";
import type { ProcessFinder } from "./finder.js";
import type { Journal, JournalEntry } from "./journal.js";
import type { ProcessTable } from "./proc.js";

/** What one node's worker acts through. */
export interface WorkerContext {
  readonly node: string;
  readonly store: NodeWorkStore;
  readonly journal: Journal;
  readonly finder: ProcessFinder;
  readonly processes: ProcessTable;
  readonly halt: Pick<HaltSwitch, "read">;
  readonly clock: Clock;
  readonly protectedNamespaces: readonly string[];
  /** Who answers: this daemon, as the status names it. */
  readonly self: { readonly host: string; readonly pid: number };
  readonly log: (message: string, fields?: Record<string, unknown>) => void;
  /**
   * Called at named points ("target-journaled": the target is in the journal, the signal not yet sent).
   * Production passes a no-op; the crash test makes it SIGKILL the daemon there (BROADSIDE_FAILPOINT).
   */
  readonly failpoint?: (name: "target-journaled") => void;
}

/**
 * Acts on one work object of this node: checks it (node, namespace, deadline, the kill switch), writes the
 * journal entry, finds the process, writes the target into the journal, signals it, and answers with the
 * outcome. Work answered already is left alone, so a replayed event or a restart never acts twice.
 */
export async function actOn(ctx: WorkerContext, work: NodeWork): Promise<void> {
  if (work.status !== undefined) return;
  const journaled = await ctx.journal.read(work.name);
  if (journaled !== undefined) {
    await resume(ctx, journaled);
    return;
  }
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
  const entry: JournalEntry = { work: work.name, spec: work.spec, phase: "open", openedAt: ctx.clock.now() };
  await ctx.journal.write(entry);
  await killAndReport(ctx, entry);
}

/** The container-kill itself, its journal entry written: find, journal the target, SIGKILL, report. */
async function killAndReport(ctx: WorkerContext, entry: JournalEntry): Promise<void> {
  const { spec } = entry;
  const found = await ctx.finder.find(spec).catch((error: unknown) => ({
    found: false as const,
    reason: `finding the process failed: ${describeError(error)}`,
  }));
  if (!found.found) {
    await decide(ctx, entry, statusOf(ctx, "Failed", found.reason));
    return;
  }
  const target = { pid: found.pid, startTime: found.startTime, how: found.how };
  const withTarget: JournalEntry = { ...entry, target };
  await ctx.journal.write(withTarget);
  ctx.failpoint?.("target-journaled");
  await decide(ctx, withTarget, signalTarget(ctx, withTarget, await ctx.processes.startTime(target.pid)));
}

/** SIGKILL, only while the pid still has the start time found: a reused pid is never hit. */
function signalTarget(
  ctx: WorkerContext,
  entry: JournalEntry,
  startTime: string | undefined,
): NodeWorkStatus {
  const { spec, target } = entry;
  const what = `container ${spec.container} of pod ${spec.pod.namespace}/${spec.pod.name}`;
  if (
    target === undefined ||
    startTime !== target.startTime ||
    !ctx.processes.signal(target.pid, spec.signal ?? "SIGKILL")
  )
    return statusOf(ctx, "Failed", `the process of ${what} exited before it was signalled`);
  const actedAt = ctx.clock.now();
  ctx.log("container killed", { work: entry.work, pid: target.pid, found: target.how });
  return {
    ...statusOf(
      ctx,
      "Done",
      `${spec.signal ?? "SIGKILL"} sent to pid ${target.pid} (${what}, found by ${target.how})`,
    ),
    actedAt,
    pid: target.pid,
  };
}

/** A journal entry found on a restart (or for work seen again): finish it, or abandon it past its deadline. */
export async function resume(ctx: WorkerContext, entry: JournalEntry): Promise<void> {
  if (entry.phase === "reported") return;
  if (entry.phase === "decided" && entry.status !== undefined) {
    await report(ctx, entry, entry.status);
    return;
  }
  const late = entry.spec.deadline <= ctx.clock.now();
  if (entry.target === undefined) {
    if (late) await abandon(ctx, entry, "found the process");
    else await killAndReport(ctx, entry);
    return;
  }
  const startTime = await ctx.processes.startTime(entry.target.pid);
  if (startTime !== entry.target.startTime) {
    const message = `pid ${entry.target.pid} was gone when the daemon restarted: killed before the restart, or it exited`;
    await decide(ctx, entry, statusOf(ctx, "Done", message));
    return;
  }
  if (late) {
    await abandon(ctx, entry, "signalled the process");
    return;
  }
  await decide(ctx, entry, signalTarget(ctx, entry, startTime));
}

/** Work the daemon restarted in the middle of, past its deadline: nothing more is done. */
async function abandon(ctx: WorkerContext, entry: JournalEntry, before: string): Promise<void> {
  const message = `the daemon restarted before it ${before}, past the work's deadline; nothing was done`;
  await decide(ctx, entry, statusOf(ctx, "Abandoned", message));
}

/** The outcome into the journal first, then to the work object. */
export async function decide(ctx: WorkerContext, entry: JournalEntry, status: NodeWorkStatus): Promise<void> {
  const decided: JournalEntry = { ...entry, phase: "decided", status };
  await ctx.journal.write(decided);
  await report(ctx, decided, status);
}

async function report(ctx: WorkerContext, entry: JournalEntry, status: NodeWorkStatus): Promise<void> {
  // A timed fault's last answer replaces its Applied status (or none, when Applied was never reported).
  await answer(ctx, entry.work, status, entry.spec.durationMs !== undefined);
  await ctx.journal.write({ ...entry, phase: "reported", status });
}

/**
 * Writes the status, conditional on the version read; a conflict reads again (the object changed: a
 * label, or an answer from a previous run of this daemon). A work object gone was withdrawn by its writer.
 */
export async function answer(
  ctx: WorkerContext,
  name: string,
  status: NodeWorkStatus,
  overwritesApplied = false,
): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const current = await ctx.store.read(name);
    if (current === undefined) return;
    if (current.status !== undefined && !(overwritesApplied && current.status.phase === "Applied")) return;
    try {
      await ctx.store.answer(current, status);
      ctx.log("work answered", { work: name, phase: status.phase, message: status.message });
      return;
    } catch (error: unknown) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
}

export function statusOf(ctx: WorkerContext, phase: NodeWorkPhase, message: string): NodeWorkStatus {
  return { phase, message, at: ctx.clock.now(), daemon: { node: ctx.node, ...ctx.self } };
}

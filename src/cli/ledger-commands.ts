import type { Command } from "commander";
import { describeError, usageError } from "../core/errors.js";
import { describeHold, type HaltHold } from "../core/halt.js";
import { printable } from "../core/terminal-text.js";
import { redact, type LedgerRecord } from "../core/ledger/record.js";
import { recoverExpired, type RecoverySummary } from "../core/ledger/recovery.js";
import { optional } from "../core/objects.js";
import { plural } from "../core/targeting/text.js";
import type { EngineContext } from "../engine/context.js";
import { startEngine } from "./engine-setup.js";
import { addClusterFlags, describeSummary, type ClusterFlags } from "./engine-context.js";
import type { CliConfig } from "./config.js";
import { choiceOption, type CliIo } from "./options.js";
import { formatTable } from "./table.js";

type Output = "table" | "json";
const outputOption = choiceOption("--output", ["table", "json"] as const);

/** recover, halt and status: the ledger of faults that Broadside injected and has not yet recovered. */
export function registerLedgerCommands(program: Command, config: CliConfig, io: CliIo): void {
  addClusterFlags(program.command("recover"))
    .description("Revert every expired fault in the ledger (every command also does this on start)")
    .option("-o, --output <format>", "table or json", outputOption, "table")
    .action(async (flags: ClusterFlags & { output: Output }) => {
      const { ctx, leftovers } = await startEngine(config, io, flags);
      printSummaries(io, leftovers, flags.output, "nothing to recover: no expired fault in the ledger");
      await pruneLedger(ctx, config);
    });

  addClusterFlags(program.command("halt"))
    .description(
      "Revert every open fault in the ledger now, expired or not (--hold: and stop all chaos until `broadside resume`)",
    )
    .option("-o, --output <format>", "table or json", outputOption, "table")
    .option("--hold", "hold the cluster-wide kill switch: no Broadside injects anything until resumed", false)
    .option("--reason <text>", "why, shown to whoever is refused (with --hold)", reasonOption)
    .action(async (flags: ClusterFlags & HoldFlags & { output: Output }) => {
      if (flags.reason !== undefined && !flags.hold) throw usageError("--reason", "only goes with --hold");
      const { ctx, leftovers } = await startEngine(config, io, flags);
      // The switch first, so nothing new starts while the open faults are being reverted.
      if (flags.hold) await holdSwitch(ctx, io, flags.reason ?? "");
      const halted = await recoverExpired(ctx.ledger, ctx.targets, ctx.clock, { includeUnexpired: true });
      printSummaries(
        io,
        [...leftovers, ...halted],
        flags.output,
        "nothing to halt: no open fault in the ledger",
      );
      await pruneLedger(ctx, config);
    });

  addClusterFlags(program.command("resume"))
    .description("Release the kill switch that `broadside halt --hold` holds: chaos may run again")
    .action(async (flags: ClusterFlags) => {
      const { ctx } = await startEngine(config, io, flags);
      const released = await ctx.halt.release();
      io.out(released ? "kill switch released: chaos may run again\n" : "the kill switch was not held\n");
    });

  addClusterFlags(program.command("status"))
    .description("List the open faults in the ledger with their deadlines (--closed: the closed ones kept)")
    .option("-o, --output <format>", "table or json", outputOption, "table")
    .option("--closed", "list the closed records still kept, and when each will be pruned", false)
    .action(async (flags: ClusterFlags & { output: Output; closed: boolean }) => {
      const { ctx } = await startEngine(config, io, flags);
      await pruneLedger(ctx, config);
      if (flags.closed) {
        const closed = await ctx.ledger.list({ state: "closed" });
        printClosedRecords(io, closed, config.ledgerRetention.milliseconds, flags.output);
        return;
      }
      const open = await ctx.ledger.list({ state: "open" });
      printOpenRecords(io, open, await ctx.halt.read(), ctx.clock.now(), flags.output);
    });
}

interface HoldFlags {
  readonly hold: boolean;
  readonly reason?: string;
}

const maxReasonLength = 256;

/** A reason is shown to everyone refused: one line of printable text, not too long to read. */
function reasonOption(value: string): string {
  if (value.length > maxReasonLength)
    throw usageError("--reason", `must be at most ${maxReasonLength} characters`);
  if (printable(value) !== value) {
    throw usageError("--reason", "must be one line of printable text");
  }
  return value;
}

async function holdSwitch(ctx: EngineContext, io: CliIo, reason: string): Promise<void> {
  const by = `${ctx.actor.user}@${ctx.actor.host}`;
  const hold = await ctx.halt.hold({ since: ctx.clock.now(), by, reason });
  io.err(`kill switch held: ${describeHold(hold)}; \`broadside resume\` releases it\n`);
}

/**
 * Closed records are an audit trail for BROADSIDE_LEDGER_RETENTION (default 7 days), then go. The ledger
 * commands tidy up; the fault verbs do not, to keep a shot's path short.
 */
async function pruneLedger(ctx: EngineContext, config: CliConfig): Promise<void> {
  const now = ctx.clock.now();
  const pruned = await ctx.ledger.prune({ closedBefore: now - config.ledgerRetention.milliseconds, now });
  if (pruned.records.length > 0) {
    ctx.progress(
      `pruned ${plural(pruned.records.length, "closed ledger record")} older than ${config.ledgerRetention.toString()}`,
    );
  }
  if (pruned.orphanValues > 0)
    ctx.progress(`deleted ${plural(pruned.orphanValues, "orphaned values Secret")}`);
}

function printClosedRecords(
  io: CliIo,
  records: readonly LedgerRecord[],
  retentionMs: number,
  output: Output,
): void {
  if (output === "json") {
    const kept = records.map((record) => ({
      ...redact(record),
      prunedAfter: prunedAfter(record, retentionMs),
    }));
    io.out(`${JSON.stringify({ kind: "LedgerClosed", records: kept }, null, 2)}\n`);
    return;
  }
  if (records.length === 0) {
    io.out("no closed records kept\n");
    return;
  }
  const rows = records.map((r) => [
    ...recordColumns(r),
    r.outcome?.kind ?? "",
    r.outcome === undefined ? "" : new Date(r.outcome.at).toISOString(),
    new Date(prunedAfter(r, retentionMs)).toISOString(),
  ]);
  io.out(formatTable([...recordHeaders, "OUTCOME", "CLOSED", "PRUNED AFTER"], rows));
}

/** The columns every table of records starts with. */
const recordHeaders = ["ID", "FAULT", "TARGET", "NAMESPACE"];

function recordColumns(r: LedgerRecord): string[] {
  // A volley (ADR 0016) names its first pod and how many more it holds; -o json lists them all.
  const more = r.volley === undefined ? "" : ` +${r.volley.length - 1}`;
  return [r.id, r.faultKind, `${r.target.kind.toLowerCase()}/${r.target.name}${more}`, r.target.namespace];
}

/** Epoch ms after which a closed record is pruned. */
function prunedAfter(r: LedgerRecord, retentionMs: number): number {
  return (r.outcome?.at ?? r.createdAt) + retentionMs;
}

function printSummaries(
  io: CliIo,
  summaries: readonly RecoverySummary[],
  output: Output,
  none: string,
): void {
  if (output === "json") {
    const printable = summaries.map(({ error, ...rest }) => ({
      ...rest,
      ...optional("error", error, describeError),
    }));
    io.out(`${JSON.stringify({ kind: "RecoveryResult", records: printable }, null, 2)}\n`);
    return;
  }
  if (summaries.length === 0) io.out(`${none}\n`);
  for (const summary of summaries) io.out(`${describeSummary(summary)}\n`);
}

function printOpenRecords(
  io: CliIo,
  records: readonly LedgerRecord[],
  hold: HaltHold | undefined,
  now: number,
  output: Output,
): void {
  if (output === "json") {
    const status = { kind: "LedgerStatus", ...optional("halted", hold), records: records.map(redact) };
    io.out(`${JSON.stringify(status, null, 2)}\n`);
    return;
  }
  if (hold !== undefined) io.out(`${describeHold(hold)} (broadside resume releases it)\n`);
  if (records.length === 0) {
    io.out("no open faults\n");
    return;
  }
  const rows = records.map((r) => [
    ...recordColumns(r),
    r.path,
    r.state,
    r.deadline <= now ? "expired" : `in ${Math.ceil((r.deadline - now) / 1000)}s`,
    `${r.actor.user}@${r.actor.host}`,
  ]);
  io.out(formatTable([...recordHeaders, "PATH", "STATE", "DEADLINE", "BY"], rows));
}

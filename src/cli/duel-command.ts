import type { Command } from "commander";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { objectName } from "../core/names.js";
import { parseDuelFile, type DuelFile } from "../duel/file.js";
import { FluxDefender } from "../duel/flux.js";
import type { GitOpsDefender } from "../duel/gitops.js";
import { buildDuelReport, renderDuelReport, type DuelReport } from "../duel/report.js";
import { planDuel, runDuel } from "../duel/run.js";
import type { EngineContext } from "../engine/context.js";
import { parseReportFormat, type ReportFormat } from "../experiments/report/formats.js";
import type { SandboxName } from "../sandbox/sandbox-name.js";
import type { CliConfig } from "./config.js";
import { addClusterFlags, type ClusterFlags } from "./engine-context.js";
import { startEngine } from "./engine-setup.js";
import { readInputFile } from "./input-file.js";
import type { CliIo } from "./options.js";
import { clusterOf, stampOf, withInterrupt } from "./run-command.js";
import { sandboxNameOption } from "./sandbox-commands.js";

/**
 * `broadside duel FILE` (issue 13, ADR 0034, docs/duel.md): Broadside's attacks against a GitOps
 * controller's heals, measured, with a scoreboard.
 */

interface DuelFlags extends ClusterFlags {
  readonly sandbox?: SandboxName;
  readonly dryRun: boolean;
  readonly reportDir: string;
  readonly format: ReportFormat;
  readonly unsafe: boolean;
}

export function registerDuelCommand(program: Command, config: CliConfig, io: CliIo): void {
  addClusterFlags(program.command("duel"))
    .description("Attack objects a GitOps controller manages and measure who heals them, and when")
    .argument("<file>", "the Duel file (YAML)")
    .option(
      "--sandbox <name>",
      "duel in this Broadside sandbox (its admin kubeconfig)",
      sandboxNameOption("--sandbox"),
    )
    .option("--dry-run", "check the file and plan every attack against the cluster; change nothing", false)
    .option("--report-dir <dir>", "where the JSON and HTML reports are written", "broadside-reports")
    .option(
      "--format <format>",
      "the summary on stdout: text, json, md, junit or html",
      (v: string) => parseReportFormat(v),
      "text",
    )
    .option("--unsafe", "lift the blast-radius cap (needed to kill the only pod of a workload)", false)
    .action(async (file: string, flags: DuelFlags) => {
      await duelFile(config, io, file, flags);
    });
}

function defenderFor(ctx: EngineContext, file: DuelFile): GitOpsDefender {
  // The schema admits "flux" only so far; another controller is one more case here (ADR 0034).
  return new FluxDefender({
    objects: ctx.objects,
    clock: ctx.clock,
    namespace: file.gitops.namespace,
    name: file.gitops.name,
  });
}

/** Everything `broadside duel FILE` does; answers the report (nothing on a dry run). */
export async function duelFile(
  config: CliConfig,
  io: CliIo,
  path: string,
  flags: DuelFlags,
): Promise<DuelReport | undefined> {
  // The file is checked whole before the kubeconfig is read and before any request.
  const file = parseDuelFile(await readInputFile(path, "<file>"), path);
  const cluster = await clusterOf(config, io, flags);
  const { ctx } = await startEngine(config, io, { ...cluster, unsafe: flags.unsafe });
  const defender = defenderFor(ctx, file);
  if (flags.dryRun) {
    const plan = await planDuel({ ctx, defender, stop: new Promise(() => undefined) }, file);
    io.out(`${plan.join("\n")}\n`);
    return undefined;
  }
  const run = await withInterrupt(io, (interrupt) => {
    const stop = new Promise<void>((resolve) => {
      interrupt.addEventListener("abort", () => {
        resolve();
      });
    });
    return runDuel({ ctx, defender, stop }, file);
  });
  const report = buildDuelReport(
    file,
    { controller: defender.controller, description: defender.description },
    run,
  );
  const written = await writeDuelReports(report, flags.reportDir);
  const summary = renderDuelReport(report, flags.format);
  io.out(summary.endsWith("\n") ? summary : `${summary}\n`);
  io.err(`reports: ${written.join(", ")}\n`);
  return report;
}

async function writeDuelReports(report: DuelReport, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const base = join(dir, `duel-${objectName(report.name, "metadata.name")}-${stampOf(report.startedAt)}`);
  await writeFile(`${base}.json`, renderDuelReport(report, "json"));
  await writeFile(`${base}.html`, renderDuelReport(report, "html"));
  return [`${base}.json`, `${base}.html`];
}

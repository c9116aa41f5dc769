import type { Command } from "commander";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startAgentHttp } from "../agent/http/server.js";
import { parseListenAddress, type ListenAddress } from "../agent/http/address.js";
import type { Clock } from "../core/clock.js";
import { objectName } from "../core/names.js";
import { optional } from "../core/objects.js";
import { DuelMetrics } from "../duel/metrics.js";
import { sandboxStatus } from "../sandbox/sandbox.js";
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
import { sandboxEnvironment, sandboxNameOption } from "./sandbox-commands.js";

/**
 * `broadside duel FILE` (issue 13, ADR 0034, docs/duel.md): Broadside's attacks against a GitOps
 * controller's heals, measured, with a scoreboard.
 */

interface DuelFlags extends ClusterFlags {
  readonly sandbox?: SandboxName;
  readonly metricsBindAddress?: ListenAddress;
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
    .option(
      "--metrics-bind-address <host:port>",
      "serve the duel's metrics at /metrics here while it runs (with --sandbox and its Prometheus: 127.0.0.1, a free port, listed for scraping)",
      (text: string) => parseListenAddress(text, "--metrics-bind-address"),
    )
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
  const exporter = await startDuelMetrics(config, io, flags, ctx.clock);
  const run = await withInterrupt(io, (interrupt) => {
    const stop = new Promise<void>((resolve) => {
      interrupt.addEventListener("abort", () => {
        resolve();
      });
    });
    return runDuel({ ctx, defender, stop, ...optional("observer", exporter?.metrics) }, file);
  }).finally(() => exporter?.stop());
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

/** Where a sandbox's Prometheus finds its targets (file_sd), when the duel runs in one that has it. */
async function sandboxTargets(config: CliConfig, io: CliIo, sandbox: SandboxName | undefined) {
  if (sandbox === undefined) return undefined;
  const { state } = await sandboxStatus(sandboxEnvironment(config, io), sandbox);
  return state.prometheus?.targetsDir;
}

interface DuelExporter {
  readonly metrics: DuelMetrics;
  /** Waits (at most 10 s) for a scrape of the last figures, unlists the target, closes the listener. */
  stop(): Promise<void>;
}

/** How long the end of a duel waits for a scrape of its last figures: five of the sandbox's scrapes. */
const lastScrapeMs = 10_000;
/** How long its start waits for the first scrape: Prometheus applies new targets every 5 s, then scrapes. */
const firstScrapeMs = 15_000;

/**
 * The duel's /metrics (docs/metrics.md, "The duel's metrics"): at --metrics-bind-address, or, in a
 * sandbox running Prometheus, on a free port of 127.0.0.1 listed in its targets directory as
 * broadside-duel-PID.json (job "broadside", component "duel") for the duel's length.
 */
async function startDuelMetrics(
  config: CliConfig,
  io: CliIo,
  flags: DuelFlags,
  clock: Clock,
): Promise<DuelExporter | undefined> {
  const targetsDir = await sandboxTargets(config, io, flags.sandbox);
  const address =
    flags.metricsBindAddress ??
    (targetsDir === undefined ? undefined : parseListenAddress("127.0.0.1:0", "--metrics-bind-address"));
  if (address === undefined) return undefined;
  const metrics = new DuelMetrics(clock);
  const server = await startAgentHttp(
    { healthAddress: address, metricsAddress: address },
    { metrics, readiness: [] },
  );
  io.err(`duel metrics: ${server.metrics.url}/metrics\n`);
  const listed =
    targetsDir === undefined
      ? undefined
      : await listScrapeTarget(targetsDir, `${server.metrics.host}:${server.metrics.port}`);
  // The zero series must be in Prometheus before the first attack: rate() and increase() see no rise in
  // a series whose first sample already counts it.
  if (listed !== undefined && !(await metrics.scraped(firstScrapeMs))) {
    io.err(`duel metrics: not scraped within ${firstScrapeMs / 1000} s; the duel starts anyway\n`);
  }
  return {
    metrics,
    stop: async () => {
      if (listed !== undefined && !(await metrics.scraped(lastScrapeMs))) {
        io.err(`duel metrics: not scraped within ${lastScrapeMs / 1000} s of the end\n`);
      }
      if (listed !== undefined) await rm(listed, { force: true });
      await server.close();
    },
  };
}

/** A file_sd file written whole (renamed into place), so Prometheus never reads half of it. */
async function listScrapeTarget(dir: string, address: string): Promise<string> {
  const path = join(dir, `broadside-duel-${process.pid}.json`);
  await writeFile(
    `${path}.tmp`,
    `${JSON.stringify([{ targets: [address], labels: { component: "duel" } }])}\n`,
  );
  await rename(`${path}.tmp`, path);
  return path;
}

async function writeDuelReports(report: DuelReport, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const base = join(dir, `duel-${objectName(report.name, "metadata.name")}-${stampOf(report.startedAt)}`);
  await writeFile(`${base}.json`, renderDuelReport(report, "json"));
  await writeFile(`${base}.html`, renderDuelReport(report, "html"));
  return [`${base}.json`, `${base}.html`];
}

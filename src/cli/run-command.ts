import { Command } from "commander";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Duration } from "../core/duration.js";
import { BroadsideError, usageError } from "../core/errors.js";
import { refuseWhileHalted } from "../core/halt.js";
import { durationLimits } from "../core/input-limits.js";
import { objectName } from "../core/names.js";
import { optional } from "../core/objects.js";
import { parseExperimentFile } from "../experiments/files/load.js";
import type { LoadedExperiment } from "../experiments/files/model.js";
import { isLoopback } from "../experiments/files/probes.js";
import { contextNamespace, loadAccessConfig } from "../kube/client.js";
import { renderReport, parseReportFormat, type ReportFormat } from "../experiments/report/formats.js";
import type { RunReport } from "../experiments/report/run-report.js";
import { runPlanOf, type RunPlan } from "../experiments/run/plan.js";
import { runExperiment } from "../experiments/run/runner.js";
import type { SandboxName } from "../sandbox/sandbox-name.js";
import { layoutFor, sandboxNames } from "../sandbox/sandbox.js";
import type { CliConfig } from "./config.js";
import { readInputFile } from "./input-file.js";
import { startEngine } from "./engine-setup.js";
import { addClusterFlags, clusterAccess, type ClusterFlags } from "./engine-context.js";
import { resolveFrontDoors, sandboxDoorLookup } from "./front-door-probes.js";
import { durationOption, type CliIo } from "./options.js";
import { probesFromFlags } from "./probe-flag.js";
import { printDryRun } from "./run-plan-output.js";
import { sandboxEnvironment, sandboxNameOption } from "./sandbox-commands.js";

export interface RunFlags extends ClusterFlags {
  readonly sandbox?: SandboxName;
  readonly dryRun: boolean;
  readonly probe: string[];
  readonly for?: Duration;
  readonly window: Duration;
  readonly reportDir: string;
  readonly format: ReportFormat;
  readonly unsafe: boolean;
  readonly optIn: boolean;
}

/** The options of `broadside run`, shared by the command and by the demo's reading of an example. */
function defineRunCommand(command: Command): Command {
  return addClusterFlags(command)
    .description("Run an experiment file (Broadside Experiment, Chaos Mesh PodChaos or Schedule) and report")
    .argument("<file>", "the experiment file (YAML)")
    .option(
      "--sandbox <name>",
      "run against this Broadside sandbox (its admin kubeconfig)",
      sandboxNameOption("--sandbox"),
    )
    .option("--dry-run", "check every field and print the plan; change nothing", false)
    .option(
      "--probe <spec>",
      "an http probe: a URL, or key=value pairs (url, name, frequency, timeout, expect, latency-threshold, tolerance); repeatable",
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option(
      "--for <duration>",
      "how long a Schedule keeps firing",
      durationOption("--for", durationLimits.scheduleRun),
    )
    .option(
      "--window <duration>",
      "before/after check window for Chaos Mesh manifests",
      durationOption("--window", durationLimits.checkWindow),
      Duration.parse("10s", "--window"),
    )
    .option("--report-dir <dir>", "where the JSON and HTML reports are written", "broadside-reports")
    .option(
      "--format <format>",
      "the summary on stdout: text, json, md, junit or html",
      (v: string) => parseReportFormat(v),
      "text",
    )
    .option("--unsafe", "lift the blast-radius cap (needed to hit the only pod of a workload)", false)
    .option("--opt-in", "only target namespaces annotated broadside.dev/chaos=enabled", false);
}

export function registerRunCommand(program: Command, config: CliConfig, io: CliIo): void {
  defineRunCommand(program.command("run")).action(async (file: string, flags: RunFlags) => {
    const result = await runFile(config, io, file, flags);
    if (result !== undefined) failOnVerdict(result.report);
  });
}

/** Reads `broadside run` arguments (after "run") as the command would; for the demo's example. */
export async function parseRunArgs(args: readonly string[]): Promise<{ file: string; flags: RunFlags }> {
  let parsed: { file: string; flags: RunFlags } | undefined;
  await defineRunCommand(new Command("run"))
    .exitOverride()
    .action((file: string, flags: RunFlags) => {
      parsed = { file, flags };
    })
    .parseAsync([...args], { from: "user" });
  if (parsed === undefined) throw new BroadsideError("BRD_INTERNAL", "the run arguments were not parsed");
  return parsed;
}

export interface RunOutcome {
  readonly report: RunReport;
  /** The JSON and HTML reports written. */
  readonly files: readonly string[];
}

/**
 * Everything `broadside run FILE` does but the exit code; `broadside demo` calls it too. Returns the report
 * and its files (nothing on dry runs).
 */
export async function runFile(
  config: CliConfig,
  io: CliIo,
  file: string,
  flags: RunFlags,
): Promise<RunOutcome | undefined> {
  // The file is read and checked before the kubeconfig, so its problems are named first; the context's
  // namespace (the default of selectors that name none) only fills in what the file left open.
  const text = await readInputFile(file, "<file>");
  parseExperimentFile(text, file);
  const { cluster, kubeconfig, loopbackOnly } = await targetOf(config, io, flags);
  // Everything in the file and the flags is checked before the first request to the cluster.
  const loaded = parseExperimentFile(text, file, { defaultNamespace: contextNamespace(kubeconfig) });
  for (const warning of loaded.warnings) io.err(`warning: ${warning}\n`);
  if (flags.dryRun && !loaded.runnable) {
    // A dry run checks a file that cannot run yet, and says so, rather than failing.
    io.out(
      `${loaded.fileName}: ${loaded.kind} ${loaded.name} is valid, but cannot run yet: ${loaded.reason}\n`,
    );
    return undefined;
  }
  const plan = await resolveFrontDoors(
    planFor(config, loaded, flags, loopbackOnly),
    sandboxDoorLookup(config, io, flags.sandbox),
  );
  const { ctx } = await startEngine(config, io, { ...cluster, unsafe: flags.unsafe, optIn: flags.optIn });
  if (flags.unsafe) ctx.progress("--unsafe: the blast-radius cap is lifted for this run");
  if (flags.dryRun) {
    await printDryRun(ctx, plan, io);
    return undefined;
  }
  // A held kill switch refuses the run before its probes start; one held later aborts it at its next step.
  await refuseWhileHalted(ctx.halt);
  const report = await withInterrupt(io, (interrupt) =>
    runExperiment({
      ctx,
      plan,
      loopbackOnly,
      interrupt,
      ...optional("prometheusUrl", config.prometheusUrl),
    }),
  );
  const written = await writeReports(report, plan, flags.reportDir);
  const summary = renderReport(report, flags.format);
  io.out(summary.endsWith("\n") ? summary : `${summary}\n`);
  io.err(`reports: ${written.join(", ")}\n`);
  return { report, files: written };
}

/**
 * The cluster to run against, read locally (no request yet). Probes may only reach loopback when the
 * API server is on this machine (a sandbox, kind): its Services are reached through loopback there.
 */
async function targetOf(config: CliConfig, io: CliIo, flags: RunFlags) {
  const cluster = await clusterOf(config, io, flags);
  const kubeconfig = loadAccessConfig(clusterAccess(config, cluster));
  return { cluster, kubeconfig, loopbackOnly: isLoopback(kubeconfig.getCurrentCluster()?.server ?? "") };
}

/** --sandbox NAME stands for that sandbox's admin kubeconfig. */
export async function clusterOf(
  config: CliConfig,
  io: CliIo,
  flags: ClusterFlags & { readonly sandbox?: SandboxName },
): Promise<ClusterFlags> {
  if (flags.sandbox === undefined) return flags;
  if (flags.kubeconfig !== undefined) throw usageError("--sandbox", "cannot be combined with --kubeconfig");
  const env = sandboxEnvironment(config, io);
  const name = flags.sandbox;
  if (!(await sandboxNames(env)).includes(name)) {
    throw new BroadsideError(
      "BRD_SANDBOX_NOT_FOUND",
      `--sandbox: no sandbox named "${flags.sandbox}" is up; start it with broadside sandbox up --name ${flags.sandbox}`,
    );
  }
  return {
    kubeconfig: layoutFor(env, name).adminKubeconfig,
    ...optional("context", flags.context),
  };
}

function planFor(
  config: CliConfig,
  loaded: LoadedExperiment,
  flags: RunFlags,
  loopbackOnly: boolean,
): RunPlan {
  if (flags.for !== undefined && loaded.kind !== "Schedule")
    throw usageError("--for", "applies to a Schedule only");
  return runPlanOf(loaded, {
    extraProbes: probesFromFlags(flags.probe),
    ...optional("runFor", flags.for),
    window: flags.window,
    maxFaultDuration: config.maxFaultDuration,
    loopbackOnly,
  });
}

/** Ctrl-C aborts the run (faults reverted, report written); a second Ctrl-C leaves at once. */
export async function withInterrupt<T>(io: CliIo, work: (interrupt: AbortSignal) => Promise<T>): Promise<T> {
  const interrupt = new AbortController();
  const onSignal = (): void => {
    if (!interrupt.signal.aborted) {
      io.err("\ninterrupted: reverting the faults, then reporting (Ctrl-C again to leave now)\n");
      interrupt.abort();
      return;
    }
    io.err("leaving now: the next broadside command reverts what is left, from the ledger\n");
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await work(interrupt.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export function stampOf(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

/**
 * The JSON and HTML reports, named after the experiment (a checked object name: no '/', no '..') and
 * its start, inside --report-dir.
 */
async function writeReports(report: RunReport, plan: RunPlan, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const base = join(dir, `${objectName(plan.name, "metadata.name")}-${stampOf(report.startedAt)}`);
  await writeFile(`${base}.json`, renderReport(report, "json"));
  await writeFile(`${base}.html`, renderReport(report, "html"));
  return [`${base}.json`, `${base}.html`];
}

/** Exit 5 for a failed verdict, 6 for an aborted run, after the report is out. */
export function failOnVerdict(report: RunReport): void {
  const { verdict } = report;
  if (verdict.result === "failed")
    throw new BroadsideError("BRD_EXPERIMENT_FAILED", verdict.reasons.join("; "));
  if (verdict.result === "aborted") throw new BroadsideError("BRD_EXPERIMENT_ABORTED", verdict.reason);
}

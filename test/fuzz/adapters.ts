/**
 * The product's entry points that the fuzz tier drives, in one file: src/experiments/ is being split as
 * this tier is written, and a move there should cost one edit here, not one per test.
 */
import { main } from "../../src/cli/main.js";
import { probesFromFlags } from "../../src/cli/probe-flag.js";
import { Duration } from "../../src/core/duration.js";
import { BroadsideError, errorCatalog } from "../../src/core/errors.js";
import { faultDurationLimits } from "../../src/core/input-limits.js";
import { parseExperimentFile } from "../../src/experiments/files/load.js";
import { buildRunReport } from "../../src/experiments/report/build.js";
import { renderJson } from "../../src/experiments/report/json.js";
import { exampleRunInput } from "../../src/experiments/report/synthetic.js";
import { runPlanOf, type RunPlan } from "../../src/experiments/run/plan.js";

export type { RunPlan };
export { BroadsideError, Duration, errorCatalog };

/** The highest BROADSIDE_MAX_FAULT_DURATION may go. */
export const maxFaultDurationCeiling = faultDurationLimits.ceiling;

/** What the CLI writes: results on `out`, progress and errors on `err`. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** `broadside ARGS...` in this process, as bin/broadside.js runs it; resolves to the exit code. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  return main(["node", "broadside", ...args], env, io);
}

export interface PlanSettings {
  /** --probe specs, added to the file's probes (required for Chaos Mesh manifests). */
  readonly probes: readonly string[];
  /** --for of a Schedule. */
  readonly runFor?: string;
  /** The API server is on loopback (a sandbox): probes may only reach loopback. */
  readonly loopbackOnly: boolean;
}

/**
 * `broadside run FILE --dry-run` up to the first request: the file parsed and planned as the CLI does,
 * with the CLI's defaults (--window 10s, BROADSIDE_MAX_FAULT_DURATION 1h). Throws what the CLI would.
 */
export function planFile(text: string, fileName: string, settings: PlanSettings): PlannedFile {
  const loaded = parseExperimentFile(text, fileName, { defaultNamespace: "default" });
  if (!loaded.runnable) return { name: loaded.name, loaded };
  const plan = runPlanOf(loaded, {
    extraProbes: probesFromFlags(settings.probes),
    ...(settings.runFor === undefined ? {} : { runFor: Duration.parse(settings.runFor, "--for") }),
    window: Duration.parse("10s", "--window"),
    maxFaultDuration: Duration.parse("1h", "BROADSIDE_MAX_FAULT_DURATION"),
    loopbackOnly: settings.loopbackOnly,
  });
  return { name: loaded.name, loaded, plan };
}

/** A file that planned: its name, the model read from it, and the plan when its kind can run. */
export interface PlannedFile {
  readonly name: string;
  readonly loaded: unknown;
  readonly plan?: RunPlan;
}

/** A report as `broadside run` writes it (run.json), of a synthetic run whose probes target `target`. */
export function sampleReportJson(target: string): string {
  const input = exampleRunInput();
  return renderJson(
    buildRunReport({ ...input, probes: input.probes.map((probe) => ({ ...probe, target })) }),
  );
}

import { spawn } from "node:child_process";
import { access, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { collect, describeExit, exitOf, tail } from "./processes.js";

/**
 * Chaos Toolkit as a peer: `chaosk8s.pod.actions.terminate_pods` (one random pod by label, grace 0), run by
 * `chaos --no-version-check run`, from a venv the benchmark builds itself from PyPI with these exact
 * versions (their own dependencies as pip resolves them; `pip freeze` goes to the results file).
 */
export const chaostoolkitVersions = { chaostoolkit: "1.19.0", "chaostoolkit-kubernetes": "0.39.0" } as const;

/** Outside the repo, keyed by the versions and Python's minor version, shared by every worktree. */
export function venvDir(pythonVersion: string): string {
  const key = `chaostoolkit-${chaostoolkitVersions.chaostoolkit}-kubernetes-${chaostoolkitVersions["chaostoolkit-kubernetes"]}-py${pythonVersion}`;
  return join(homedir(), ".cache", "broadside", "bench", key);
}

const installTimeoutMs = 10 * 60_000;

async function run(program: string, args: readonly string[], what: string): Promise<string> {
  const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const exit = await exitOf(child, what, installTimeoutMs);
  if (exit.code !== 0) throw new Error(`${what}: ${describeExit(exit)}\n${tail(stderr(), 15)}`);
  return stdout();
}

export interface Venv {
  readonly dir: string;
  readonly chaos: string;
  /** `pip freeze` of the venv, for the results file. */
  readonly freeze: string[];
}

/**
 * The venv, built once: `python3 -m venv`, then pip installs the two pinned packages. A marker file written
 * last says the build finished; a venv without it (an interrupted build) is removed and built again.
 */
export async function ensureVenv(log: (message: string) => void): Promise<Venv> {
  const pythonVersion = (
    await run(
      "python3",
      ["-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
      "python3",
    )
  ).trim();
  const dir = venvDir(pythonVersion);
  const marker = join(dir, ".broadside-bench-complete");
  const pip = join(dir, "bin", "pip");
  if (!(await exists(marker))) {
    log(`building the Chaos Toolkit venv in ${dir} (pip, from PyPI)`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await run("python3", ["-m", "venv", dir], "python3 -m venv");
    const pins = Object.entries(chaostoolkitVersions).map(([name, version]) => `${name}==${version}`);
    await run(pip, ["install", "--disable-pip-version-check", "--quiet", ...pins], "pip install");
    await writeFile(marker, `${new Date().toISOString()}\n`);
  }
  const freeze = (await run(pip, ["freeze", "--disable-pip-version-check"], "pip freeze"))
    .split("\n")
    .filter((line) => line !== "");
  return { dir, chaos: join(dir, "bin", "chaos"), freeze };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The experiment: no steady-state hypothesis, one action, terminate_pods of one random pod. */
export function experiment(namespace: string, selector: string): object {
  return {
    version: "1.0.0",
    title: `broadside bench: terminate one random pod of ${namespace}`,
    description: "One shot at one random pod by label, grace 0, as the shot-latency benchmark measures it.",
    method: [
      {
        type: "action",
        name: "terminate-one-random-pod",
        provider: {
          type: "python",
          module: "chaosk8s.pod.actions",
          func: "terminate_pods",
          arguments: { label_selector: selector, ns: namespace, rand: true, qty: 1, grace_period: 0 },
        },
      },
    ],
  };
}

/** Writes the experiment file for one namespace into `dir` and returns its path. */
export async function writeExperiment(dir: string, namespace: string, selector: string): Promise<string> {
  const file = join(dir, `experiment-${namespace}.json`);
  await writeFile(file, `${JSON.stringify(experiment(namespace, selector), null, 2)}\n`);
  return file;
}

/** The argv of the shot, after the `chaos` executable. */
export function chaosArgs(experimentFile: string, journal: string, logFile: string): string[] {
  return ["--no-version-check", "--log-file", logFile, "run", "--journal-path", journal, experimentFile];
}

const journalSchema = z.object({
  status: z.string(),
  run: z
    .array(
      z.object({
        status: z.string(),
        start: z.string(),
        end: z.string(),
        output: z.array(z.string()).length(1),
      }),
    )
    .length(1),
});

/** chaoslib writes naive ISO times in UTC (datetime.utcnow().isoformat()); some versions add an offset. */
function epochMs(iso: string): number {
  const withZone = /(?:Z|[+-]\d\d:\d\d)$/.test(iso) ? iso : `${iso}Z`;
  const ms = Date.parse(withZone);
  if (Number.isNaN(ms)) throw new Error(`Chaos Toolkit journal: "${iso}" is not a time`);
  return ms;
}

/**
 * From the journal: the pod terminate_pods returned, and the end of the action, which is right after the
 * DELETE's answer (the action returns as soon as delete_namespaced_pod does).
 */
export async function readJournal(journal: string): Promise<{ victim: string; actionEndedAt: number }> {
  const parsed = journalSchema.parse(JSON.parse(await readFile(journal, "utf8")));
  const [action] = parsed.run;
  if (action === undefined || action.status !== "succeeded" || parsed.status !== "completed") {
    throw new Error(`Chaos Toolkit run: status ${parsed.status}, action ${action?.status ?? "none"}`);
  }
  const [victim] = action.output;
  if (victim === undefined) throw new Error("Chaos Toolkit run: terminate_pods returned no pod");
  return { victim, actionEndedAt: epochMs(action.end) };
}

import type { Clock } from "../core/clock.js";
import { BroadsideError } from "../core/errors.js";
import { optional } from "../core/objects.js";
import { waitFor } from "./bootstrap.js";
import { componentNames, type ComponentSpec } from "./components.js";
import { probeHealth, type HealthCredentials } from "./health.js";
import { isRunning, type ProcReader, type StartedProcess } from "./liveness.js";
import { startDetached, stopProcess, type StopContext } from "./processes.js";
import type { SandboxLayout } from "./state-dir.js";
import { writeState, type ComponentState, type SandboxState } from "./state-file.js";
import { assertTrafficScript } from "./traffic-component.js";

/** What starting components needs: the state it records them in, and how to probe them. */
export interface Launcher {
  readonly state: SandboxState;
  readonly layout: SandboxLayout;
  readonly credentials: HealthCredentials;
  readonly processEnv: NodeJS.ProcessEnv;
  readonly onProgress: (message: string) => void;
  readonly clock: Clock;
  readonly proc: ProcReader;
}

/** Starts the components, records their pids (before waiting, so `down` can stop them), waits for health. */
export async function startComponents(specs: readonly ComponentSpec[], launcher: Launcher): Promise<void> {
  const { state, layout } = launcher;
  for (const spec of specs) if (spec.script !== undefined) await assertTrafficScript(spec.script);
  const started: { spec: ComponentSpec; child: StartedProcess }[] = [];
  try {
    for (const spec of specs) {
      // kwok merges ~/.kwok/kwok.yaml into its configuration when it exists: give it a HOME of its own.
      const env = spec.name === "kwok" ? { ...launcher.processEnv, HOME: layout.dir } : launcher.processEnv;
      const child = await startDetached(spec, env);
      state.components[spec.name] = componentState(spec, child);
      started.push({ spec, child });
    }
  } finally {
    // Whatever was started is on record, even when a later one failed to start.
    await writeState(layout, state);
  }
  await Promise.all(started.map(({ spec, child }) => waitHealthy(spec, child, launcher)));
}

function componentState(spec: ComponentSpec, child: StartedProcess): ComponentState {
  const { healthUrl, healthCheck, logFile, binary, port } = spec;
  return {
    pid: child.pid,
    binary,
    ...optional("script", spec.script),
    args: [...spec.args],
    port,
    healthUrl,
    healthCheck,
    logFile,
  };
}

async function waitHealthy(spec: ComponentSpec, child: StartedProcess, launcher: Launcher): Promise<void> {
  const { clock } = launcher;
  const since = clock.now();
  await waitFor(
    `${spec.name} to become healthy (log: ${spec.logFile})`,
    120_000,
    async () => {
      if (!(await isRunning(launcher.proc, child))) {
        throw new BroadsideError(
          "BRD_SANDBOX_START_FAILED",
          `${spec.name} exited during start-up; see ${spec.logFile}`,
        );
      }
      return probeHealth(spec.healthUrl, spec.healthCheck, launcher.credentials);
    },
    clock,
  );
  const where = `127.0.0.1:${spec.port}`;
  launcher.onProgress(
    `  ${spec.name} healthy on ${where} after ${clock.now() - since} ms (pid ${child.pid})`,
  );
}

/**
 * The processes in the order they are stopped: clients of the API server first, etcd last, so nothing
 * logs a storm of connection errors; names no component has (from another format) before all of them.
 */
export function stopOrder(components: Readonly<Partial<Record<string, StartedProcess>>>): StartedProcess[] {
  const rank = (name: string): number => {
    const index = (componentNames as readonly string[]).indexOf(name);
    return index < 0 ? componentNames.length : index;
  };
  return Object.entries(components)
    .filter((entry): entry is [string, StartedProcess] => entry[1] !== undefined)
    .sort(([a], [b]) => rank(b) - rank(a))
    .map(([, process]) => process);
}

/** Stops every process, one after the other, in stopOrder. */
export async function stopComponents(
  components: Readonly<Partial<Record<string, StartedProcess>>>,
  context: StopContext,
): Promise<void> {
  for (const process of stopOrder(components)) await stopProcess(process, context);
}

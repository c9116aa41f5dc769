import { Duration } from "../core/duration.js";
import { BroadsideError, usageError } from "../core/errors.js";
import { connect } from "../kube/client.js";
import { removeBodies } from "./bodies-stage.js";
import { createNodes } from "./bootstrap.js";
import { ensureBinaries } from "./build.js";
import { componentNames, isOptionalComponent, trafficSpec, type ComponentName } from "./components.js";
import { checkOptionalRequest, type OptionalComponent } from "./components-optional.js";
import { addOptionalComponents } from "./components-reuse.js";
import {
  healthCredentials,
  launcherOf,
  lockHolder,
  stopContext,
  type SandboxEnvironment,
  type SandboxRequest,
} from "./environment.js";
import { probeHealth, type HealthCredentials } from "./health.js";
import { startComponents, stopComponents } from "./launch.js";
import { isRunning } from "./liveness.js";
import { withLock } from "./lock.js";
import { withFileErrors } from "./file-errors.js";
import { prepareFlux } from "./flux.js";
import { freePorts } from "./ports.js";
import { preparePrometheus } from "./prometheus.js";
import { stopDaemons } from "./daemons.js";
import { stopProcess } from "./processes.js";
import type { SandboxName } from "./sandbox-name.js";
import type { PodLifecycle } from "./stages.js";
import { startSandbox } from "./start.js";
import {
  clearStateDir,
  confirmOwnStateDir,
  listSandboxNames,
  prepareStateDir,
  removeStateDir,
  sandboxLayout,
  stateDirExists,
  type SandboxLayout,
} from "./state-dir.js";
import { parseStoppable, readState, readStateText, type SandboxState } from "./state-file.js";
import { fetchFrontDoors, trafficProgram } from "./traffic-component.js";
import type { DoorsReport } from "./traffic/front-doors.js";

/*
 * The sandbox's commands: build, up (start, reuse or repair), status, restart of one component, down, list.
 * Starting from nothing is start.ts; the pieces are state-dir.ts (where, and what may be deleted),
 * state-file.ts, lock.ts, liveness.ts, processes.ts and launch.ts.
 */

export type { SandboxEnvironment, SandboxRequest } from "./environment.js";
export type { ComponentState, SandboxState } from "./state-file.js";

export const defaultLifecycle: PodLifecycle = {
  createDelay: Duration.parse("200ms", "createDelay"),
  readyDelay: Duration.parse("2s", "readyDelay"),
  readyJitter: Duration.parse("2s", "readyJitter"),
  shutdownDelay: Duration.parse("1s", "shutdownDelay"),
};

/** What each optional component builds before it can run (and checks it needs, such as git for Flux). */
const prepareComponent: Record<OptionalComponent, (env: SandboxEnvironment) => Promise<unknown>> = {
  flux: prepareFlux,
  prometheus: preparePrometheus,
};

/**
 * `sandbox build`: what `up` builds on first use (the control plane, and the optional components named),
 * into the same version-keyed cache, without starting anything. `npm test` runs it in the background
 * while its first tiers run; a machine image can run it to start warm.
 */
export async function sandboxBuild(
  env: SandboxEnvironment,
  components: readonly OptionalComponent[],
): Promise<void> {
  await ensureBinaries({ ...env.build, onProgress: env.onProgress, clock: env.clock });
  for (const component of components) await prepareComponent[component](env);
}

export interface ComponentStatus {
  readonly name: ComponentName;
  readonly pid: number | undefined;
  readonly port: number | undefined;
  readonly running: boolean;
  readonly healthy: boolean;
  readonly logFile: string | undefined;
}

export function validateNodes(nodes: number): void {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 500) {
    throw usageError("--nodes", `must be a whole number from 1 to 500, got ${nodes}`);
  }
}

export function layoutFor(env: SandboxEnvironment, name: SandboxName): SandboxLayout {
  return sandboxLayout(env.stateRoot, name);
}

/** Starts the sandbox, or reuses it when it is already up and healthy. Returns its state. */
export async function sandboxUp(request: SandboxRequest, env: SandboxEnvironment): Promise<SandboxState> {
  validateNodes(request.nodes);
  checkOptionalRequest(request);
  const layout = layoutFor(env, request.name);
  // A full disk or a read-only folder is a failed start, not a bug.
  return withFileErrors("BRD_SANDBOX_START_FAILED", `starting sandbox "${request.name}"`, async () => {
    await prepareStateDir(layout);
    return withLock(layout.lockFile, lockHolder(env), async () => {
      const existing = await readState(layout);
      if (existing !== undefined) {
        const reused = await reuseOrRepair(request, env, existing, layout);
        if (reused !== undefined) return reused;
        env.onProgress(`sandbox "${request.name}" is only partly up; restarting it`);
        await stopDaemons(layout, stopContext(env));
        await stopComponents(existing.components, stopContext(env));
      }
      // What a killed run left (its records survive in the state directory): gone before it is cleared.
      await removeBodies(env, layout, "BRD_SANDBOX_START_FAILED");
      await clearStateDir(layout);
      return startSandbox(request, env, layout);
    });
  });
}

/**
 * The running sandbox when every component is healthy, or when only the traffic process is not (it is
 * started again on its own: the cluster is fine); undefined when the cluster itself needs a restart.
 */
async function reuseOrRepair(
  request: SandboxRequest,
  env: SandboxEnvironment,
  existing: SandboxState,
  layout: SandboxLayout,
): Promise<SandboxState | undefined> {
  const credentials = await healthCredentials(layout);
  const down = (await componentStatuses(env, existing, credentials)).filter((status) => !status.healthy);
  if (down.length === 1 && down[0]?.name === "traffic") {
    env.onProgress(`sandbox "${request.name}" is up but its traffic process is not; starting it`);
    await restartTraffic(env, existing, layout, credentials);
  } else if (down.length > 0) {
    return undefined;
  } else {
    env.onProgress(`sandbox "${request.name}" is already up; reusing it`);
  }
  const asked = request.podBodies;
  const running = existing.bodies?.mode ?? "loopback";
  if (asked !== undefined && asked !== "auto" && asked !== running)
    env.onProgress(`  it runs with --pod-bodies ${running}, not ${asked}: sandbox down, then up, to change`);
  await createNodes(connect({ kubeconfigPath: existing.adminKubeconfig }), request.nodes);
  await addOptionalComponents(request, {
    env,
    layout,
    launcher: launcherOf(env, existing, layout, credentials),
  });
  return existing;
}

async function restartTraffic(
  env: SandboxEnvironment,
  state: SandboxState,
  layout: SandboxLayout,
  credentials: HealthCredentials,
) {
  const current = state.components.traffic;
  if (current !== undefined) await stopProcess(current, stopContext(env));
  const [port = 0] = await freePorts(1);
  const spec = trafficSpec(layout, port, trafficProgram(env.packageRoot), state.bodies);
  await startComponents([spec], launcherOf(env, state, layout, credentials));
}

/**
 * Stops one component and starts it again with the same arguments and port: for tests of how
 * Broadside's clients ride out, say, an API server restart.
 */
export async function sandboxRestartComponent(
  env: SandboxEnvironment,
  name: SandboxName,
  component: ComponentName,
): Promise<void> {
  const { state } = await sandboxStatus(env, name);
  const layout = layoutFor(env, name);
  const current = state.components[component];
  if (current === undefined)
    throw new BroadsideError("BRD_SANDBOX_NOT_FOUND", `sandbox "${name}" has no ${component}`);
  const credentials = await healthCredentials(layout);
  await withLock(layout.lockFile, lockHolder(env), async () => {
    await stopProcess(current, stopContext(env));
    await startComponents([{ ...current, name: component }], launcherOf(env, state, layout, credentials));
  });
}

export async function sandboxStatus(
  env: SandboxEnvironment,
  name: SandboxName,
): Promise<{ state: SandboxState; components: ComponentStatus[] }> {
  const layout = layoutFor(env, name);
  const state = (await stateDirExists(layout)) ? await ownState(layout) : undefined;
  if (state === undefined)
    throw new BroadsideError(
      "BRD_SANDBOX_NOT_FOUND",
      `no sandbox named "${name}" is up; run: broadside sandbox up --name ${name}`,
    );
  return { state, components: await componentStatuses(env, state, await healthCredentials(layout)) };
}

async function ownState(layout: SandboxLayout): Promise<SandboxState | undefined> {
  await confirmOwnStateDir(layout);
  return readState(layout);
}

/**
 * The front doors as the sandbox's traffic process reports them; undefined when it does not answer (down,
 * starting, or a sandbox started before the traffic component existed).
 */
export async function sandboxFrontDoors(
  env: SandboxEnvironment,
  state: SandboxState,
): Promise<DoorsReport | undefined> {
  const traffic = state.components.traffic;
  if (traffic === undefined || !(await isRunning(env.proc, traffic))) return undefined;
  return fetchFrontDoors(traffic.port);
}

async function componentStatuses(
  env: SandboxEnvironment,
  state: SandboxState,
  credentials: HealthCredentials,
): Promise<ComponentStatus[]> {
  // An optional component's processes are listed only where it runs (`--with`).
  const names = componentNames.filter((name) => !isOptionalComponent(name) || name in state.components);
  return Promise.all(
    names.map(async (name) => {
      const component = state.components[name];
      if (component === undefined)
        return { name, pid: undefined, port: undefined, running: false, healthy: false, logFile: undefined };
      const running = await isRunning(env.proc, component);
      const healthy = running && (await probeHealth(component.healthUrl, component.healthCheck, credentials));
      return { name, pid: component.pid, port: component.port, running, healthy, logFile: component.logFile };
    }),
  );
}

/**
 * Stops every process the sandbox's state file lists (read from a file of any format, so a sandbox
 * whose format this Broadside does not read is stopped too), by pid, then removes its state directory,
 * confined to the state root and only with the sandbox's marker (state-dir.ts). Returns false when no
 * state said anything was up.
 */
export async function sandboxDown(env: SandboxEnvironment, name: SandboxName): Promise<boolean> {
  const layout = layoutFor(env, name);
  if (!(await stateDirExists(layout))) return false;
  await confirmOwnStateDir(layout);
  return withLock(layout.lockFile, lockHolder(env), async () => {
    const text = await readStateText(layout);
    // The daemons first: they act on the bodies and report through the API server.
    await stopDaemons(layout, stopContext(env));
    if (text !== undefined) await stopComponents(parseStoppable(text, layout), stopContext(env));
    // The traffic process removes its bodies as it stops; a killed one leaves its records for this.
    await removeBodies(env, layout, "BRD_SANDBOX_STOP_FAILED");
    await withFileErrors("BRD_SANDBOX_DIR_REFUSED", `removing ${layout.dir}`, () => removeStateDir(layout));
    return text !== undefined;
  });
}

/** Names of the sandboxes that have state on this machine. */
export function sandboxNames(env: SandboxEnvironment): Promise<SandboxName[]> {
  return listSandboxNames(env.stateRoot);
}

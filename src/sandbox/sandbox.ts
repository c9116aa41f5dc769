import { mkdir, open, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { Duration } from "../core/duration.js";
import { BroadsideError, usageError } from "../core/errors.js";
import { connect } from "../kube/client.js";
import {
  createNodes,
  grantViewerPodReadAccess,
  waitFor,
  waitForDefaultServiceAccount,
  waitForSchedulableNodes,
} from "./bootstrap.js";
import { ensureBinaries, upstreamStageFiles, type BuildConfig } from "./build.js";
import {
  componentNames,
  componentSpecs,
  sandboxLayout,
  trafficSpec,
  type ComponentName,
  type ComponentSpec,
  type SandboxLayout,
  type SandboxPorts,
} from "./components.js";
import { probeHealth, type HealthTls } from "./health.js";
import { writeKubeconfig } from "./kubeconfig.js";
import { createPki, pkiPaths } from "./pki.js";
import { freePorts } from "./ports.js";
import { isRunning, startDetached, stopProcess, type StartedProcess } from "./processes.js";
import { kwokStageConfig, type PodLifecycle } from "./stages.js";
import { assertTrafficScript, fetchFrontDoors, trafficProgram } from "./traffic-component.js";
import type { DoorsReport } from "./traffic/front-doors.js";
import { etcdVersion, kubernetesVersion, kwokVersion } from "./versions.js";

/** What `sandbox up` was asked for. */
export interface SandboxRequest {
  readonly name: string;
  readonly nodes: number;
  readonly lifecycle: PodLifecycle;
}

/** What the sandbox commands need from the entry point: where things live, and how to report. */
export interface SandboxEnvironment {
  /** Parent of every sandbox's state directory (outside the repository). */
  readonly stateRoot: string;
  readonly build: Omit<BuildConfig, "onProgress">;
  /** The package's root: the traffic process is its dist/sandbox/traffic/main.js. */
  readonly packageRoot: string;
  readonly openssl: string;
  readonly onProgress: (message: string) => void;
}

export const defaultLifecycle: PodLifecycle = {
  createDelay: Duration.parse("200ms", "createDelay"),
  readyDelay: Duration.parse("2s", "readyDelay"),
  readyJitter: Duration.parse("2s", "readyJitter"),
  shutdownDelay: Duration.parse("1s", "shutdownDelay"),
};

const componentStateSchema = z.object({
  pid: z.number().int().positive(),
  binary: z.string(),
  /** The script an interpreter runs (the traffic process); /proc must show it too. */
  script: z.string().optional(),
  args: z.array(z.string()),
  port: z.number().int().positive(),
  healthUrl: z.string(),
  healthCheck: z.enum(["sandbox-ca", "self-signed", "plain-http"]),
  logFile: z.string(),
});
const stateSchema = z.object({
  name: z.string(),
  createdAt: z.string(),
  versions: z.object({ kubernetes: z.string(), etcd: z.string(), kwok: z.string() }),
  nodes: z.number().int(),
  apiServer: z.string(),
  adminKubeconfig: z.string(),
  viewerKubeconfig: z.string(),
  components: z.partialRecord(z.enum(componentNames), componentStateSchema),
});
export type SandboxState = z.infer<typeof stateSchema>;
export type ComponentState = z.infer<typeof componentStateSchema>;

export interface ComponentStatus {
  readonly name: ComponentName;
  readonly pid: number | undefined;
  readonly port: number | undefined;
  readonly running: boolean;
  readonly healthy: boolean;
  readonly logFile: string | undefined;
}

const namePattern = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export function validateRequest(request: SandboxRequest): void {
  if (!namePattern.test(request.name)) {
    throw usageError(
      "--name",
      `"${request.name}" must be 1-32 lowercase letters, digits or '-', not starting or ending with '-'`,
    );
  }
  if (!Number.isInteger(request.nodes) || request.nodes < 1 || request.nodes > 500) {
    throw usageError("--nodes", `must be a whole number from 1 to 500, got ${request.nodes}`);
  }
}

export function layoutFor(env: SandboxEnvironment, name: string): SandboxLayout {
  return sandboxLayout(join(env.stateRoot, name));
}

/** Starts the sandbox, or reuses it when it is already up and healthy. Returns its state. */
export async function sandboxUp(request: SandboxRequest, env: SandboxEnvironment): Promise<SandboxState> {
  validateRequest(request);
  const layout = layoutFor(env, request.name);
  await mkdir(layout.dir, { recursive: true });
  return withLock(layout, async () => {
    const existing = await readState(layout);
    if (existing !== undefined) {
      const reused = await reuseOrRepair(request, env, existing, layout);
      if (reused !== undefined) return reused;
      env.onProgress(`sandbox "${request.name}" is only partly up; restarting it`);
      await stopComponents(existing);
    }
    await clearState(layout);
    return startSandbox(request, env, layout);
  });
}

/**
 * The running sandbox when every component is healthy, or when only the traffic process is not (it is
 * started again on its own: the cluster is fine, and a sandbox from before the traffic component gains
 * it this way); undefined when the cluster itself needs a restart.
 */
async function reuseOrRepair(
  request: SandboxRequest,
  env: SandboxEnvironment,
  existing: SandboxState,
  layout: SandboxLayout,
): Promise<SandboxState | undefined> {
  const down = (await componentStatuses(existing, layout)).filter((status) => !status.healthy);
  if (down.length === 1 && down[0]?.name === "traffic") {
    env.onProgress(`sandbox "${request.name}" is up but its traffic process is not; starting it`);
    await restartTraffic(env, existing, layout);
  } else if (down.length > 0) {
    return undefined;
  } else {
    env.onProgress(`sandbox "${request.name}" is already up; reusing it`);
  }
  await createNodes(connect({ kubeconfigPath: existing.adminKubeconfig }), request.nodes);
  return existing;
}

async function restartTraffic(env: SandboxEnvironment, state: SandboxState, layout: SandboxLayout) {
  const current = state.components.traffic;
  if (current !== undefined) await stopProcess(current);
  const [port = 0] = await freePorts(1);
  const spec = trafficSpec(layout, port, trafficProgram(env.packageRoot));
  await startComponents([spec], launcherOf(env, state, layout));
}

function launcherOf(env: SandboxEnvironment, state: SandboxState, layout: SandboxLayout): Launcher {
  return {
    state,
    layout,
    tls: healthTls(layout),
    processEnv: { ...env.build.baseEnv, KUBECONFIG: layout.adminKubeconfig },
    onProgress: env.onProgress,
  };
}

async function startSandbox(request: SandboxRequest, env: SandboxEnvironment, layout: SandboxLayout) {
  const traffic = trafficProgram(env.packageRoot);
  // Before anything starts: a missing build is a clear error, not a half-started sandbox.
  await assertTrafficScript(traffic.script);
  const binaries = await ensureBinaries({ ...env.build, onProgress: env.onProgress });
  await Promise.all([layout.pkiDir, layout.logsDir].map((dir) => mkdir(dir, { recursive: true })));
  env.onProgress(
    `starting sandbox "${request.name}" (Kubernetes ${kubernetesVersion}, etcd ${etcdVersion}, kwok ${kwokVersion})`,
  );
  const pki = await createPki(layout.pkiDir, env.openssl);
  const [etcd = 0, etcdPeer = 0, apiServer = 0, controllerManager = 0, scheduler = 0, kwok = 0, health = 0] =
    await freePorts(7);
  const ports: SandboxPorts = {
    etcd,
    "etcd-peer": etcdPeer,
    "kube-apiserver": apiServer,
    "kube-controller-manager": controllerManager,
    "kube-scheduler": scheduler,
    kwok,
    traffic: health,
  };
  const server = `https://127.0.0.1:${apiServer}`;
  const contextName = `broadside-${request.name}`;
  await writeKubeconfig(layout.adminKubeconfig, {
    server,
    contextName,
    caCert: pki.caCert,
    clientCert: pki.adminCert,
    clientKey: pki.adminKey,
  });
  await writeKubeconfig(layout.viewerKubeconfig, {
    server,
    contextName: `${contextName}-viewer`,
    caCert: pki.caCert,
    clientCert: pki.viewerCert,
    clientKey: pki.viewerKey,
  });
  const stageTexts = await Promise.all(
    upstreamStageFiles.map((file) => readFile(join(binaries.kwokStages, file.replaceAll("/", "_")), "utf8")),
  );
  await writeFile(layout.kwokConfig, kwokStageConfig(stageTexts, request.lifecycle));

  const state: SandboxState = {
    name: request.name,
    createdAt: new Date().toISOString(),
    versions: { kubernetes: kubernetesVersion, etcd: etcdVersion, kwok: kwokVersion },
    nodes: request.nodes,
    apiServer: server,
    adminKubeconfig: layout.adminKubeconfig,
    viewerKubeconfig: layout.viewerKubeconfig,
    components: {},
  };
  const specs = componentSpecs(binaries, pki, layout, ports, traffic);
  const launcher = launcherOf(env, state, layout);
  const stage = (...names: ComponentName[]) => specs.filter((spec) => names.includes(spec.name));
  try {
    // etcd and the API server first, one at a time; then the three clients of the API server together;
    // then the traffic process, once the API server and kwok are ready.
    await startComponents(stage("etcd"), launcher);
    await startComponents(stage("kube-apiserver"), launcher);
    await startComponents(stage("kube-controller-manager", "kube-scheduler", "kwok"), launcher);
    await startComponents(stage("traffic"), launcher);
    await bootstrapCluster(request, state, env);
  } catch (error: unknown) {
    env.onProgress(
      `sandbox "${request.name}" failed to start; stopping what was started (logs kept in ${layout.logsDir})`,
    );
    await stopComponents(state);
    throw error;
  }
  env.onProgress(`sandbox "${request.name}" is up: ${server}`);
  return state;
}

interface Launcher {
  readonly state: SandboxState;
  readonly layout: SandboxLayout;
  readonly tls: HealthTls;
  readonly processEnv: NodeJS.ProcessEnv;
  readonly onProgress: (message: string) => void;
}

/** Starts the components, records their pids (before waiting, so `down` can stop them), waits for health. */
async function startComponents(specs: readonly ComponentSpec[], launcher: Launcher): Promise<void> {
  const { state, layout } = launcher;
  for (const spec of specs) if (spec.script !== undefined) await assertTrafficScript(spec.script);
  const started = specs.map((spec) => {
    // kwok merges ~/.kwok/kwok.yaml into its configuration when it exists: give it a HOME of its own.
    const env = spec.name === "kwok" ? { ...launcher.processEnv, HOME: layout.dir } : launcher.processEnv;
    const child = startDetached(spec.binary, spec.args, spec.logFile, env, spec.script);
    const { healthUrl, healthCheck, logFile, binary, port } = spec;
    state.components[spec.name] = {
      pid: child.pid,
      binary,
      ...(spec.script === undefined ? {} : { script: spec.script }),
      args: [...spec.args],
      port,
      healthUrl,
      healthCheck,
      logFile,
    };
    return { spec, child };
  });
  await writeState(layout, state);
  await Promise.all(started.map(({ spec, child }) => waitHealthy(spec, child, launcher)));
}

async function waitHealthy(spec: ComponentSpec, child: StartedProcess, launcher: Launcher): Promise<void> {
  const since = Date.now();
  await waitFor(`${spec.name} to become healthy (log: ${spec.logFile})`, 120_000, async () => {
    if (!(await isRunning(child))) {
      throw new BroadsideError(
        "BRD_SANDBOX_START_FAILED",
        `${spec.name} exited during start-up; see ${spec.logFile}`,
      );
    }
    return probeHealth(spec.healthUrl, spec.healthCheck, launcher.tls);
  });
  const where = `127.0.0.1:${spec.port}`;
  launcher.onProgress(`  ${spec.name} healthy on ${where} after ${Date.now() - since} ms (pid ${child.pid})`);
}

async function bootstrapCluster(request: SandboxRequest, state: SandboxState, env: SandboxEnvironment) {
  const kube = connect({ kubeconfigPath: state.adminKubeconfig });
  await waitForDefaultServiceAccount(kube);
  await grantViewerPodReadAccess(kube);
  await createNodes(kube, request.nodes);
  await waitForSchedulableNodes(kube, request.nodes);
  env.onProgress(`  ${request.nodes} nodes Ready`);
}

/**
 * Stops one component and starts it again with the same arguments and port: for tests of how
 * Broadside's clients ride out, say, an API server restart.
 */
export async function sandboxRestartComponent(
  env: SandboxEnvironment,
  name: string,
  component: ComponentName,
): Promise<void> {
  const { state } = await sandboxStatus(env, name);
  const layout = layoutFor(env, name);
  const current = state.components[component];
  if (current === undefined)
    throw new BroadsideError("BRD_SANDBOX_NOT_FOUND", `sandbox "${name}" has no ${component}`);
  await withLock(layout, async () => {
    await stopProcess(current);
    await startComponents([{ ...current, name: component }], launcherOf(env, state, layout));
  });
}

export async function sandboxStatus(
  env: SandboxEnvironment,
  name: string,
): Promise<{ state: SandboxState; components: ComponentStatus[] }> {
  const layout = layoutFor(env, name);
  const state = await readState(layout);
  if (state === undefined)
    throw new BroadsideError(
      "BRD_SANDBOX_NOT_FOUND",
      `no sandbox named "${name}" is up; run: broadside sandbox up --name ${name}`,
    );
  return { state, components: await componentStatuses(state, layout) };
}

/**
 * The front doors as the sandbox's traffic process reports them; undefined when it does not answer (down,
 * starting, or a sandbox started before the traffic component existed).
 */
export async function sandboxFrontDoors(state: SandboxState): Promise<DoorsReport | undefined> {
  const traffic = state.components.traffic;
  if (traffic === undefined || !(await isRunning(traffic))) return undefined;
  return fetchFrontDoors(traffic.port);
}

async function componentStatuses(state: SandboxState, layout: SandboxLayout): Promise<ComponentStatus[]> {
  const tls = healthTls(layout);
  return Promise.all(
    componentNames.map(async (name) => {
      const component = state.components[name];
      if (component === undefined)
        return { name, pid: undefined, port: undefined, running: false, healthy: false, logFile: undefined };
      const running = await isRunning(component);
      const healthy = running && (await probeHealth(component.healthUrl, component.healthCheck, tls));
      return { name, pid: component.pid, port: component.port, running, healthy, logFile: component.logFile };
    }),
  );
}

/** Stops every process of the sandbox, by pid, and removes its state. Returns false when none was up. */
export async function sandboxDown(env: SandboxEnvironment, name: string): Promise<boolean> {
  const layout = layoutFor(env, name);
  const state = await readState(layout);
  if (state === undefined) {
    await clearState(layout);
    return false;
  }
  await withLock(layout, () => stopComponents(state));
  await rm(layout.dir, { recursive: true, force: true });
  return true;
}

/** Names of the sandboxes that have state on this machine. */
export async function sandboxNames(env: SandboxEnvironment): Promise<string[]> {
  try {
    return (await readdir(env.stateRoot, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** Clients of the API server first, etcd last, so nothing logs a storm of connection errors. */
async function stopComponents(state: SandboxState): Promise<void> {
  for (const name of [...componentNames].reverse()) {
    const component = state.components[name];
    if (component !== undefined) await stopProcess(component);
  }
}

function healthTls(layout: SandboxLayout): HealthTls {
  const pki = pkiPaths(layout.pkiDir);
  return { ca: pki.caCert, cert: pki.adminCert, key: pki.adminKey };
}

async function readState(layout: SandboxLayout): Promise<SandboxState | undefined> {
  let text: string;
  try {
    text = await readFile(layout.stateFile, "utf8");
  } catch {
    return undefined;
  }
  const parsed = stateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new BroadsideError(
      "BRD_SANDBOX_STATE_INVALID",
      `${layout.stateFile} was written by another version of Broadside or is damaged (${parsed.error.issues[0]?.message ?? "invalid"}); stop the processes it lists and remove ${layout.dir}`,
    );
  }
  return parsed.data;
}

async function writeState(layout: SandboxLayout, state: SandboxState): Promise<void> {
  const temporary = `${layout.stateFile}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(state, null, 2));
  await rename(temporary, layout.stateFile);
}

/** Wipes a sandbox's directory except its lock file. */
async function clearState(layout: SandboxLayout): Promise<void> {
  for (const entry of await readdir(layout.dir).catch(() => [])) {
    if (join(layout.dir, entry) !== layout.lockFile)
      await rm(join(layout.dir, entry), { recursive: true, force: true });
  }
}

/**
 * One `up` or `down` of a sandbox at a time. The lock file holds the owner's pid; a lock whose owner
 * is dead is taken over.
 */
async function withLock<T>(layout: SandboxLayout, work: () => Promise<T>): Promise<T> {
  await acquireLock(layout.lockFile);
  try {
    return await work();
  } finally {
    await rm(layout.lockFile, { force: true });
  }
}

async function acquireLock(lockFile: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(lockFile, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(await readFile(lockFile, "utf8").catch(() => "0"));
      if (owner > 0 && isAlive(owner)) {
        throw new BroadsideError(
          "BRD_SANDBOX_BUSY",
          `another broadside process (pid ${owner}) holds ${lockFile}`,
        );
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new BroadsideError("BRD_SANDBOX_BUSY", `could not take ${lockFile}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

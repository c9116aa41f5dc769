import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "../kube/client.js";
import {
  createNodes,
  grantViewerPodReadAccess,
  waitForDefaultServiceAccount,
  waitForSchedulableNodes,
} from "./bootstrap.js";
import { prepareBodies, removeBodies } from "./bodies-stage.js";
import { ensureBinaries, upstreamStageFiles } from "./build.js";
import { startDaemons, stopDaemons } from "./daemons.js";
import { componentSpecs, type ComponentName, type SandboxPorts } from "./components.js";
import { wants } from "./components-optional.js";
import {
  healthCredentials,
  launcherOf,
  stopContext,
  type SandboxEnvironment,
  type SandboxRequest,
} from "./environment.js";
import { prepareFlux, startFlux } from "./flux.js";
import { preparePrometheus, prometheusRun } from "./prometheus.js";
import { writeKubeconfig } from "./kubeconfig.js";
import { startComponents, stopComponents } from "./launch.js";
import { createPki, pkiPaths } from "./pki.js";
import { freePorts } from "./ports.js";
import type { SandboxName } from "./sandbox-name.js";
import { kwokConfigFile } from "./stages.js";
import type { SandboxLayout } from "./state-dir.js";
import { stateFormat, type SandboxState } from "./state-file.js";
import { assertTrafficScript, trafficProgram } from "./traffic-component.js";
import { etcdVersion, kubernetesVersion, kwokVersion } from "./versions.js";

/**
 * Starts a sandbox from nothing in its (emptied) state directory: binaries, certificates, kubeconfigs,
 * kwok's configuration, then the components one stage at a time, then the cluster's first objects. A
 * failure stops whatever was started and keeps the logs.
 */
export async function startSandbox(request: SandboxRequest, env: SandboxEnvironment, layout: SandboxLayout) {
  const traffic = trafficProgram(env.packageRoot);
  // Before anything starts: a missing build is a clear error, not a half-started sandbox.
  await assertTrafficScript(traffic.script);
  const binaries = await ensureBinaries({ ...env.build, onProgress: env.onProgress, clock: env.clock });
  const flux = wants(request, "flux") ? await prepareFlux(env) : undefined;
  const prometheus = wants(request, "prometheus") ? await preparePrometheus(env) : undefined;
  await Promise.all(
    [layout.pkiDir, layout.logsDir].map((dir) => mkdir(dir, { recursive: true, mode: 0o700 })),
  );
  env.onProgress(
    `starting sandbox "${request.name}" (Kubernetes ${kubernetesVersion}, etcd ${etcdVersion}, kwok ${kwokVersion})`,
  );
  const bodies = await prepareBodies(request, env, layout).catch(async (error: unknown) => {
    await removeBodies(env, layout, "BRD_SANDBOX_START_FAILED").catch(() => undefined);
    throw error;
  });
  const pki = await createPki(layout.pkiDir, env.openssl);
  const { ports, prometheusPort } = await sandboxPorts();
  const server = `https://127.0.0.1:${ports["kube-apiserver"]}`;
  await writeKubeconfigs(request.name, layout, server);
  const stageTexts = await Promise.all(
    upstreamStageFiles.map((file) => readFile(join(binaries.kwokStages, file.replaceAll("/", "_")), "utf8")),
  );
  await writeFile(layout.kwokConfig, kwokConfigFile(stageTexts, request.lifecycle));

  const state: SandboxState = {
    format: stateFormat,
    name: request.name,
    createdAt: new Date(env.clock.now()).toISOString(),
    versions: { kubernetes: kubernetesVersion, etcd: etcdVersion, kwok: kwokVersion },
    nodes: request.nodes,
    apiServer: server,
    adminKubeconfig: layout.adminKubeconfig,
    viewerKubeconfig: layout.viewerKubeconfig,
    components: {},
    bodies,
  };
  const specs = componentSpecs(binaries, pki, layout, ports, traffic, bodies);
  const launcher = launcherOf(env, state, layout, await healthCredentials(layout));
  const stage = (...names: ComponentName[]) => specs.filter((spec) => names.includes(spec.name));
  try {
    // etcd and the API server first, one at a time, Prometheus beside etcd (it needs no cluster to start
    // and scrapes whatever answers); then the three clients of the API server together; then the traffic
    // process, once the API server and kwok are ready.
    const prometheusSpecs =
      prometheus === undefined ? [] : [await prometheusRun(prometheus, ports, prometheusPort, launcher)];
    await startComponents([...stage("etcd"), ...prometheusSpecs], launcher);
    await startComponents(stage("kube-apiserver"), launcher);
    await startComponents(stage("kube-controller-manager", "kube-scheduler", "kwok"), launcher);
    await startComponents(stage("traffic"), launcher);
    // Flux needs only the API server: it starts while the nodes are made.
    await allSettled([
      bootstrapCluster(request, state, env),
      flux === undefined ? Promise.resolve() : startFlux(flux, request.fluxSync, { env, layout, launcher }),
    ]);
    if (bodies.mode === "netns") await startDaemons(env, layout, request.nodes);
  } catch (error: unknown) {
    env.onProgress(
      `sandbox "${request.name}" failed to start; stopping what was started (logs kept in ${layout.logsDir})`,
    );
    await stopDaemons(layout, stopContext(env));
    await stopComponents(state.components, stopContext(env));
    await removeBodies(env, layout, "BRD_SANDBOX_START_FAILED").catch(() => undefined);
    throw error;
  }
  env.onProgress(`sandbox "${request.name}" is up: ${server}`);
  return state;
}

/** Waits for every task, then throws the first failure: nothing is stopped while something still starts. */
async function allSettled(tasks: readonly Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((result) => result.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}

/** The control plane's ports, and one for Prometheus (used only with `--with prometheus`), all distinct. */
async function sandboxPorts(): Promise<{ ports: SandboxPorts; prometheusPort: number }> {
  const [
    etcd = 0,
    etcdPeer = 0,
    apiServer = 0,
    controllerManager = 0,
    scheduler = 0,
    kwok = 0,
    health = 0,
    prometheusPort = 0,
  ] = await freePorts(8);
  const ports = {
    etcd,
    "etcd-peer": etcdPeer,
    "kube-apiserver": apiServer,
    "kube-controller-manager": controllerManager,
    "kube-scheduler": scheduler,
    kwok,
    traffic: health,
  };
  return { ports, prometheusPort };
}

async function writeKubeconfigs(name: SandboxName, layout: SandboxLayout, server: string): Promise<void> {
  const pki = pkiPaths(layout.pkiDir);
  const contextName = `broadside-${name}`;
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
}

async function bootstrapCluster(request: SandboxRequest, state: SandboxState, env: SandboxEnvironment) {
  const kube = connect({ kubeconfigPath: state.adminKubeconfig });
  await waitForDefaultServiceAccount(kube, env.clock);
  await grantViewerPodReadAccess(kube);
  await createNodes(kube, request.nodes);
  await waitForSchedulableNodes(kube, request.nodes, env.clock);
  env.onProgress(`  ${request.nodes} nodes Ready`);
}

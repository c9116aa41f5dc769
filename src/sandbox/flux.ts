import { access, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BroadsideError } from "../core/errors.js";
import { binaryPaths } from "./build.js";
import type { FluxSyncRequest } from "./components-optional.js";
import type { SandboxEnvironment } from "./environment.js";
import { runChecked } from "./exec.js";
import { ensureFlux, type FluxPaths } from "./flux-build.js";
import { fluxComponentSpecs, fluxLayout, fluxPorts, gitServerProgram } from "./flux-components.js";
import { assertGit, commitFiles, createRepository, type GitRepository } from "./flux-repo.js";
import type { FluxState } from "./flux-state.js";
import {
  appliedRevision,
  fleetFiles,
  fleetPath,
  fleetRepository,
  fluxNamespace,
  namespaceManifest,
  syncManifests,
  syncName,
  yamlDocuments,
} from "./flux-sync.js";
import { startComponents, type Launcher } from "./launch.js";
import { writeFluxTargets } from "./prometheus.js";
import type { SandboxLayout } from "./state-dir.js";
import { writeState } from "./state-file.js";
import { fluxVersion } from "./versions.js";

/*
 * `sandbox up --with flux`: Flux's CRDs, the sandbox's Git repository and its server, source-controller
 * and kustomize-controller as local processes against the sandbox, and with `--flux-interval` a fleet
 * under a Kustomization. The processes are components like the others: in state.json, stopped by `down`
 * and when the start fails.
 */

/** What starting Flux on a sandbox needs. */
export interface FluxStage {
  readonly env: SandboxEnvironment;
  readonly layout: SandboxLayout;
  readonly launcher: Launcher;
}

const fieldManager = "broadside-sandbox";
/** How long `up` waits for Flux to apply the fleet (a first fetch and apply take about a second here). */
const applyTimeout = "180s";

/**
 * Before anything starts: git is there, the compiled git server is there, and both controllers are built
 * (the first time only; about 8 minutes on two cores).
 */
export async function prepareFlux(env: SandboxEnvironment): Promise<FluxPaths> {
  await assertGit(env.build.baseEnv.PATH ?? "");
  const { script } = gitServerProgram(env.packageRoot);
  await access(script).catch(() => {
    throw new BroadsideError(
      "BRD_PREREQUISITE_MISSING",
      `the sandbox's git server ${script} is missing: run \`npm run build\` (npm ci does it too), then sandbox up again`,
    );
  });
  return ensureFlux({ ...env.build, onProgress: env.onProgress, clock: env.clock });
}

function repositoryOf(stage: FluxStage): GitRepository {
  const flux = fluxLayout(stage.layout);
  return {
    root: flux.gitRoot,
    name: fleetRepository,
    bare: join(flux.gitRoot, `${fleetRepository}.git`),
    workTree: flux.workTree,
    path: stage.env.build.baseEnv.PATH ?? "",
  };
}

/** Starts Flux on a sandbox whose API server is up; with `sync`, puts the manifests under it. */
export async function startFlux(
  binaries: FluxPaths,
  sync: FluxSyncRequest | undefined,
  stage: FluxStage,
): Promise<void> {
  const { env, layout, launcher } = stage;
  const since = env.clock.now();
  const flux = fluxLayout(layout);
  const repository = repositoryOf(stage);
  await mkdir(flux.manifests, { recursive: true, mode: 0o700 });
  await mkdir(flux.artifacts, { recursive: true, mode: 0o700 });
  await Promise.all([createRepository(repository), installCrds(stage, binaries)]);
  const ports = await fluxPorts();
  launcher.state.flux = {
    version: fluxVersion,
    gitUrl: `http://127.0.0.1:${ports.git}/${fleetRepository}.git`,
    repository: repository.bare,
    workTree: repository.workTree,
    artifactStorage: `http://127.0.0.1:${ports.storage}`,
    metrics: {
      "source-controller": `127.0.0.1:${ports.sourceMetrics}`,
      "kustomize-controller": `127.0.0.1:${ports.kustomizeMetrics}`,
    },
  };
  const programs = gitServerProgram(env.packageRoot);
  await startComponents(fluxComponentSpecs(binaries, layout, ports, programs, fleetRepository), launcher);
  await writeFluxTargets(layout, launcher.state);
  env.onProgress(`  flux ${fluxVersion} running after ${env.clock.now() - since} ms`);
  if (sync !== undefined) await syncFleet(sync, stage);
}

/** Applies the controllers' CRDs with server-side apply and waits until the API server serves them. */
async function installCrds(stage: FluxStage, binaries: FluxPaths): Promise<void> {
  const namespaceFile = join(fluxLayout(stage.layout).manifests, "namespace.yaml");
  await writeFile(namespaceFile, yamlDocuments([namespaceManifest()]));
  await kubectl(stage, "apply", "--server-side", `--field-manager=${fieldManager}`, "-f", binaries.crdsDir);
  await kubectl(stage, "wait", "--for=condition=Established", "--timeout=60s", "-f", binaries.crdsDir);
  await kubectl(stage, "apply", "--server-side", `--field-manager=${fieldManager}`, "-f", namespaceFile);
}

/**
 * Commits the manifests to the repository's fleet directory, applies the GitRepository and the
 * Kustomization at the interval, and waits until Flux reports that commit applied. Run again on a
 * sandbox with Flux, it commits what changed and sets the new interval.
 */
export async function syncFleet(sync: FluxSyncRequest, stage: FluxStage): Promise<void> {
  const { env, launcher } = stage;
  const flux = launcher.state.flux;
  if (flux === undefined)
    throw new BroadsideError("BRD_SANDBOX_NOT_FOUND", `sandbox "${stage.layout.name}" has no Flux`);
  const since = env.clock.now();
  const interval = sync.interval.toString();
  const sha = await commitFiles(
    repositoryOf(stage),
    fleetPath,
    fleetFiles(sync.manifests),
    `The fleet, under Flux every ${interval}`,
  );
  const syncFile = join(fluxLayout(stage.layout).manifests, "sync.yaml");
  const requestedAt = new Date(env.clock.now()).toISOString();
  await writeFile(syncFile, yamlDocuments(syncManifests(flux.gitUrl, sync.interval, requestedAt)));
  await kubectl(stage, "apply", "--server-side", `--field-manager=${fieldManager}`, "-f", syncFile);
  const revision = appliedRevision(sha);
  await waitApplied(stage, revision);
  const synced: FluxState = {
    ...flux,
    sync: {
      interval,
      gitRepository: `${fluxNamespace}/${syncName}`,
      kustomization: `${fluxNamespace}/${syncName}`,
      path: fleetPath,
      revision,
    },
  };
  launcher.state.flux = synced;
  await writeState(stage.layout, launcher.state);
  env.onProgress(
    `  flux applied ${revision} from ${flux.gitUrl} (Kustomization ${fluxNamespace}/${syncName}, every ${interval}) after ${env.clock.now() - since} ms`,
  );
}

async function waitApplied(stage: FluxStage, revision: string): Promise<void> {
  try {
    await kubectl(
      stage,
      "wait",
      `--for=jsonpath={.status.lastAppliedRevision}=${revision}`,
      `--timeout=${applyTimeout}`,
      "-n",
      fluxNamespace,
      `kustomization/${syncName}`,
    );
  } catch (error: unknown) {
    const logs = stage.layout.logsDir;
    throw new BroadsideError(
      "BRD_SANDBOX_START_FAILED",
      `Flux did not apply ${revision} within ${applyTimeout}; see ${join(logs, "source-controller.log")}, ${join(logs, "kustomize-controller.log")} and the Kustomization's status (kubectl get kustomization -n ${fluxNamespace} ${syncName} -o yaml)`,
      { cause: error },
    );
  }
}

function kubectl(stage: FluxStage, ...args: string[]): Promise<string> {
  const { kubectl: program } = binaryPaths(stage.env.build.cacheDir);
  return runChecked(program, ["--kubeconfig", stage.layout.adminKubeconfig, ...args], {
    env: stage.env.build.baseEnv,
    failure: "BRD_SANDBOX_START_FAILED",
  });
}

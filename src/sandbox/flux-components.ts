import { join } from "node:path";
import type { ComponentSpec } from "./components.js";
import type { FluxPaths } from "./flux-build.js";
import { freePorts } from "./ports.js";
import type { SandboxLayout } from "./state-dir.js";

/*
 * The three processes of `sandbox up --with flux`: the git server (Node, git-server-main.ts) and Flux's
 * source-controller and kustomize-controller, run out of cluster against the sandbox. The controllers
 * read the admin kubeconfig from KUBECONFIG (the launcher sets it; they have no --kubeconfig flag). Both
 * default to the same metrics and health addresses on every interface (:8080, :9440) and
 * source-controller's storage to :9090: each gets ports of its own on 127.0.0.1. Leader election stays off
 * (their default) and they watch every namespace (their default), so RUNTIME_NAMESPACE is not needed.
 */

/** Where the sandbox keeps Flux's files, all inside its state directory. */
export interface FluxLayout {
  readonly dir: string;
  /** The git server's root: holds `<repository>.git`. */
  readonly gitRoot: string;
  readonly workTree: string;
  /** source-controller's --storage-path: the artifacts (tarballs of each fetched revision). */
  readonly artifacts: string;
  /** Manifests the sandbox applies with kubectl: the flux-system namespace, the sync objects. */
  readonly manifests: string;
}

export function fluxLayout(layout: SandboxLayout): FluxLayout {
  const dir = join(layout.dir, "flux");
  return {
    dir,
    gitRoot: join(dir, "git"),
    workTree: join(dir, "work"),
    artifacts: join(dir, "artifacts"),
    manifests: join(dir, "manifests"),
  };
}

export interface FluxPorts {
  readonly git: number;
  readonly storage: number;
  readonly sourceMetrics: number;
  readonly sourceHealth: number;
  readonly kustomizeMetrics: number;
  readonly kustomizeHealth: number;
}

export async function fluxPorts(): Promise<FluxPorts> {
  const [
    git = 0,
    storage = 0,
    sourceMetrics = 0,
    sourceHealth = 0,
    kustomizeMetrics = 0,
    kustomizeHealth = 0,
  ] = await freePorts(6);
  return { git, storage, sourceMetrics, sourceHealth, kustomizeMetrics, kustomizeHealth };
}

/** The git server: Node running the compiled dist/sandbox/git-server-main.js. */
export interface GitServerProgram {
  readonly node: string;
  readonly script: string;
}

export function gitServerProgram(packageRoot: string): GitServerProgram {
  return { node: process.execPath, script: join(packageRoot, "dist", "sandbox", "git-server-main.js") };
}

const loopback = (port: number): string => `127.0.0.1:${port}`;

export function fluxComponentSpecs(
  binaries: FluxPaths,
  layout: SandboxLayout,
  ports: FluxPorts,
  gitServer: GitServerProgram,
  repository: string,
): readonly ComponentSpec[] {
  const flux = fluxLayout(layout);
  const log = (name: string): string => join(layout.logsDir, `${name}.log`);
  const common = (metrics: number, health: number): string[] => [
    `--metrics-addr=${loopback(metrics)}`,
    `--health-addr=${loopback(health)}`,
    "--log-encoding=json",
  ];
  return [
    {
      name: "git-server",
      port: ports.git,
      binary: gitServer.node,
      script: gitServer.script,
      args: [gitServer.script, `--root=${flux.gitRoot}`, `--repository=${repository}`, `--port=${ports.git}`],
      healthUrl: `http://${loopback(ports.git)}/healthz`,
      healthCheck: "plain-http",
      logFile: log("git-server"),
    },
    {
      name: "source-controller",
      port: ports.sourceMetrics,
      binary: binaries.sourceController,
      args: [
        ...common(ports.sourceMetrics, ports.sourceHealth),
        `--storage-path=${flux.artifacts}`,
        `--storage-addr=${loopback(ports.storage)}`,
        // Written into each artifact's URL, which kustomize-controller downloads.
        `--storage-adv-addr=${loopback(ports.storage)}`,
      ],
      healthUrl: `http://${loopback(ports.sourceHealth)}/readyz`,
      healthCheck: "plain-http",
      logFile: log("source-controller"),
    },
    {
      name: "kustomize-controller",
      port: ports.kustomizeMetrics,
      binary: binaries.kustomizeController,
      args: [...common(ports.kustomizeMetrics, ports.kustomizeHealth)],
      healthUrl: `http://${loopback(ports.kustomizeHealth)}/readyz`,
      healthCheck: "plain-http",
      logFile: log("kustomize-controller"),
    },
  ];
}

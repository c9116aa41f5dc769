import type { Clock } from "../core/clock.js";
import type { PodBodiesChoice } from "./bodies/mode.js";
import type { BuildConfig } from "./build.js";
import type { OptionalRequest } from "./components-optional.js";
import { loadHealthCredentials, type HealthCredentials } from "./health.js";
import type { Launcher } from "./launch.js";
import type { Host } from "./bodies/host.js";
import type { ProcReader } from "./liveness.js";
import type { LockHolder } from "./lock.js";
import { etcdTlsFiles, kubeTlsFiles, pkiPaths } from "./pki.js";
import type { StopContext } from "./processes.js";
import type { SandboxName } from "./sandbox-name.js";
import type { PodLifecycle } from "./stages.js";
import type { SandboxLayout } from "./state-dir.js";
import type { SandboxState } from "./state-file.js";

/** What `sandbox up` was asked for; `with` and `fluxSync`: the optional components (components-optional.ts). */
export interface SandboxRequest extends OptionalRequest {
  readonly name: SandboxName;
  readonly nodes: number;
  readonly lifecycle: PodLifecycle;
  /**
   * `--pod-bodies`: auto, netns or loopback (src/sandbox/bodies/mode.ts). Absent: loopback, what every
   * programmatic caller (benchmarks, demo) got before bodies existed; the CLI's default is auto.
   */
  readonly podBodies?: PodBodiesChoice;
}

/** What the sandbox commands need from the entry point: where things live, how to report, the machine. */
export interface SandboxEnvironment {
  /** Parent of every sandbox's state directory (outside the repository). */
  readonly stateRoot: string;
  readonly build: Omit<BuildConfig, "onProgress" | "clock">;
  /** The package's root: the traffic process is its dist/sandbox/traffic/main.js. */
  readonly packageRoot: string;
  readonly openssl: string;
  readonly onProgress: (message: string) => void;
  readonly clock: Clock;
  /** Where liveness is read: /proc on the machine. */
  readonly proc: ProcReader;
  /** What pod bodies are made with: `ip` and /sys/fs/cgroup on the machine (bodies/host.ts). */
  readonly host: Host;
  /** The effective uid (process.geteuid()): pod bodies need root. */
  readonly uid: number | undefined;
}

/*
 * How the entry point's environment wires into the pieces: the lock's holder, what stopping and
 * launching need, and the certificates the health probes present.
 */

export function lockHolder(env: SandboxEnvironment): LockHolder {
  return { pid: process.pid, proc: env.proc };
}

export function stopContext(env: SandboxEnvironment): StopContext {
  return { clock: env.clock, proc: env.proc };
}

/** The admin certificate for Kubernetes components, the etcd client certificate for etcd. */
export function healthCredentials(layout: SandboxLayout): Promise<HealthCredentials> {
  const pki = pkiPaths(layout.pkiDir);
  return loadHealthCredentials(kubeTlsFiles(pki), etcdTlsFiles(pki));
}

export function launcherOf(
  env: SandboxEnvironment,
  state: SandboxState,
  layout: SandboxLayout,
  credentials: HealthCredentials,
): Launcher {
  return {
    state,
    layout,
    credentials,
    processEnv: { ...env.build.baseEnv, KUBECONFIG: layout.adminKubeconfig },
    onProgress: env.onProgress,
    clock: env.clock,
    proc: env.proc,
  };
}

import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration } from "../core/duration.js";
import { usageError } from "../core/errors.js";
import { checkDurationLimit, durationLimits, faultDurationLimits } from "../core/input-limits.js";
import { namespaceName, objectName } from "../core/names.js";
import { optional } from "../core/objects.js";
import { parseFrontDoorPorts, type FrontDoorPorts } from "../demo/front-door-ports.js";
import type { KubeconfigEnvironment } from "../kube/kubeconfig.js";

/**
 * Everything the CLI takes from its environment, read once in main and passed down. Library code never
 * reads process.env.
 */
export interface CliConfig {
  /** Built control-plane binaries, one directory per version (BROADSIDE_CACHE_DIR). */
  readonly cacheDir: string;
  /** State of running sandboxes: pids, ports, certificates, logs (BROADSIDE_STATE_DIR). */
  readonly stateDir: string;
  /** The package's root: examples/, sandbox/go/. */
  readonly packageRoot: string;
  /** The package's sandbox/go directory with the Go wrapper modules. */
  readonly goModulesDir: string;
  readonly goBinary: string;
  readonly opensslBinary: string;
  /** The longest --duration an object fault may have (BROADSIDE_MAX_FAULT_DURATION, default 1h). */
  readonly maxFaultDuration: Duration;
  /**
   * The uid of the pod Broadside runs in (BROADSIDE_POD_UID, set through the Downward API when it runs
   * in-cluster): that pod is never a target.
   */
  readonly selfPodUid: string | undefined;
  /**
   * The pod Broadside runs in, by name (BROADSIDE_POD_NAME and BROADSIDE_POD_NAMESPACE, from the Downward
   * API): the agent's board labels it while it leads. Undefined outside a pod.
   */
  readonly selfPod: { readonly namespace: string; readonly name: string } | undefined;
  /** The Prometheus that probes without a url of their own query (BROADSIDE_PROMETHEUS_URL). */
  readonly prometheusUrl: string | undefined;
  /** Where the demo's front doors listen unless --front-door-ports says (BROADSIDE_FRONT_DOOR_PORTS). */
  readonly frontDoorPorts: FrontDoorPorts | undefined;
  /** For Broadside's own crash tests only: SIGKILL itself at this point of a fault's life. */
  readonly failpoint: string | undefined;
  /** How long closed ledger records are kept before recover, halt and status prune them (default 7 days). */
  readonly ledgerRetention: Duration;
  /** Where kubectl's search for a kubeconfig looks: KUBECONFIG, the home directory, in a pod. */
  readonly kubeconfigEnvironment: KubeconfigEnvironment;
  readonly env: NodeJS.ProcessEnv;
}

export function readConfig(env: NodeJS.ProcessEnv): CliConfig {
  const home = env.HOME ?? homedir();
  const cacheHome = env.XDG_CACHE_HOME ?? join(home, ".cache");
  const stateHome = env.XDG_STATE_HOME ?? join(home, ".local", "state");
  // This file is dist/cli/config.js, a chunk of dist/bundle/ (ADR 0020), or src/cli/config.ts under test;
  // the package root is two levels up from each.
  const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  return {
    cacheDir: env.BROADSIDE_CACHE_DIR ?? join(cacheHome, "broadside"),
    stateDir: env.BROADSIDE_STATE_DIR ?? join(stateHome, "broadside", "sandboxes"),
    packageRoot,
    goModulesDir: join(packageRoot, "sandbox", "go"),
    goBinary: env.BROADSIDE_GO ?? "go",
    opensslBinary: env.BROADSIDE_OPENSSL ?? "openssl",
    maxFaultDuration: maxFaultDurationFrom(env.BROADSIDE_MAX_FAULT_DURATION),
    frontDoorPorts: optionalEnv(env.BROADSIDE_FRONT_DOOR_PORTS, (text) =>
      parseFrontDoorPorts(text, "BROADSIDE_FRONT_DOOR_PORTS"),
    ),
    failpoint: env.BROADSIDE_FAILPOINT,
    prometheusUrl: httpUrlFrom(env.BROADSIDE_PROMETHEUS_URL, "BROADSIDE_PROMETHEUS_URL"),
    selfPodUid: podUidFrom(env.BROADSIDE_POD_UID),
    selfPod: selfPodFrom(env.BROADSIDE_POD_NAME, env.BROADSIDE_POD_NAMESPACE),
    ledgerRetention: ledgerRetentionFrom(env.BROADSIDE_LEDGER_RETENTION),
    kubeconfigEnvironment: kubeconfigEnvironmentFrom(env, home),
    env,
  };
}

function optionalEnv<T>(text: string | undefined, parse: (text: string) => T): T | undefined {
  return text === undefined ? undefined : parse(text);
}

function ledgerRetentionFrom(text: string | undefined): Duration {
  const variable = "BROADSIDE_LEDGER_RETENTION";
  const retention = Duration.parse(text ?? "168h", variable, Duration.ceiling);
  return checkDurationLimit(retention, durationLimits.ledgerRetention, variable);
}

function kubeconfigEnvironmentFrom(env: NodeJS.ProcessEnv, home: string): KubeconfigEnvironment {
  return {
    ...optional("envKubeconfig", env.KUBECONFIG),
    home,
    inCluster: env.KUBERNETES_SERVICE_HOST !== undefined && env.KUBERNETES_SERVICE_HOST !== "",
  };
}

function maxFaultDurationFrom(text: string | undefined): Duration {
  if (text === undefined) return faultDurationLimits.defaultMax;
  const duration = Duration.parse(text, "BROADSIDE_MAX_FAULT_DURATION", faultDurationLimits.ceiling);
  if (duration.milliseconds === 0) throw usageError("BROADSIDE_MAX_FAULT_DURATION", "must be longer than 0");
  return duration;
}

function httpUrlFrom(text: string | undefined, variable: string): string | undefined {
  if (text === undefined || text === "") return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(variable, `"${text}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(variable, `must be an http or https URL, got ${url.protocol.replace(":", "")}`);
  }
  return text;
}

/** The pod's name and namespace: both or neither, each a valid name. */
function selfPodFrom(name: string | undefined, namespace: string | undefined) {
  const given = (text: string | undefined) => text !== undefined && text !== "";
  if (!given(name) && !given(namespace)) return undefined;
  if (name === undefined || name === "")
    throw usageError("BROADSIDE_POD_NAME", "needed with BROADSIDE_POD_NAMESPACE");
  if (namespace === undefined || namespace === "")
    throw usageError("BROADSIDE_POD_NAMESPACE", "needed with BROADSIDE_POD_NAME");
  return {
    name: objectName(name, "BROADSIDE_POD_NAME"),
    namespace: namespaceName(namespace, "BROADSIDE_POD_NAMESPACE"),
  };
}

/** A pod's uid as the API server makes them (a UUID); the Downward API writes it. */
function podUidFrom(text: string | undefined): string | undefined {
  if (text === undefined || text === "") return undefined;
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(text)) {
    throw usageError("BROADSIDE_POD_UID", `"${text}" is not a pod uid (a UUID, as metadata.uid holds)`);
  }
  return text;
}

import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration } from "../core/duration.js";
import { parseFrontDoorPorts, type FrontDoorPorts } from "../demo/front-door-ports.js";

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
  /** The Prometheus that probes without a url of their own query (BROADSIDE_PROMETHEUS_URL). */
  readonly prometheusUrl: string | undefined;
  /** Where the demo's front doors listen unless --front-door-ports says (BROADSIDE_FRONT_DOOR_PORTS). */
  readonly frontDoorPorts: FrontDoorPorts | undefined;
  /** For Broadside's own crash tests only: SIGKILL itself at this point of a fault's life. */
  readonly failpoint: string | undefined;
  readonly env: NodeJS.ProcessEnv;
}

export function readConfig(env: NodeJS.ProcessEnv): CliConfig {
  const home = env.HOME ?? homedir();
  const cacheHome = env.XDG_CACHE_HOME ?? join(home, ".cache");
  const stateHome = env.XDG_STATE_HOME ?? join(home, ".local", "state");
  // This file is dist/cli/config.js (or src/cli/config.ts under test); the package root is two levels up.
  const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  return {
    cacheDir: env.BROADSIDE_CACHE_DIR ?? join(cacheHome, "broadside"),
    stateDir: env.BROADSIDE_STATE_DIR ?? join(stateHome, "broadside", "sandboxes"),
    packageRoot,
    goModulesDir: join(packageRoot, "sandbox", "go"),
    goBinary: env.BROADSIDE_GO ?? "go",
    opensslBinary: env.BROADSIDE_OPENSSL ?? "openssl",
    maxFaultDuration: Duration.parse(
      env.BROADSIDE_MAX_FAULT_DURATION ?? "1h",
      "BROADSIDE_MAX_FAULT_DURATION",
    ),
    frontDoorPorts:
      env.BROADSIDE_FRONT_DOOR_PORTS === undefined
        ? undefined
        : parseFrontDoorPorts(env.BROADSIDE_FRONT_DOOR_PORTS, "BROADSIDE_FRONT_DOOR_PORTS"),
    failpoint: env.BROADSIDE_FAILPOINT,
    prometheusUrl: env.BROADSIDE_PROMETHEUS_URL,
    selfPodUid: env.BROADSIDE_POD_UID,
    env,
  };
}

import { KubeConfig } from "@kubernetes/client-node";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { BroadsideError, describeError } from "../core/errors.js";

/**
 * Finds the cluster as kubectl does (--kubeconfig, else every existing file of $KUBECONFIG merged, else
 * ~/.kube/config, else the in-cluster service account), but says what it looked for when it finds
 * nothing. client-node's own loadFromDefault falls back to http://localhost:8080 instead, and the first
 * request then fails with a message about TLS that sends a user the wrong way.
 */

/** Where kubectl's search looks, read from the environment once by the entry point. */
export interface KubeconfigEnvironment {
  /** $KUBECONFIG as the environment had it. */
  readonly envKubeconfig?: string;
  /** The user's home directory, for ~/.kube/config. */
  readonly home: string;
  /** KUBERNETES_SERVICE_HOST is set: Broadside runs in a pod. */
  readonly inCluster: boolean;
}

export interface KubeconfigSearch extends KubeconfigEnvironment {
  /** --kubeconfig, when given: this file and no other. */
  readonly flagPath?: string;
}

/** The in-cluster service account's token, which client-node's loadFromCluster reads. */
export const serviceAccountTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token";

const howToPoint =
  "point Broadside at a cluster with --kubeconfig FILE or KUBECONFIG, or start a local one with " +
  '`broadside sandbox up` and use `export KUBECONFIG="$(broadside sandbox kubeconfig)"`';

function kubeconfigError(message: string, cause?: unknown): BroadsideError {
  return new BroadsideError("BRD_KUBECONFIG", message, cause === undefined ? undefined : { cause });
}

function loadFile(config: KubeConfig, path: string, field: string): void {
  if (!existsSync(path)) throw kubeconfigError(`${field}: there is no file at ${path}`);
  try {
    config.loadFromFile(path);
  } catch (error: unknown) {
    throw kubeconfigError(`${field}: ${path} is not a usable kubeconfig: ${describeError(error)}`, error);
  }
}

function loadEnvFiles(config: KubeConfig, envKubeconfig: string): void {
  const files = envKubeconfig.split(delimiter).filter((file) => file !== "");
  // kubectl skips files of the list that do not exist; it is an error only when none does.
  const existing = files.filter((file) => existsSync(file));
  const [first, ...rest] = existing;
  if (first === undefined) {
    throw kubeconfigError(`KUBECONFIG: none of its files exists (${files.join(", ")}); ${howToPoint}`);
  }
  loadFile(config, first, "KUBECONFIG");
  for (const file of rest) {
    const more = new KubeConfig();
    loadFile(more, file, "KUBECONFIG");
    config.mergeConfig(more);
  }
}

/** The kubeconfig the search finds; BRD_KUBECONFIG naming what was looked for when there is none. */
export function loadKubeconfig(search: KubeconfigSearch): KubeConfig {
  const config = new KubeConfig();
  if (search.flagPath !== undefined) loadFile(config, search.flagPath, "--kubeconfig");
  else if (search.envKubeconfig !== undefined && search.envKubeconfig !== "")
    loadEnvFiles(config, search.envKubeconfig);
  else if (existsSync(join(search.home, ".kube", "config")))
    loadFile(config, join(search.home, ".kube", "config"), "~/.kube/config");
  else if (search.inCluster && existsSync(serviceAccountTokenPath)) config.loadFromCluster();
  else {
    throw kubeconfigError(
      `no kubeconfig found: no --kubeconfig, KUBECONFIG is not set, ${join(search.home, ".kube", "config")} ` +
        `does not exist, and this is not a pod with a service account; ${howToPoint}`,
    );
  }
  checkCurrentCluster(config);
  return config;
}

function checkCurrentCluster(config: KubeConfig): void {
  const cluster = config.getCurrentCluster();
  if (cluster === null) {
    throw kubeconfigError(
      `the kubeconfig has no current cluster (current context: "${config.getCurrentContext()}")`,
    );
  }
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw kubeconfigError(`the cluster "${cluster.name}" has no valid server URL: "${cluster.server}"`);
  }
  if (server.protocol !== "https:") {
    throw kubeconfigError(
      `the cluster "${cluster.name}" is served over ${server.protocol.replace(":", "")}, not https: ` +
        "Broadside talks to API servers over TLS only",
    );
  }
}

/**
 * The kubeconfig a command acts with: found as kubectl finds it (or the file given), switched to
 * `context` when one is named (--context), with an https API server.
 */
export function loadClusterConfig(search: KubeconfigSearch, context?: string): KubeConfig {
  const config = loadKubeconfig(search);
  if (context !== undefined) {
    if (!config.getContexts().some((each) => each.name === context)) {
      throw new BroadsideError("BRD_USAGE", `--context: no context named "${context}" in the kubeconfig`);
    }
    config.setCurrentContext(context);
    checkCurrentCluster(config);
  }
  return config;
}

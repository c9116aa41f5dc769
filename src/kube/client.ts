import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PolicyV1Api,
  RbacAuthorizationV1Api,
} from "@kubernetes/client-node";
import { BroadsideError } from "../core/errors.js";

/** Where to find the cluster, as kubectl finds it: --kubeconfig, else KUBECONFIG, else ~/.kube/config. */
export interface ClusterAccess {
  readonly kubeconfigPath?: string;
  readonly context?: string;
}

/** The typed API groups Broadside uses, made once per process from one KubeConfig. */
export interface KubeClients {
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly policy: PolicyV1Api;
  readonly rbac: RbacAuthorizationV1Api;
}

export function connect(access: ClusterAccess): KubeClients {
  const config = new KubeConfig();
  if (access.kubeconfigPath === undefined) config.loadFromDefault();
  else config.loadFromFile(access.kubeconfigPath);
  if (access.context !== undefined) {
    if (!config.getContexts().some((context) => context.name === access.context)) {
      throw new BroadsideError(
        "BRD_USAGE",
        `--context: no context named "${access.context}" in the kubeconfig`,
      );
    }
    config.setCurrentContext(access.context);
  }
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    policy: config.makeApiClient(PolicyV1Api),
    rbac: config.makeApiClient(RbacAuthorizationV1Api),
  };
}

/** The HTTP status of a failed API call, or undefined when the failure was not an HTTP answer. */
export function apiStatus(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** Runs `call`, treating 409 AlreadyExists as success: for idempotent creates. */
export async function createIfMissing(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error: unknown) {
    if (apiStatus(error) !== 409) throw error;
  }
}

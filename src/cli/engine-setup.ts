import type { KubeConfig } from "@kubernetes/client-node";
import type { RecoverySummary } from "../core/ledger/recovery.js";
import { optional } from "../core/objects.js";
import type { EngineContext } from "../engine/context.js";
import { connect, contextNamespace, type KubeClients } from "../kube/client.js";
import { clientNodeSources } from "../kube/watch/client-node-source.js";
import type { CliConfig } from "./config.js";
import {
  clusterAccess,
  engineContext,
  recoverLeftovers,
  type ClusterFlags,
  type EngineOptions,
} from "./engine-context.js";
import type { CliIo } from "./options.js";

export interface ConnectedEngine {
  readonly ctx: EngineContext;
  /** The kubeconfig the clients were made from (the agent's Lease client is made from it too). */
  readonly kubeConfig: KubeConfig;
  /** The throttled clients, for the agent's writes beyond the engine's (its resources' status). */
  readonly kube: KubeClients;
  /** The namespace of the kubeconfig's context (else "default"), for commands given no -n. */
  readonly defaultNamespace: string;
}

export interface StartedEngine extends ConnectedEngine {
  /** What the ledger check on start recovered. */
  readonly leftovers: readonly RecoverySummary[];
}

/**
 * Builds the engine over the cluster the flags name: the kube/ implementations of the small interfaces it
 * acts through, over one set of throttled clients. Sends no request, so a command can check the rest of
 * its input (which may need the kubeconfig's namespace) before anything reaches the cluster.
 */
export function connectEngine(
  config: CliConfig,
  io: CliIo,
  flags: ClusterFlags & EngineOptions,
): ConnectedEngine {
  const kube = connect({ ...clusterAccess(config, flags), ...optional("observer", flags.observer) });
  const ctx = engineContext(config, io, flags, {
    kube,
    watches: clientNodeSources(kube.config, kube.counter, flags.observer),
    user: kube.config.getCurrentUser()?.name ?? "unknown",
  });
  return { ctx, kubeConfig: kube.config, kube, defaultNamespace: contextNamespace(kube.config) };
}

/** connectEngine, then recoverLeftovers: for commands whose input is checked already. */
export async function startEngine(
  config: CliConfig,
  io: CliIo,
  flags: ClusterFlags & EngineOptions,
): Promise<StartedEngine> {
  const connected = connectEngine(config, io, flags);
  return { ...connected, leftovers: await recoverLeftovers(connected.ctx) };
}

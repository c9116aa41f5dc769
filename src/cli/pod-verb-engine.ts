import { systemClock } from "../core/clock.js";
import type { EngineContext } from "../engine/context.js";
import { defaultApiRateLimits } from "../kube/rate-limits.js";
import { wireEngineKube } from "../kube/wire/clients.js";
import { readWireKubeconfig } from "../kube/wire/kubeconfig.js";
import { httpsExchange, wireConnection, WireTransport } from "../kube/wire/transport.js";
import { wireWatchSources } from "../kube/wire/watch-source.js";
import type { CliConfig } from "./config.js";
import { clusterAccess, engineContext, type ClusterFlags, type EngineOptions } from "./engine-context.js";
import type { CliIo } from "./options.js";

export interface PodVerbEngine {
  readonly ctx: EngineContext;
  /** The namespace of the kubeconfig's context (else "default"), for commands given no -n. */
  readonly defaultNamespace: string;
}

/**
 * The engine of the one-shot verbs (kill, evict, fail, drift, squeeze, scale), which start cold for one
 * fault: over the wire client when the kubeconfig is one it serves (one file, a static credential), so
 * the command never loads @kubernetes/client-node (its recovery's watches included); over client-node's typed clients
 * otherwise (exec and auth-provider plugins, merged KUBECONFIG files, in-cluster). Both send the same
 * requests, throttled the same way (ADR 0024). Sends no request itself.
 */
export async function connectPodVerbEngine(
  config: CliConfig,
  io: CliIo,
  flags: ClusterFlags & EngineOptions,
): Promise<PodVerbEngine> {
  const access = clusterAccess(config, flags);
  const search =
    access.kubeconfigPath === undefined
      ? access.environment
      : { home: "", inCluster: false, flagPath: access.kubeconfigPath };
  const wire = search === undefined ? undefined : await readWireKubeconfig(search, flags.context);
  if (wire === undefined) {
    const { connectEngine } = await import("./engine-setup.js");
    const { ctx, defaultNamespace } = connectEngine(config, io, flags);
    return { ctx, defaultNamespace };
  }
  const connection = wireConnection(wire.target);
  const transport = new WireTransport(
    httpsExchange(connection),
    defaultApiRateLimits,
    systemClock,
    { requests: 0 },
    flags.observer,
  );
  const kube = wireEngineKube(transport);
  const watches = wireWatchSources(connection, kube.counter, flags.observer);
  return {
    ctx: engineContext(config, io, flags, { kube, watches, user: wire.userName }),
    defaultNamespace: wire.namespace,
  };
}

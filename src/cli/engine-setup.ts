import type { KubeConfig } from "@kubernetes/client-node";
import type { Command } from "commander";
import { hostname, userInfo } from "node:os";
import { systemClock } from "../core/clock.js";
import type { RecoverySummary } from "../core/ledger/recovery.js";
import { recoverExpired } from "../core/ledger/recovery.js";
import { optional } from "../core/objects.js";
import { WorkloadDownCap } from "../core/limits/down-cap.js";
import { defaultRails } from "../core/targeting/rails.js";
import type { EngineContext } from "../engine/context.js";
import { RecordAccess } from "../engine/record-access.js";
import type { ApiRequestObserver } from "../kube/api-request-observer.js";
import { connect, contextNamespace, type ClusterAccess, type KubeClients } from "../kube/client.js";
import { ConfigMapHaltSwitch } from "../kube/halt-switch.js";
import { broadsideNamespace, ConfigMapLedgerStore } from "../kube/ledger-store.js";
import { ClusterObjects } from "../kube/objects.js";
import { clusterPodFacts } from "../kube/pod-facts.js";
import { ClusterPods } from "../kube/pods.js";
import { clientNodeSources } from "../kube/watch/client-node-source.js";
import type { CliConfig } from "./config.js";
import type { CliIo } from "./options.js";

/** kubectl's flags for finding the cluster, on every command that talks to one. */
export interface ClusterFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
}

export function addClusterFlags(command: Command): Command {
  return command
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    .option("--context <name>", "kubeconfig context to use");
}

export interface EngineOptions {
  readonly unsafe?: boolean;
  readonly optIn?: boolean;
  /** The agent's --watch-namespaces: it acts nowhere else (all namespaces when not given). */
  readonly watchedNamespaces?: readonly string[];
  /** Told of every API request (the agent's metrics). */
  readonly observer?: ApiRequestObserver;
}

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
  const objects = new ClusterObjects(kube);
  const pods = new ClusterPods(kube);
  const ctx: EngineContext = {
    pods,
    podFacts: clusterPodFacts(kube),
    objects,
    namespaces: objects,
    watches: clientNodeSources(kube.config, kube.counter, flags.observer),
    ledger: new ConfigMapLedgerStore(kube, broadsideNamespace),
    halt: new ConfigMapHaltSwitch(kube, broadsideNamespace),
    targets: new RecordAccess(objects, pods),
    apiRequests: () => kube.counter.requests,
    clock: systemClock,
    random: Math.random,
    actor: {
      user: `${kube.config.getCurrentUser()?.name ?? "unknown"} (${userInfo().username})`,
      host: hostname(),
      pid: process.pid,
    },
    rails: defaultRails(broadsideNamespace, {
      unsafe: flags.unsafe ?? false,
      optIn: flags.optIn ?? false,
      selfPodUids: config.selfPodUid === undefined ? [] : [config.selfPodUid],
      watchedNamespaces: flags.watchedNamespaces ?? "all",
    }),
    downCap: new WorkloadDownCap(),
    progress: (message) => {
      io.err(`${message}\n`);
    },
    failpoint: (name) => {
      if (name === config.failpoint) process.kill(process.pid, "SIGKILL");
    },
  };
  return { ctx, kubeConfig: kube.config, kube, defaultNamespace: contextNamespace(kube.config) };
}

/**
 * What every Broadside command does before it acts: finishes the reverts that crashed or detached runs
 * left behind (expired open ledger records), and says so.
 */
export async function recoverLeftovers(ctx: EngineContext): Promise<readonly RecoverySummary[]> {
  const leftovers = await recoverExpired(ctx.ledger, ctx.targets, ctx.clock, { includeUnexpired: false });
  for (const summary of leftovers) ctx.progress(`recovered a left-behind fault: ${describeSummary(summary)}`);
  return leftovers;
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

/** The cluster the flags name, found with the environment the CLI read at start. */
export function clusterAccess(config: CliConfig, flags: ClusterFlags): ClusterAccess {
  return {
    environment: config.kubeconfigEnvironment,
    ...optional("kubeconfigPath", flags.kubeconfig),
    ...optional("context", flags.context),
  };
}

export function describeSummary(summary: RecoverySummary): string {
  const target = `${summary.target.kind} ${summary.target.namespace}/${summary.target.name}`;
  const detail = summary.detail === undefined ? "" : ` (${summary.detail})`;
  return `${summary.faultKind} ${target} ${summary.path}: ${summary.result}${detail} [ledger ${summary.id}]`;
}

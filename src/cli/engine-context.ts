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
import type { ClusterAccess } from "../kube/client.js";
import type { NodeWorkStore } from "../core/node-work.js";
import type { EngineKube } from "../kube/engine-kube.js";
import { ConfigMapHaltSwitch } from "../kube/halt-switch.js";
import { broadsideNamespace, ConfigMapLedgerStore } from "../kube/ledger-store.js";
import { ClusterObjects } from "../kube/objects.js";
import { clusterPodFacts } from "../kube/pod-facts.js";
import { ClusterPods } from "../kube/pods.js";
import type { WatchSources } from "../kube/watch/source.js";
import type { CliConfig } from "./config.js";
import type { CliIo } from "./options.js";

/*
 * The engine over a cluster, from whichever client reaches it: client-node's typed clients
 * (engine-setup.ts) or the pod verbs' wire client (pod-verb-engine.ts). This module loads neither.
 */

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

/**
 * What every Broadside command does before it acts: finishes the reverts that crashed or detached runs
 * left behind (expired open ledger records), and says so.
 */
export async function recoverLeftovers(ctx: EngineContext): Promise<readonly RecoverySummary[]> {
  const leftovers = await recoverExpired(ctx.ledger, ctx.targets, ctx.clock, { includeUnexpired: false });
  for (const summary of leftovers) ctx.progress(`recovered a left-behind fault: ${describeSummary(summary)}`);
  return leftovers;
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

/** What the engine needs of a connected cluster. */
export interface EngineCluster {
  readonly kube: EngineKube;
  readonly watches: WatchSources;
  /** The kubeconfig's user entry, for the ledger's actor. */
  readonly user: string;
}

/** The engine's context: the kube/ implementations of its small interfaces, over one set of clients. */
export function engineContext(
  config: CliConfig,
  io: CliIo,
  flags: EngineOptions,
  cluster: EngineCluster,
): EngineContext {
  const { kube } = cluster;
  const objects = new ClusterObjects(kube);
  const pods = new ClusterPods(kube);
  const nodeWork = lazyNodeWork(kube.core, broadsideNamespace);
  return {
    pods,
    podFacts: clusterPodFacts(kube),
    objects,
    namespaces: objects,
    watches: cluster.watches,
    ledger: new ConfigMapLedgerStore(kube, broadsideNamespace),
    nodeWork,
    halt: new ConfigMapHaltSwitch(kube, broadsideNamespace),
    targets: new RecordAccess(objects, pods, nodeWork),
    apiRequests: () => kube.counter.requests,
    clock: systemClock,
    random: Math.random,
    actor: {
      user: `${cluster.user} (${userInfo().username})`,
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
}

/**
 * The node daemons' work store, loaded on its first use: its checks are zod schemas, which a cold pod kill
 * does not load (ADR 0024), and only `kill --container` and run's container-kill steps use it.
 */
function lazyNodeWork(core: EngineKube["core"], namespace: string): NodeWorkStore {
  let store: Promise<NodeWorkStore> | undefined;
  const loaded = (): Promise<NodeWorkStore> =>
    (store ??= import("../kube/node-work-store.js").then(
      (module) => new module.ConfigMapNodeWork(core, namespace),
    ));
  return {
    create: async (spec) => (await loaded()).create(spec),
    read: async (name) => (await loaded()).read(name),
    answer: async (work, status) => (await loaded()).answer(work, status),
    withdraw: async (work) => (await loaded()).withdraw(work),
    requestRevert: async (work, request) => (await loaded()).requestRevert(work, request),
    remove: async (name) => (await loaded()).remove(name),
    capabilities: async (node) => (await loaded()).capabilities?.(node),
  };
}

import type { KubernetesObject, V1ConfigMap } from "@kubernetes/client-node";
import type { Duration } from "../core/duration.js";
import type { EventRecorder } from "../kube/events.js";
import type { StatusWriter } from "../kube/resource-status.js";
import { podChaosReconciler, type PodChaosObject } from "./pod-chaos-reconciler.js";
import type { Clock } from "../core/clock.js";
import type { RecoverySummary } from "../core/ledger/recovery.js";
import type { EngineContext } from "../engine/context.js";
import { ledgerKey, ledgerReconciler } from "./ledger-reconciler.js";
import { informersSynced } from "./http/readiness.js";
import type { Observability } from "./http/observability.js";
import { broadsideNamespace, stateSelector } from "../kube/ledger-store.js";
import { LeaderElector, type LeaderLog } from "../kube/leader/elector.js";
import type { LeaseStore } from "../kube/leader/lease-store.js";
import type { LeaderTimings } from "../kube/leader/timings.js";
import { collectionPath } from "../kube/watch/client-node-source.js";
import { Informer } from "../kube/watch/informer.js";
import { createWorkQueue } from "./reconcile/work-queue.js";
import { startWorkers } from "./reconcile/workers.js";

/**
 * `broadside agent`: the resident process (ADR 0007). Every replica watches the ledger and serves its
 * health and metrics; the one that holds the Lease reconciles. Today it reconciles the ledger (reverts at
 * each open record's deadline, whoever wrote it); the chaos resources' reconcilers join the same loop.
 */

export interface AgentConfig {
  /** This replica's name in the Lease. */
  readonly identity: string;
  /** false runs as leader at once, without a Lease (a single replica on a workstation). */
  readonly leaderElect: boolean;
  readonly timings: LeaderTimings;
  /** The longest wait between two looks at the ledger. */
  readonly resyncMs: number;
  /** How long a PodChaos shot's recovery is watched for its milestones. */
  readonly recoveryTimeout: Duration;
}

export type AgentLog = LeaderLog;

export interface AgentDeps {
  readonly ctx: EngineContext;
  readonly leases: LeaseStore;
  /** Writes the status of Broadside's resources. */
  readonly status: StatusWriter;
  /** Events on Broadside's resources. */
  readonly events: EventRecorder;
  readonly observability: Observability;
  readonly log: AgentLog;
}

/** Runs until `stop` aborts: then stops leading (releasing the Lease), serving and watching. */
export async function runAgent(config: AgentConfig, deps: AgentDeps, stop: AbortSignal): Promise<void> {
  const { ctx, log } = deps;
  const ledgerRecords = new Informer<V1ConfigMap>({
    source: ctx.watches({
      path: collectionPath("v1", "configmaps", broadsideNamespace),
      labelSelector: stateSelector(undefined),
    }),
    description: "ledger records",
    clock: ctx.clock,
  });
  const podChaos = new Informer<PodChaosObject & KubernetesObject>({
    source: ctx.watches({ path: collectionPath("broadside.dev/v1alpha1", "podchaos") }),
    description: "PodChaos",
    clock: ctx.clock,
  });
  const informers = { ledgerRecords, podChaos };
  const server = await deps.observability.serve([informersSynced([ledgerRecords, podChaos])]);
  log.info({ health: server.health, metrics: server.metrics, identity: config.identity }, "agent serving");
  // Synced or not, the process serves: /readyz says when the cache is ready.
  const watching = [ledgerRecords.start(), podChaos.start()].map((started) => started.catch(() => undefined));
  try {
    await lead(config, deps, informers, stop);
  } finally {
    await Promise.all([ledgerRecords.stop(), podChaos.stop()]);
    await Promise.all(watching);
    await server.close();
    log.info({}, "agent stopped");
  }
}

interface AgentInformers {
  readonly ledgerRecords: Informer<V1ConfigMap>;
  readonly podChaos: Informer<PodChaosObject & KubernetesObject>;
}

async function lead(
  config: AgentConfig,
  deps: AgentDeps,
  informers: AgentInformers,
  stop: AbortSignal,
): Promise<void> {
  const reconcileWhileLeading = (signal: AbortSignal) => reconcile(config, deps, informers, signal);
  if (!config.leaderElect) {
    await reconcileWhileLeading(stop);
    return;
  }
  const elector = new LeaderElector({
    store: deps.leases,
    identity: config.identity,
    clock: deps.ctx.clock,
    timings: config.timings,
    releaseOnCancel: true,
    log: deps.log,
    callbacks: {
      onStartedLeading: reconcileWhileLeading,
      onNewLeader: (leader) => {
        deps.log.info({ leader }, "leader");
      },
    },
  });
  // A replica that lost the Lease stands again: it may lead later, and its caches stay warm meanwhile.
  while (!stop.aborted) await elector.run(stop);
}

/**
 * The leader's loops: one queue per kind with its workers, fed by the kind's informer (and, for the
 * ledger, each record's deadline). Different objects reconcile side by side; one object never twice at once.
 */
async function reconcile(
  config: AgentConfig,
  deps: AgentDeps,
  informers: AgentInformers,
  signal: AbortSignal,
): Promise<void> {
  const { ctx, log, observability } = deps;
  const { metrics } = observability;
  metrics.leadershipIs(true);
  log.info({ identity: config.identity }, "leading: reconciling");
  const queue = createWorkQueue(ctx.clock);
  const reconcileLedger = ledgerReconciler({
    ledger: ctx.ledger,
    targets: ctx.targets,
    clock: ctx.clock,
    resyncMs: config.resyncMs,
    onRecovered: (summary) => {
      logRecovery(log, summary);
    },
    onOpen: (open) => {
      metrics.activeFaultsAre(open);
    },
  });
  const unsubscribe = informers.ledgerRecords.subscribe(() => {
    queue.add(ledgerKey);
  });
  const workers = startWorkers(queue, () => reconcileLedger(), log);
  queue.add(ledgerKey);
  const podChaos = startPodChaosLoop(config, deps, informers.podChaos);
  await untilAborted(signal, ctx.clock);
  unsubscribe();
  queue.shutDown();
  await Promise.all([workers.finished, podChaos()]);
  metrics.leadershipIs(false);
  log.info({ identity: config.identity }, "no longer leading");
}

/** PodChaos: every object the informer has, and every change to one, is a key to reconcile. */
function startPodChaosLoop(
  config: AgentConfig,
  deps: AgentDeps,
  informer: Informer<PodChaosObject & KubernetesObject>,
): () => Promise<void> {
  const queue = createWorkQueue(deps.ctx.clock);
  const reconcilePodChaos = podChaosReconciler({
    ctx: deps.ctx,
    get: (namespace, name) => informer.get(namespace, name),
    status: deps.status,
    recoveryTimeout: config.recoveryTimeout,
    haltedRetryMs: haltedRetryMs,
    events: deps.events,
    onResult: (result) => {
      const { metrics } = deps.observability;
      for (const shot of result.shots) metrics.shotFired("pod-kill", shot.outcome);
      if (result.recovery !== undefined) metrics.recoveryReported("pod-kill", result.recovery);
    },
  });
  const keyOf = (object: KubernetesObject) =>
    `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
  const unsubscribe = informer.subscribe((event) => {
    queue.add(keyOf(event.object));
  });
  for (const object of informer.list()) queue.add(keyOf(object));
  const workers = startWorkers(queue, reconcilePodChaos, deps.log, podChaosWorkers);
  return async () => {
    unsubscribe();
    queue.shutDown();
    await workers.finished;
  };
}

/** While the kill switch is held, a PodChaos looks again this often (the agent honours a release in 10 s). */
const haltedRetryMs = 10_000;
/** PodChaos objects reconciled side by side: each waits for its pods' recovery, so a few at once. */
const podChaosWorkers = 4;

function logRecovery(log: AgentLog, summary: RecoverySummary): void {
  const { error, ...fields } = summary;
  if (error === undefined) log.info(fields, "ledger record recovered");
  else log.warn({ ...fields, err: error }, "ledger record left open; retrying");
}

function untilAborted(signal: AbortSignal, clock: Clock): Promise<void> {
  return clock.sleep(Number.POSITIVE_INFINITY, signal);
}

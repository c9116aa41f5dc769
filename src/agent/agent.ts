import type { KubernetesObject, V1ConfigMap } from "@kubernetes/client-node";
import type { Clock } from "../core/clock.js";
import type { RecoverySummary } from "../core/ledger/recovery.js";
import type { EngineContext } from "../engine/context.js";
import { broadsideNamespace, ledgerCollection } from "../kube/ledger-store.js";
import { LeaderElector } from "../kube/leader/elector.js";
import { Informer } from "../kube/watch/informer.js";
import type { AgentConfig, AgentDeps, AgentLog } from "./agent-deps.js";
import type { ChaosObject } from "./chaos-object.js";
import { informersSynced } from "./http/readiness.js";
import { chaosKindsFor, type ChaosKind } from "./kinds.js";
import { ledgerKey, ledgerReconciler } from "./ledger-reconciler.js";
import { ownerOfRecordConfigMap } from "./object-fault-owner.js";
import { createWorkQueue } from "./reconcile/work-queue.js";
import { startWorkers } from "./reconcile/workers.js";
import { watchedCollections } from "./watch-scope.js";

export type { AgentConfig, AgentDeps, AgentLog } from "./agent-deps.js";

/**
 * `broadside agent`: the resident process (ADR 0007). Every replica watches the ledger and the chaos
 * resources and serves its health and metrics; the one that holds the Lease reconciles: the ledger
 * (reverts at each open record's deadline, whoever wrote it) and each kind of kinds.ts.
 */

type ChaosInformer = Informer<ChaosObject & KubernetesObject>;

interface AgentInformers {
  readonly ledgerRecords: Informer<V1ConfigMap>;
  /** One per entry of chaosKindsFor(config) (per watched namespace in namespaced mode), in its order. */
  readonly chaos: readonly { readonly kind: ChaosKind; readonly informer: ChaosInformer }[];
}

/** Runs until `stop` aborts: then stops leading (releasing the Lease), serving and watching. */
export async function runAgent(config: AgentConfig, deps: AgentDeps, stop: AbortSignal): Promise<void> {
  const { ctx, log } = deps;
  const informers = watchAll(ctx, chaosKindsFor(config));
  const all = [informers.ledgerRecords, ...informers.chaos.map(({ informer }) => informer)];
  const cached = deps.podCache?.informers ?? [];
  const server = await deps.observability.serve([informersSynced([...all, ...cached])]);
  log.info({ health: server.health, metrics: server.metrics, identity: config.identity }, "agent serving");
  try {
    await deps.board?.start();
  } catch (error: unknown) {
    await server.close();
    throw error;
  }
  // Synced or not, the process serves: /readyz says when the cache is ready.
  const watching = all.map((informer) => informer.start().catch(() => undefined));
  const caching = deps.podCache?.start().catch(() => undefined);
  try {
    await lead(config, deps, informers, stop);
  } finally {
    await Promise.all([...all.map((informer) => informer.stop()), deps.podCache?.stop()]);
    await Promise.all([...watching, caching]);
    await deps.board?.close();
    await server.close();
    log.info({}, "agent stopped");
  }
}

function watchAll(ctx: EngineContext, chaosKinds: readonly ChaosKind[]): AgentInformers {
  const ledgerRecords = new Informer<V1ConfigMap>({
    source: ctx.watches(ledgerCollection(broadsideNamespace)),
    description: "ledger records",
    clock: ctx.clock,
  });
  // Namespaced mode: one informer (and reconcile loop) per kind and namespace, within the agent's Roles.
  const chaos = chaosKinds.flatMap((kind) =>
    watchedCollections(kind.apiVersion, kind.plural, ctx.rails.watchedNamespaces).map((path) => ({
      kind,
      informer: new Informer<ChaosObject & KubernetesObject>({
        source: ctx.watches({ path }),
        description: kind.kind,
        clock: ctx.clock,
      }),
    })),
  );
  return { ledgerRecords, chaos };
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
        deps.board?.leaderIs(leader);
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
  const { ctx, log } = deps;
  const { metrics } = deps.observability;
  metrics.leadershipIs(true);
  log.info({ identity: config.identity }, "leading: reconciling");
  const loops = [
    startLedgerLoop(config, deps, informers.ledgerRecords),
    ...informers.chaos.map(({ kind, informer }) =>
      startKindLoop(config, deps, { kind, informer, leading: signal }, informers.ledgerRecords),
    ),
  ];
  // The board's games act only here, while leading; it stops taking shots and reverts as this ends.
  const boarding = deps.board?.lead(signal);
  await untilAborted(signal, ctx.clock);
  await Promise.all([...loops.map((stopLoop) => stopLoop()), boarding]);
  metrics.leadershipIs(false);
  log.info({ identity: config.identity }, "no longer leading");
}

/** The ledger is one key: any change to a record, or a record's deadline, looks at all open records. */
function startLedgerLoop(
  config: AgentConfig,
  deps: AgentDeps,
  informer: Informer<V1ConfigMap>,
): () => Promise<void> {
  const { ctx, log } = deps;
  const queue = createWorkQueue(ctx.clock);
  const reconcileLedger = ledgerReconciler({
    ledger: ctx.ledger,
    targets: ctx.targets,
    clock: ctx.clock,
    resyncMs: config.resyncMs,
    watchedNamespaces: ctx.rails.watchedNamespaces,
    onRecovered: (summary) => {
      logRecovery(log, summary);
      deps.notifications?.ledgerRecovered(summary);
    },
    onOpen: (open) => {
      deps.observability.metrics.activeFaultsAre(open);
    },
  });
  const unsubscribe = informer.subscribe(() => {
    queue.add(ledgerKey);
  });
  const workers = startWorkers(queue, () => reconcileLedger(), log, 1, "ledger");
  queue.add(ledgerKey);
  return async () => {
    unsubscribe();
    queue.shutDown();
    await workers.finished;
  };
}

/**
 * A chaos kind: every object the informer has, and every change to one, is a key to reconcile; so is the
 * owner of every ledger record that changes (an object fault learns that its revert is done).
 */
function startKindLoop(
  config: AgentConfig,
  deps: AgentDeps,
  { kind, informer, leading }: { kind: ChaosKind; informer: ChaosInformer; leading: AbortSignal },
  ledgerRecords: Informer<V1ConfigMap>,
): () => Promise<void> {
  const queue = createWorkQueue(deps.ctx.clock);
  const notifications = deps.notifications;
  const reconcileOne = kind.reconciler({
    resource: kind,
    config,
    // What a reconciler reports in its status is what the notifier tells (agent/notify/agent-notifications.ts).
    deps:
      notifications === undefined ? deps : { ...deps, status: notifications.statusWriter(deps.status, kind) },
    get: (namespace, name) => informer.get(namespace, name),
    leading,
  });
  const keyOf = (object: KubernetesObject) =>
    `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
  const unsubscribe = informer.subscribe((event) => {
    queue.add(keyOf(event.object));
  });
  const unsubscribeLedger = ledgerRecords.subscribe((event) => {
    const owner = ownerOfRecordConfigMap(event.object);
    if (owner?.kind === kind.kind && owner.apiVersion === kind.apiVersion)
      queue.add(`${owner.namespace}/${owner.name}`);
  });
  for (const object of informer.list()) queue.add(keyOf(object));
  const workers = startWorkers(
    queue,
    reconcileOne,
    deps.log,
    kind.workers,
    `${kind.apiVersion}/${kind.kind}`,
  );
  return async () => {
    unsubscribe();
    unsubscribeLedger();
    queue.shutDown();
    await workers.finished;
  };
}

function logRecovery(log: AgentLog, summary: RecoverySummary): void {
  const { error, ...fields } = summary;
  if (error === undefined) log.info(fields, "ledger record recovered");
  else log.warn({ ...fields, err: error }, "ledger record left open; retrying");
}

function untilAborted(signal: AbortSignal, clock: Clock): Promise<void> {
  return clock.sleep(Number.POSITIVE_INFINITY, signal);
}

import { faultDurationLimits } from "../core/input-limits.js";
import type { AgentConfig, AgentDeps } from "./agent-deps.js";
import { chaosMeshApiVersion } from "./chaos-mesh-api.js";
import type { ChaosObject } from "./chaos-object.js";
import { configDriftReconciler } from "./config-drift-reconciler.js";
import { experimentReconciler, type ExperimentReconcilerDeps } from "./experiment-reconciler.js";
import { networkChaosPlan, noNodeDaemons } from "./manifest-run.js";
import type { ObjectFaultPorts } from "./object-fault-reconciler.js";
import { podChaosReconciler } from "./pod-chaos-reconciler.js";
import { byAction, podFailureReconciler } from "./pod-failure-reconciler.js";
import { resourceSqueezeReconciler } from "./resource-squeeze-reconciler.js";
import { scaleReconciler } from "./scale-reconciler.js";
import type { ReconcileResult } from "./reconcile/workers.js";
import { scheduleReconciler } from "./schedule-reconciler.js";

/**
 * The chaos resources the agent reconciles, one entry per kind: the agent watches each kind's collection
 * from start-up (so a new leader's caches are warm) and, while it leads, runs the kind's reconciler over
 * a work queue of its own with `workers` side by side. Adding a kind is adding an entry here.
 */

/** What a kind's reconciler is given while its replica leads. */
export interface KindContext {
  /** The entry being reconciled: its apiVersion, kind and plural name the objects to write to. */
  readonly resource: ChaosKind;
  readonly config: AgentConfig;
  readonly deps: AgentDeps;
  /** The informer's cache of the kind's objects. */
  readonly get: (namespace: string, name: string) => ChaosObject | undefined;
  /** Aborted when this replica stops leading: a reconcile that takes long (an Experiment's run) stops. */
  readonly leading: AbortSignal;
}

export type Reconcile = (key: string) => Promise<ReconcileResult>;

export interface ChaosKind {
  readonly kind: string;
  readonly apiVersion: string;
  readonly plural: string;
  /** Objects of this kind reconciled side by side; one object is never reconciled twice at once. */
  readonly workers: number;
  readonly reconciler: (context: KindContext) => Reconcile;
  /**
   * Chaos Mesh has a kind of this name with the same spec: with --serve-chaos-mesh-api the agent also
   * reconciles chaos-mesh.org's, through the same reconciler (chaosKindsFor).
   */
  readonly chaosMeshTwin?: boolean;
}

/** While the kill switch is held, a chaos resource looks again this often (the agent honours a release in 10 s). */
export const haltedRetryMs = 10_000;

export const podChaosKind: ChaosKind = {
  kind: "PodChaos",
  apiVersion: "broadside.dev/v1alpha1",
  plural: "podchaos",
  chaosMeshTwin: true,
  // Each waits for its pods' recovery, so a few at once.
  workers: 4,
  // pod-failure holds and is put back, as the object faults are; pod-kill and container-kill are kill's.
  reconciler: (context) =>
    byAction(context.get, {
      failure: podFailureReconciler(objectFaultPorts(context)),
      kill: podKillReconciler(context),
    }),
};

function podKillReconciler({ resource, config, deps, get }: KindContext): Reconcile {
  return podChaosReconciler({
    resource,
    ctx: deps.ctx,
    get,
    status: deps.status,
    recoveryTimeout: config.recoveryTimeout,
    haltedRetryMs,
    events: deps.events,
    nodeDaemons: config.nodeDaemons === true,
    onResult: (result) => {
      const { metrics } = deps.observability;
      for (const shot of result.shots) metrics.shotFired("pod-kill", shot.outcome);
      if (result.recovery !== undefined) metrics.recoveryReported("pod-kill", result.recovery);
    },
  });
}

/** Schedule: a child PodChaos of the same group at each cron instant, which podChaosKind then runs. */
export const scheduleKind: ChaosKind = {
  kind: "Schedule",
  apiVersion: "broadside.dev/v1alpha1",
  plural: "schedules",
  // Its children take its own group: a chaos-mesh.org Schedule makes chaos-mesh.org PodChaos.
  chaosMeshTwin: true,
  // A reconcile is a few quick requests; the children's runs are podChaosKind's.
  workers: 2,
  reconciler: ({ resource, deps, get }) =>
    scheduleReconciler({
      resource,
      child: { apiVersion: resource.apiVersion, kind: "PodChaos", plural: "podchaos" },
      clock: deps.ctx.clock,
      halt: deps.ctx.halt,
      get,
      status: deps.status,
      children: deps.children,
      events: deps.events,
      haltedRetryMs,
    }),
};

/** While an object fault's revert is pending, how often its targets are looked at (gone, or healed). */
export const pendingCheckMs = 5_000;

/** The ports every object fault's reconciler takes, from the kind's context. */
function objectFaultPorts({ resource, deps, get }: KindContext): ObjectFaultPorts {
  return {
    resource,
    ctx: deps.ctx,
    get,
    status: deps.status,
    finalizers: deps.finalizers,
    events: deps.events,
    haltedRetryMs,
    pendingCheckMs,
    onClosed: (record) => {
      if (record.state === "closed") deps.observability.metrics.recordClosed(record);
    },
  };
}

// The object faults inject and return (the ledger reverts at the deadline): quick, so two at once each.
export const configDriftKind: ChaosKind = {
  kind: "ConfigDrift",
  apiVersion: "broadside.dev/v1alpha1",
  plural: "configdrifts",
  workers: 2,
  reconciler: (context) => configDriftReconciler(objectFaultPorts(context)),
};

export const resourceSqueezeKind: ChaosKind = {
  kind: "ResourceSqueeze",
  apiVersion: "broadside.dev/v1alpha1",
  plural: "resourcesqueezes",
  workers: 2,
  reconciler: (context) => resourceSqueezeReconciler(objectFaultPorts(context)),
};

export const scaleKind: ChaosKind = {
  kind: "Scale",
  apiVersion: "broadside.dev/v1alpha1",
  plural: "scales",
  workers: 2,
  reconciler: (context) => scaleReconciler(objectFaultPorts(context)),
};

/** While an Experiment runs, how often it looks at its object (deleted, paused, changed) in the cache. */
export const experimentWatchMs = 1_000;
/** While an Experiment runs, how often it reads the kill switch (honoured within 10 s). */
export const experimentHaltCheckMs = 5_000;

/** Experiment: each generation runs once, as `broadside run FILE` runs it, from the agent (ADR 0017). */
export const experimentKind: ChaosKind = {
  kind: "Experiment",
  apiVersion: "broadside.dev/v1alpha1",
  plural: "experiments",
  // A run holds its worker for its whole length (probes, method, rollbacks): a few side by side.
  workers: 4,
  reconciler: (context) => runOnceReconciler(context, {}),
};

/** A reconciler that runs each generation once, as `broadside run` runs a file (the Experiment's). */
function runOnceReconciler(
  { resource, config, deps, get, leading }: KindContext,
  kind: Pick<ExperimentReconcilerDeps, "readPlan" | "refuse">,
): Reconcile {
  return experimentReconciler({
    ...kind,
    resource,
    ctx: deps.ctx,
    get,
    status: deps.status,
    events: deps.events,
    // Without settings, the strictest: probes reach loopback only, faults last at most the default cap.
    settings: config.experiments ?? {
      loopbackOnly: true,
      maxFaultDuration: faultDurationLimits.defaultMax,
    },
    leading,
    haltedRetryMs,
    watchEveryMs: experimentWatchMs,
    haltEveryMs: experimentHaltCheckMs,
  });
}

/**
 * NetworkChaos: each generation runs once, as `broadside run` runs the manifest, through the node daemons
 * (ADR 0042); an agent started without --node-daemons refuses it at once, nothing written.
 */
export const networkChaosKind: ChaosKind = {
  ...experimentKind,
  kind: "NetworkChaos",
  plural: "networkchaos",
  chaosMeshTwin: true,
  reconciler: (context) =>
    runOnceReconciler(context, {
      readPlan: networkChaosPlan,
      refuse: () => (context.config.nodeDaemons === true ? undefined : noNodeDaemons("NetworkChaos")),
    }),
};

export const chaosKinds: readonly ChaosKind[] = [
  podChaosKind,
  scheduleKind,
  configDriftKind,
  resourceSqueezeKind,
  scaleKind,
  experimentKind,
  networkChaosKind,
];
/**
 * The kinds this agent reconciles: chaosKinds, and with --serve-chaos-mesh-api a chaos-mesh.org entry for
 * each kind marked chaosMeshTwin (same kind and plural, Chaos Mesh's group), whose status and Events go to
 * the chaos-mesh.org object.
 */
export function chaosKindsFor(
  config: Pick<AgentConfig, "serveChaosMeshApi">,
  kinds: readonly ChaosKind[] = chaosKinds,
): readonly ChaosKind[] {
  if (config.serveChaosMeshApi !== true) return kinds;
  const twins = kinds
    .filter((kind) => kind.chaosMeshTwin === true)
    .map((kind): ChaosKind => ({ ...kind, apiVersion: chaosMeshApiVersion, chaosMeshTwin: false }));
  return [...kinds, ...twins];
}

import type { Duration } from "../core/duration.js";
import type { EngineContext } from "../engine/context.js";
import type { ChildObjects } from "../kube/chaos-children.js";
import type { EventRecorder } from "../kube/events.js";
import type { FinalizerWriter } from "../kube/finalizers.js";
import type { LeaderLog } from "../kube/leader/elector.js";
import type { LeaseStore } from "../kube/leader/lease-store.js";
import type { LeaderTimings } from "../kube/leader/timings.js";
import type { StatusWriter } from "../kube/resource-status.js";
import type { ExperimentSettings } from "./experiment-reconciler.js";
import type { Observability } from "./http/observability.js";
import type { AgentNotifications } from "./notify/agent-notifications.js";

/** What `broadside agent` was told (its flags, parsed once in cli/agent-command.ts). */
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
  /**
   * --node-daemons: node daemons run on the targets' nodes, so a PodChaos container-kill is handed to them
   * (ADR 0029); without it such a PodChaos is refused at once with Failed reason NoNodeDaemons.
   */
  readonly nodeDaemons?: boolean;
  /** --serve-chaos-mesh-api: also reconcile chaos-mesh.org's twins of the kinds (kinds.ts chaosKindsFor). */
  readonly serveChaosMeshApi?: boolean;
  /**
   * What an Experiment's run takes from the configuration, as `broadside run` does: the loopback rail of
   * its probes, the longest fault, Prometheus. Absent: probes reach loopback only, faults last at most
   * the default BROADSIDE_MAX_FAULT_DURATION.
   */
  readonly experiments?: ExperimentSettings;
}

export type AgentLog = LeaderLog;

/** The agent's ports to the cluster and the world. */
export interface AgentDeps {
  readonly ctx: EngineContext;
  readonly leases: LeaseStore;
  /** Writes the status of Broadside's resources. */
  readonly status: StatusWriter;
  /** Adds and removes `broadside.dev/revert` on the object faults' resources. */
  readonly finalizers: FinalizerWriter;
  /** Events on Broadside's resources. */
  readonly events: EventRecorder;
  /** Creates and deletes the PodChaos a Schedule runs. */
  readonly children: ChildObjects;
  readonly observability: Observability;
  readonly log: AgentLog;
  /** Tells people what the agent did (--notifications); absent when no notifications are configured. */
  readonly notifications?: AgentNotifications;
  /**
   * The cache ctx.podFacts answers from (kube/pod-cache.ts), when there is one: the agent starts and
   * stops it with its own informers, and is not ready before it has synced.
   */
  readonly podCache?: AgentCache;
  /**
   * The GameDay board (`--board-listen`, board/leader-board.ts): every replica holds its port, only the
   * leader serves games that act. Absent when the agent serves no board.
   */
  readonly board?: LeaderOnlyService;
}

/** A service every replica starts, that acts only while its replica leads. */
export interface LeaderOnlyService {
  /** Before the election: listens as a standby. */
  start(): Promise<void>;
  /** The Lease's holder, whenever a new one is observed. */
  leaderIs(identity: string): void;
  /** Serves while `leading` holds; resolves (never rejects) once it has stopped and reverted what it kept. */
  lead(leading: AbortSignal): Promise<void>;
  /** Stops listening: the agent is stopping. */
  close(): Promise<void>;
}

/** A set of informers the agent runs for a port of its EngineContext. */
export interface AgentCache {
  readonly informers: readonly { readonly stats: { readonly synced: boolean } }[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

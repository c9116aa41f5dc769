import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ClosedRecord } from "../../core/ledger/record.js";
import type { ShotOutcome } from "../../core/shot.js";
import type { FaultKind, ObjectFaultKind, PodFaultKind } from "../../faults/types.js";
import { objectFaultKinds, podFaultKinds } from "../../faults/types.js";
import type { ApiRequestObservation, ApiRequestObserver } from "../../kube/api-request-observer.js";
import type { RecoveryReport, VictimTimeline } from "../../kube/recovery/types.js";
import { catalogue, type MetricDefinition } from "./catalogue.js";
import {
  driftEnds,
  faultKinds,
  faultLabel,
  FieldManagerLabels,
  notificationChannels,
  notificationResults,
  objectFaultKind,
  otherValue,
  shotResult,
  shotResults,
  statusCodeLabel,
  type DriftEnd,
  type NotificationChannel,
  type NotificationResult,
  type RecoveryMilestone,
} from "./labels.js";

/** How the agent's metrics are made; the entry point fills it from its flags and passes it down. */
export interface MetricsConfig {
  /** Broadside's version, for broadside_build_info. */
  readonly version: string;
  /** Also expose prom-client's process_* and nodejs_* metrics (CPU, memory, event loop lag, GC). */
  readonly processMetrics: boolean;
  /** Distinct field managers with a heal label of their own; later ones count as "other". */
  readonly maxFieldManagers: number;
}

export const defaultMaxFieldManagers = 20;

/** What /metrics serves: the text exposition and its content type. */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

/**
 * The agent's metrics in a registry of their own (never prom-client's global one), with one small typed
 * function per thing worth counting: the engine and the reconcilers call these and never see prom-client.
 * It is also the ApiRequestObserver handed to kube/client.ts `connect`.
 */
export class AgentMetrics implements MetricsSource, ApiRequestObserver {
  private readonly registry = new Registry();
  private readonly fieldManagers: FieldManagerLabels;
  private readonly shots = counter(catalogue.shots, this.registry);
  private readonly milestones = histogram(catalogue.recoveryMilestones, this.registry);
  private readonly active = gauge(catalogue.activeFaults, this.registry);
  private readonly drifts = histogram(catalogue.driftDuration, this.registry);
  private readonly heals = counter(catalogue.heals, this.registry);
  private readonly apiRequests = histogram(catalogue.apiRequests, this.registry);
  private readonly restarts = counter(catalogue.targetRestarts, this.registry);
  private readonly notifications = counter(catalogue.notifications, this.registry);
  private readonly leader = gauge(catalogue.leader, this.registry);

  constructor(config: MetricsConfig) {
    this.fieldManagers = new FieldManagerLabels(config.maxFieldManagers);
    gauge(catalogue.buildInfo, this.registry).set({ version: config.version }, 1);
    if (config.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.startAtZero();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** A pod fault fired one shot, and the API server answered. */
  shotFired(fault: PodFaultKind, outcome: ShotOutcome): void {
    this.shots.inc({ fault, outcome: shotResult(outcome) });
  }

  /** One recovery milestone of a shot, `ms` after the shot was sent. */
  milestoneReached(fault: PodFaultKind, milestone: RecoveryMilestone, ms: number): void {
    this.milestones.observe({ fault, milestone }, Math.max(0, ms) / 1000);
  }

  /** Every milestone a recovery session saw: its victims' and the workloads' return to desired availability. */
  recoveryReported(fault: PodFaultKind, report: RecoveryReport): void {
    for (const victim of report.victims) this.victimMilestones(fault, victim);
    for (const workload of report.workloads) this.reached(fault, "workload_restored", workload.restoredMs);
  }

  /**
   * The ledger's open records, counted by fault kind: set whole from the ledger (level-based), so a
   * restart or a leader change never leaves the gauge off by the faults it missed. Kinds this version
   * does not know count as "other".
   */
  activeFaultsAre(openRecords: readonly { readonly faultKind: string }[]): void {
    const counts = new Map<string, number>([...faultKinds, otherValue].map((kind) => [kind, 0]));
    for (const record of openRecords) {
      const fault = faultLabel(record.faultKind);
      counts.set(fault, (counts.get(fault) ?? 0) + 1);
    }
    for (const [fault, count] of counts) this.active.set({ fault }, count);
  }

  /** An object fault's change left the cluster `seconds` after its record was written. */
  driftEnded(fault: ObjectFaultKind, endedBy: DriftEnd, seconds: number): void {
    this.drifts.observe({ fault, ended_by: endedBy }, Math.max(0, seconds));
  }

  /** Someone else undid a change of Broadside's; `fieldManager` wrote the heal, when the ledger knows. */
  externalHeal(fieldManager: string | undefined): void {
    this.heals.inc({ field_manager: this.fieldManagers.label(fieldManager) });
  }

  /** A ledger record was closed: an external heal is counted, an object fault's change timed. */
  recordClosed(record: ClosedRecord): void {
    const { outcome } = record;
    if (outcome.kind === "healed-externally") this.externalHeal(outcome.by);
    const fault = objectFaultKind(record.faultKind);
    if (fault === undefined || outcome.kind === "never-applied") return;
    this.driftEnded(fault, outcome.kind, (outcome.at - record.createdAt) / 1000);
  }

  /** ApiRequestObserver: one exchange with the API server (kube/throttled-http.ts). */
  requestEnded(observation: ApiRequestObservation): void {
    const labels = { verb: observation.verb, code: statusCodeLabel(observation.code) };
    this.apiRequests.observe(labels, observation.seconds);
  }

  /** Containers of a fault's target restarted `restarts` times more while the fault was active. */
  targetRestarted(fault: FaultKind, restarts: number): void {
    if (Number.isInteger(restarts) && restarts > 0) this.restarts.inc({ fault }, restarts);
  }

  notified(channel: NotificationChannel, result: NotificationResult): void {
    this.notifications.inc({ channel, result });
  }

  leadershipIs(leading: boolean): void {
    this.leader.set(leading ? 1 : 0);
  }

  private victimMilestones(fault: PodFaultKind, victim: VictimTimeline): void {
    this.reached(fault, "accepted", victim.acceptedMs);
    this.reached(fault, "victim_gone", victim.goneMs);
    const replacement = victim.replacement;
    if (!replacement.expected) return;
    this.reached(fault, "replacement_created", replacement.createdMs);
    this.reached(fault, "replacement_scheduled", replacement.scheduledMs);
    this.reached(fault, "replacement_ready", replacement.readyMs);
  }

  private reached(fault: PodFaultKind, milestone: RecoveryMilestone, ms: number | undefined): void {
    if (ms !== undefined) this.milestoneReached(fault, milestone, ms);
  }

  /** Series of closed label sets exist from the first scrape, so rate() sees their first increase. */
  private startAtZero(): void {
    for (const fault of podFaultKinds) {
      for (const outcome of shotResults) this.shots.inc({ fault, outcome }, 0);
    }
    for (const fault of faultKinds) this.restarts.inc({ fault }, 0);
    // A histogram's series too: one born at its first drift would show rate() no increase for it.
    for (const fault of objectFaultKinds) {
      for (const endedBy of driftEnds) this.drifts.zero({ fault, ended_by: endedBy });
    }
    for (const channel of notificationChannels) {
      for (const result of notificationResults) this.notifications.inc({ channel, result }, 0);
    }
    this.activeFaultsAre([]);
    this.leadershipIs(false);
  }
}

type LabelOf<D extends MetricDefinition> = D["labelNames"][number];

function counter<D extends MetricDefinition>(definition: D, registry: Registry): Counter<LabelOf<D>> {
  const { name, help, labelNames } = definition;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function gauge<D extends MetricDefinition>(definition: D, registry: Registry): Gauge<LabelOf<D>> {
  const { name, help, labelNames } = definition;
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

function histogram<D extends MetricDefinition>(definition: D, registry: Registry): Histogram<LabelOf<D>> {
  const { name, help, labelNames, buckets = [] } = definition;
  return new Histogram({ name, help, labelNames, buckets: [...buckets], registers: [registry] });
}

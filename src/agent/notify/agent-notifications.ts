import type { Clock } from "../../core/clock.js";
import type { RecoverySummary } from "../../core/ledger/recovery.js";
import type {
  Milestones,
  NotificationEvent,
  NotificationEventType,
  NotificationSource,
} from "../../core/notify/event.js";
import { isRecord, optional } from "../../core/objects.js";
import type { ResourceRef, StatusWriter } from "../../kube/resource-status.js";
import type { ResourceStatus } from "../crds/status.js";
import type { Notifier } from "./notifier.js";

/**
 * Where the agent's reconcilers meet the notifier, without any reconciler calling it. Every reconciler
 * already writes what it did into its resource's status, one `targets` record per object hit (kind,
 * name, uid, outcome, milestones; agent/crds/status.ts): a decorator around the StatusWriter turns each
 * new outcome into notifications. Events (kube/events.ts) were the other candidate, but they name the
 * chaos resource only, without the pod hit or its milestones. Reverts at a deadline come from the ledger
 * reconciler (ledgerRecovered). Nothing here awaits delivery or throws into a reconcile.
 */

type StatusTarget = NonNullable<ResourceStatus["targets"]>[number];

/** The chaos kind whose status is written, as a notification's `source` names it. */
export interface SourceKind {
  readonly apiVersion: string;
  readonly kind: string;
}

/** Remembered notifications, so a status written again (a retry, a later report) does not notify again. */
const rememberedLimit = 10_000;

/**
 * Which notifications a target's outcome stands for, in the order they happened: a target reported
 * recovered was injected first, and one reported reverted too.
 */
const eventsOfOutcome: Readonly<Record<StatusTarget["outcome"], readonly NotificationEventType[]>> = {
  pending: [],
  injected: ["injected"],
  gone: ["injected"],
  recovered: ["injected", "recovered"],
  healed: ["injected", "recovered"],
  reverted: ["injected", "reverted"],
  refused: ["refused"],
};

/**
 * The fault kind behind each chaos kind: PodChaos runs pod-kill, and so does a Schedule (it runs a
 * PodChaos); the object kinds are named as their faults.
 */
export function faultKindOf(kind: string): string {
  if (kind === "PodChaos" || kind === "Schedule") return "pod-kill";
  return kind.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

export class AgentNotifications {
  private readonly sent = new Set<string>();

  constructor(
    private readonly notifier: Pick<Notifier, "notify">,
    private readonly clock: Pick<Clock, "now">,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** `inner`, telling the notifier of every target outcome reported for resources of `source`. */
  statusWriter(inner: StatusWriter, source: SourceKind): StatusWriter {
    return {
      read: (ref) => inner.read(ref),
      claim: (ref, resourceVersion, status) => inner.claim(ref, resourceVersion, status),
      report: (ref, status) => {
        // Before the write: what happened in the cluster happened, whether or not the status is written.
        this.guarded(() => {
          this.reported(source, ref, status);
        });
        return inner.report(ref, status);
      },
    };
  }

  /** A ledger record the agent closed at its deadline: reverted (object faults) is told. */
  ledgerRecovered(summary: RecoverySummary): void {
    this.guarded(() => {
      if (summary.result !== "reverted") return;
      const revertedMs = summary.createdAt === undefined ? undefined : summary.at - summary.createdAt;
      this.once(`reverted/${summary.id}`, {
        type: "reverted",
        faultKind: summary.faultKind,
        target: summary.target,
        milestones: {
          ...optional("revertedMs", revertedMs === undefined ? undefined : Math.max(0, revertedMs)),
        },
        at: summary.at,
      });
    });
  }

  private reported(source: SourceKind, ref: ResourceRef, status: object): void {
    const targets =
      isRecord(status) && Array.isArray(status.targets) ? (status.targets as StatusTarget[]) : [];
    const from: NotificationSource = { ...source, namespace: ref.namespace, name: ref.name };
    for (const target of targets) {
      for (const type of eventsOfOutcome[target.outcome]) {
        const event = eventOf(type, target, from, this.clock.now());
        // A revert is one ledger record's, whichever reconciler reports it first.
        const key =
          type === "reverted" && target.ledgerRecord !== undefined
            ? `reverted/${target.ledgerRecord}`
            : // A volley's pods share one ledger record: the pod's uid tells them apart.
              `${from.apiVersion}/${from.kind}/${from.namespace}/${from.name}/${target.ledgerRecord ?? ""}/${target.uid ?? target.name}/${type}`;
        this.once(key, event);
      }
    }
  }

  private once(key: string, event: NotificationEvent): void {
    if (this.sent.has(key)) return;
    if (this.sent.size >= rememberedLimit) {
      const oldest = this.sent.values().next();
      if (oldest.done !== true) this.sent.delete(oldest.value);
    }
    this.sent.add(key);
    this.notifier.notify(event);
  }

  private guarded(work: () => void): void {
    try {
      work();
    } catch (error: unknown) {
      this.onError(error);
    }
  }
}

function timeOf(text: string | undefined, fallback: number): number {
  const parsed = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(parsed) ? fallback : parsed;
}

function eventOf(
  type: NotificationEventType,
  target: StatusTarget,
  source: NotificationSource,
  now: number,
): NotificationEvent {
  const injectedAt = timeOf(target.injectedAt, now);
  const at = type === "injected" || type === "refused" ? injectedAt : timeOf(target.recoveredAt, now);
  return {
    type,
    // A PodChaos target that names a container is a container-kill's (container-kill-status.ts).
    faultKind: target.container === undefined ? faultKindOf(source.kind) : "container-kill",
    target: { kind: target.kind, namespace: target.namespace, name: target.name, uid: target.uid ?? "" },
    source,
    milestones: milestonesOf(type, target, at - injectedAt),
    ...optional("reason", type === "refused" || target.outcome === "healed" ? target.message : undefined),
    at,
  };
}

/** The status's milestone names are the CRD's; a notification's are the report's (core/notify/event.ts). */
function milestonesOf(type: NotificationEventType, target: StatusTarget, sinceShotMs: number): Milestones {
  const seen = target.milestones ?? {};
  if (type === "injected" || type === "refused") return { ...optional("acceptedMs", seen.acceptedMs) };
  if (type === "reverted") return { revertedMs: Math.max(0, sinceShotMs) };
  return {
    ...optional("acceptedMs", seen.acceptedMs),
    ...optional("goneMs", seen.goneMs),
    ...optional("createdMs", seen.replacementCreatedMs),
    ...optional("scheduledMs", seen.scheduledMs),
    ...optional("readyMs", seen.readyMs),
    ...optional("restoredMs", seen.workloadRestoredMs),
  };
}

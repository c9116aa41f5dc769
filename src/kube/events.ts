import type { CoreV1Event } from "@kubernetes/client-node";
import type { Clock } from "../core/clock.js";
import type { KubeClients } from "./client.js";

/**
 * Kubernetes Events on Broadside's resources, so `kubectl describe podchaos NAME` tells what happened to
 * it as it does for a Deployment. An event is a report, never a step of the work: recording one never
 * waits and never fails the reconcile that made it.
 */

export interface EventSubject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface EventRecorder {
  record(subject: EventSubject, type: "Normal" | "Warning", reason: string, message: string): void;
}

/** The Event API's limit on a message. */
const maxMessageLength = 1024;

export class ClusterEventRecorder implements EventRecorder {
  constructor(
    private readonly kube: Pick<KubeClients, "core">,
    private readonly clock: Clock,
    private readonly instance: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  record(subject: EventSubject, type: "Normal" | "Warning", reason: string, message: string): void {
    const now = new Date(this.clock.now());
    const body: CoreV1Event = {
      metadata: { generateName: `${subject.name}.`, namespace: subject.namespace },
      involvedObject: {
        apiVersion: subject.apiVersion,
        kind: subject.kind,
        namespace: subject.namespace,
        name: subject.name,
        ...(subject.uid === undefined ? {} : { uid: subject.uid }),
      },
      type,
      reason,
      message: message.slice(0, maxMessageLength),
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: "broadside-agent" },
      reportingComponent: "broadside.dev/agent",
      reportingInstance: this.instance,
    };
    this.kube.core.createNamespacedEvent({ namespace: subject.namespace, body }).catch(this.onError);
  }
}

/** Every event recorded, for unit tests. */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: { subject: EventSubject; type: string; reason: string; message: string }[] = [];

  record(subject: EventSubject, type: "Normal" | "Warning", reason: string, message: string): void {
    this.events.push({ subject, type, reason, message });
  }
}

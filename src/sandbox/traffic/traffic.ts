import type { Clock } from "../../core/clock.js";
import type { KubeClients } from "../../kube/client.js";
import type { BroadsideError } from "../../core/errors.js";
import { clientNodeSources } from "./collections.js";
import type { SourceFactory } from "./collections.js";
import { FrontDoors } from "./front-doors.js";
import type { DoorEvent, DoorsReport, Outage } from "./front-doors.js";
import { PodBodies } from "../bodies/pod-bodies.js";
import type { BodyEvent, BodyInfo, PodBodiesOptions } from "../bodies/pod-bodies.js";
import { PodListeners } from "./pod-listeners.js";
import type { PodListenerInfo } from "./pod-listeners.js";

export interface TrafficOptions {
  /** The clock of the front doors' outages and the listeners' bookkeeping (core's systemClock in main). */
  readonly clock: Clock;
  /**
   * Namespaces whose opted-in pods and Services get real HTTP, one informer per resource and namespace.
   * Absent: every namespace, one informer per resource across the cluster (what the sandbox's traffic
   * process does).
   */
  readonly namespaces?: readonly string[];
  /** Draws endpoints and injected errors; Math.random by default. */
  readonly random?: () => number;
  /** Bad annotations, watch failures, ports that could not be bound; traffic carries on. */
  readonly onError?: (error: BroadsideError) => void;
  /** Each front door that opens or closes. */
  readonly onDoor?: (event: DoorEvent) => void;
  /** How soon a front door whose fixed port was in use tries again. Default 2 s. */
  readonly retryMs?: number;
  /** Names the process holding a front door's port; from /proc by default. For tests. */
  readonly describeHolder?: (port: number) => Promise<string>;
  /** Where the informers get their objects; the cluster of `kube` by default. For tests. */
  readonly sources?: SourceFactory;
  /**
   * Pods answer from real bodies (their own network namespace and cgroup, src/sandbox/bodies/) instead
   * of loopback listeners: what they need beyond the watch scope. Absent: loopback listeners.
   */
  readonly bodies?: Omit<PodBodiesOptions, "namespaces" | "sources" | "onError" | "clock" | "onEvent">;
  /** Each pod body made, restarted or removed. */
  readonly onBody?: (event: BodyEvent) => void;
  /** Aborting it while the traffic starts (say, the cluster never answers) stops it: startTraffic rejects. */
  readonly signal?: AbortSignal;
}

export interface Traffic {
  /** The 127.0.0.1 port of a Service's front door, once it listens (kept through an outage). */
  frontDoorPort(namespace: string, service: string): number | undefined;
  /** The pod uids the Service's front door currently routes to (ready endpoints of its slices). */
  readyEndpoints(namespace: string, service: string): string[];
  /** A pod's loopback listener, while it has one (loopback mode). */
  podListener(uid: string): PodListenerInfo | undefined;
  /** Every pod body (bodies mode); undefined in loopback mode. */
  bodies(): BodyInfo[] | undefined;
  /** Every front door that listens, and every one that could not open with the reason. */
  doors(): DoorsReport;
  /**
   * An outage of exactly `durationMs` on one Service's front door, for fidelity tests: its listening
   * socket closes (new connections are refused: ECONNREFUSED) and reopens on the same port after
   * `durationMs`. Resolves once it listens again, with the epoch ms it actually closed and reopened.
   * Rejects (BRD_USAGE) when the Service has no open front door or one is already refusing.
   */
  refuse(namespace: string, service: string, durationMs: number): Promise<Outage>;
  /** Stops every watch and closes every front door and listener. */
  stop(): Promise<void>;
}

/**
 * Real HTTP for the sandbox's workloads, all on 127.0.0.1: a listener per Ready opted-in pod and a front
 * door per opted-in Service routing through its EndpointSlices. Resolves once both are in step with the
 * cluster (first lists applied, front doors listening or failed).
 */
export async function startTraffic(
  kube: Pick<KubeClients, "config">,
  options: TrafficOptions,
): Promise<Traffic> {
  const { onDoor, retryMs, random, onError, describeHolder } = options;
  const scope = {
    clock: options.clock,
    namespaces: options.namespaces,
    sources: options.sources ?? clientNodeSources(kube.config),
    ...defined({ random, onError }),
  };
  const onEvent = options.onBody;
  const bodies =
    options.bodies === undefined
      ? undefined
      : new PodBodies({ ...scope, ...options.bodies, ...defined({ onEvent }) });
  const pods = bodies ?? new PodListeners(scope);
  const listeners = pods instanceof PodListeners ? pods : undefined;
  const doors = new FrontDoors({
    ...scope,
    dial: (uid) => pods.dial(uid),
    ...(bodies === undefined ? {} : { canDial: (host: string) => bodies.canDial(host) }),
    ...defined({ onDoor, retryMs, describeHolder }),
  });
  const stop = async (): Promise<void> => {
    await doors.stop();
    await pods.stop();
  };
  const onAbort = (): void => {
    void stop();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    options.signal?.throwIfAborted();
    // Listeners first, so the first requests through a front door find the pods' listeners up.
    await pods.start();
    await doors.start();
  } catch (error: unknown) {
    await stop();
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  return {
    frontDoorPort: (namespace, name) => doors.portOf({ namespace, name }),
    readyEndpoints: (namespace, name) => doors.readyEndpoints({ namespace, name }),
    podListener: (uid) => listeners?.info(uid),
    bodies: () => bodies?.list(),
    doors: () => doors.report(),
    refuse: (namespace, name, durationMs) => doors.refuse({ namespace, name }, durationMs),
    stop,
  };
}

/** The entries whose value is not undefined, for options under exactOptionalPropertyTypes. */
function defined<T extends object>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

import type { KubeClients } from "../../kube/client.js";
import type { BroadsideError } from "../../core/errors.js";
import { FrontDoors } from "./front-door.js";
import type { ServiceName } from "./front-door.js";
import { PodListeners } from "./pod-listeners.js";
import type { PodListenerInfo } from "./pod-listeners.js";

export interface TrafficOptions {
  /** Namespaces whose opted-in pods and Services get real HTTP. */
  readonly namespaces: readonly string[];
  /** The port of a Service's front door; 0 or no function: an ephemeral port. */
  readonly portFor?: (service: ServiceName) => number;
  /** Draws endpoints and injected errors; Math.random by default. */
  readonly random?: () => number;
  /** Bad annotations, watch failures, ports that could not be bound; traffic carries on. */
  readonly onError?: (error: BroadsideError) => void;
}

export interface Traffic {
  /** The 127.0.0.1 port of a Service's front door, once it listens. */
  frontDoorPort(namespace: string, service: string): number | undefined;
  /** The pod uids the Service's front door currently routes to (ready endpoints of its slices). */
  readyEndpoints(namespace: string, service: string): string[];
  /** A pod's loopback listener, while it has one. */
  podListener(uid: string): PodListenerInfo | undefined;
  /** Stops every watch and closes every front door and listener. */
  stop(): Promise<void>;
}

/**
 * Real HTTP for the sandbox's demo workloads, all on 127.0.0.1: a listener per Ready opted-in pod and a
 * front door per opted-in Service routing through its EndpointSlices. Resolves once both are in step
 * with the cluster (first lists applied, front doors listening).
 */
export async function startTraffic(
  kube: Pick<KubeClients, "config">,
  options: TrafficOptions,
): Promise<Traffic> {
  const optional = {
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  };
  const listeners = new PodListeners({ config: kube.config, namespaces: options.namespaces, ...optional });
  const doors = new FrontDoors({
    config: kube.config,
    namespaces: options.namespaces,
    dialPort: (uid) => listeners.dialPort(uid),
    ...(options.portFor === undefined ? {} : { portFor: options.portFor }),
    ...optional,
  });
  const stop = async (): Promise<void> => {
    await doors.stop();
    await listeners.stop();
  };
  try {
    // Listeners first, so the first requests through a front door find the pods' listeners up.
    await listeners.start();
    await doors.start();
  } catch (error: unknown) {
    await stop();
    throw error;
  }
  return {
    frontDoorPort: (namespace, name) => doors.portOf({ namespace, name }),
    readyEndpoints: (namespace, name) => doors.readyEndpoints({ namespace, name }),
    podListener: (uid) => listeners.info(uid),
    stop,
  };
}

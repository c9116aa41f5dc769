import type { V1Pod } from "@kubernetes/client-node";
import type { Clock } from "../../core/clock.js";
import { Arrivals } from "./arrivals.js";
import { BroadsideError, describeError } from "../../core/errors.js";
import type { ErrorCode } from "../../core/errors.js";
import type { Informer, InformerEvent } from "../../kube/watch/informer.js";
import { parseBehaviour, podServes, serveSelector } from "./behaviour.js";
import type { Behaviour } from "./behaviour.js";
import { informersOf } from "./collections.js";
import type { WatchScope } from "./collections.js";
import type { Upstream } from "./front-door.js";
import { loopbackHost } from "./loopback.js";
import { PodServer } from "./pod-server.js";

export interface PodListenersOptions extends WatchScope {
  /** Stamps when a pod's listener ended, to forget ended pods after a minute. */
  readonly clock: Clock;
  /** Draws the injected errors; Math.random by default. */
  readonly random?: () => number;
  /**
   * How long dialPort waits for the listener of a pod it has not seen Ready yet. Default 1 s. See
   * dialPort.
   */
  readonly catchUpMs?: number;
  /** Bad annotations, watch failures and listeners that could not start; the others carry on. */
  readonly onError?: (error: BroadsideError) => void;
}

/** What is known of one pod's listener. */
export interface PodListenerInfo {
  readonly pod: string;
  readonly namespace: string;
  readonly port: number | undefined;
  readonly behaviour: Behaviour;
}

/**
 * One real loopback HTTP listener per opted-in pod (label broadside.dev/serve=http) that is Running and
 * Ready, kept in step with the pods by one informer per namespace (or one across all namespaces). A pod
 * being deleted keeps its listener until it is gone or stops being Ready: a graceful drain. The map from
 * pod uid to 127.0.0.1:port is what the front doors route through: kwok's pod IPs are never used.
 */
export class PodListeners {
  private readonly servers = new Map<string, PodServer>();
  private readonly closing = new Set<Promise<void>>();
  /** Callers of dialPort waiting for a pod's listener to appear; pods whose listener closed or that are gone. */
  private readonly arrivals: Arrivals<PodServer>;
  private readonly informers: Informer<V1Pod>[];
  private stopped = false;

  constructor(private readonly options: PodListenersOptions) {
    this.arrivals = new Arrivals(options.clock, (uid) => this.servers.get(uid), options.catchUpMs);
    this.informers = informersOf<V1Pod>(options, {
      apiVersion: "v1",
      plural: "pods",
      labelSelector: serveSelector,
    });
    for (const informer of this.informers) {
      informer.subscribe((event) => {
        this.onPodEvent(event);
      });
    }
  }

  /** Resolves once the pods have been listed and the serving pods' listeners are starting. */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((informer) => informer.start()));
  }

  /** The port of a pod's listener while it listens. */
  portOf(uid: string): number | undefined {
    return this.servers.get(uid)?.port;
  }

  /**
   * The port to dial for a pod, waiting for a listener that is still starting (a few milliseconds), so
   * a pod that has just turned Ready is not failed for a start-up race no real container would have.
   * For the same reason it waits (up to catchUpMs) for a pod not seen Ready yet: the EndpointSlice watch
   * can show a new pod's endpoint ready a few milliseconds before the pod watch shows the pod Ready, and
   * on a real cluster an endpoint is only ready once its container listens. Undefined, at once, when the
   * pod's listener has closed (no longer Ready, or gone): that failure is real.
   */
  async dialPort(uid: string): Promise<number | undefined> {
    const server = this.servers.get(uid) ?? (await this.arrivals.wait(uid, this.stopped));
    if (server === undefined) return undefined;
    try {
      await server.listening;
    } catch {
      return undefined;
    }
    return server.port;
  }

  /** dialPort as an upstream of the front doors: 127.0.0.1 and the listener's port. */
  async dial(uid: string): Promise<Upstream | undefined> {
    const port = await this.dialPort(uid);
    return port === undefined ? undefined : { host: loopbackHost, port };
  }

  info(uid: string): PodListenerInfo | undefined {
    const server = this.servers.get(uid);
    if (server === undefined) return undefined;
    const { pod, namespace } = server.identity;
    return { pod, namespace, port: server.port, behaviour: server.behaviour };
  }

  /** Stops watching and closes every listener. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.informers.map((informer) => informer.stop()));
    for (const uid of [...this.servers.keys()]) this.close(uid);
    this.arrivals.wakeAll();
    await Promise.all([...this.closing]);
  }

  private onPodEvent(event: InformerEvent<V1Pod>): void {
    const pod = event.object;
    const uid = pod.metadata?.uid;
    if (uid === undefined || this.stopped) return;
    if (event.type === "DELETED") this.arrivals.markEnded(uid);
    if (event.type === "DELETED" || !podServes(pod)) this.close(uid);
    else this.serve(uid, pod);
  }

  private serve(uid: string, pod: V1Pod): void {
    const { behaviour, problems } = parseBehaviour(pod.metadata?.annotations);
    const name = pod.metadata?.name ?? uid;
    const namespace = pod.metadata?.namespace ?? "";
    for (const problem of problems) {
      this.report("BRD_USAGE", `pod ${namespace}/${name}: ${problem}; using the default`);
    }
    const existing = this.servers.get(uid);
    if (existing !== undefined) {
      existing.behaviour = behaviour;
      return;
    }
    const server = new PodServer({ pod: name, namespace, uid }, behaviour, this.options.random);
    this.servers.set(uid, server);
    this.arrivals.arrived(uid);
    server.listening.catch((error: unknown) => {
      this.report(
        "BRD_INTERNAL",
        `the listener of pod ${namespace}/${name} did not start: ${describeError(error)}`,
      );
      if (this.servers.get(uid) === server) this.servers.delete(uid);
    });
  }

  private close(uid: string): void {
    const server = this.servers.get(uid);
    if (server === undefined) return;
    this.servers.delete(uid);
    this.arrivals.markEnded(uid);
    this.arrivals.wake(uid);
    const closed = server.close();
    this.closing.add(closed);
    void closed.finally(() => this.closing.delete(closed));
  }

  private report(code: ErrorCode, message: string): void {
    this.options.onError?.(new BroadsideError(code, message));
  }
}

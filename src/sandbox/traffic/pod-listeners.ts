import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import { BroadsideError, describeError } from "../../core/errors.js";
import type { ErrorCode } from "../../core/errors.js";
import { ClientNodeWatchSource, collectionPath } from "../../kube/watch/client-node-source.js";
import { Informer } from "../../kube/watch/informer.js";
import type { InformerEvent } from "../../kube/watch/informer.js";
import { parseBehaviour, podServes, serveSelector } from "./behaviour.js";
import type { Behaviour } from "./behaviour.js";
import { PodServer } from "./pod-server.js";

export interface PodListenersOptions {
  readonly config: KubeConfig;
  readonly namespaces: readonly string[];
  /** Draws the injected errors; Math.random by default. */
  readonly random?: () => number;
  /** Bad annotations and listeners that could not start; the others carry on. */
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
 * One real loopback HTTP listener per opted-in pod (label broadside.dev/serve=http) that is Running,
 * Ready and not deleting, kept in step with the pods by one informer per namespace. The map from pod
 * uid to 127.0.0.1:port is what the front doors route through: kwok's pod IPs are never used.
 */
export class PodListeners {
  private readonly servers = new Map<string, PodServer>();
  private readonly closing = new Set<Promise<void>>();
  private readonly informers: Informer<V1Pod>[];
  private stopped = false;

  constructor(private readonly options: PodListenersOptions) {
    this.informers = options.namespaces.map((namespace) => {
      const source = new ClientNodeWatchSource({
        config: options.config,
        path: collectionPath("v1", "pods", namespace),
        labelSelector: serveSelector,
      });
      const informer = new Informer<V1Pod>({
        source,
        description: `serving pods in namespace ${namespace}`,
        ...(options.onError === undefined ? {} : { onError: options.onError }),
      });
      informer.subscribe((event) => {
        this.onPodEvent(event);
      });
      return informer;
    });
  }

  /** Resolves once every namespace has been listed and its serving pods' listeners are starting. */
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
   * Undefined when the pod has no listener: not Ready, deleting, gone, or never seen.
   */
  async dialPort(uid: string): Promise<number | undefined> {
    const server = this.servers.get(uid);
    if (server === undefined) return undefined;
    try {
      await server.listening;
    } catch {
      return undefined;
    }
    return server.port;
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
    await Promise.all([...this.closing]);
  }

  private onPodEvent(event: InformerEvent<V1Pod>): void {
    const pod = event.object;
    const uid = pod.metadata?.uid;
    if (uid === undefined || this.stopped) return;
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
    const closed = server.close();
    this.closing.add(closed);
    void closed.finally(() => this.closing.delete(closed));
  }

  private report(code: ErrorCode, message: string): void {
    this.options.onError?.(new BroadsideError(code, message));
  }
}

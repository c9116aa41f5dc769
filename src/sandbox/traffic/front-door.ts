import { createServer, request as httpRequest } from "node:http";
import type {
  ClientRequest,
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  Server,
  ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { KubeConfig, V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import { BroadsideError, describeError } from "../../core/errors.js";
import { ClientNodeWatchSource, collectionPath } from "../../kube/watch/client-node-source.js";
import { Informer } from "../../kube/watch/informer.js";
import type { InformerEvent } from "../../kube/watch/informer.js";
import { serveSelector } from "./behaviour.js";
import { chooseEndpoint, readyEndpointUids, serviceNameLabel } from "./endpoints.js";
import { assertLoopbackHost, loopbackHost } from "./loopback.js";

/** Where a front door sends requests: the Service's ready endpoints and their pods' loopback ports. */
export interface Upstreams {
  /** The pod uid of one ready endpoint, drawn afresh per request; undefined when there is none. */
  choose(): string | undefined;
  /** The loopback port of that pod's listener; undefined when the pod has none (dead, not Ready). */
  dialPort(uid: string): Promise<number | undefined>;
}

export interface ServiceName {
  readonly namespace: string;
  readonly name: string;
}

export interface LoopbackDial {
  readonly host: string;
  readonly port: number;
  readonly method: string;
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
}

/**
 * The only way the traffic layer opens a connection: it refuses any host outside 127.0.0.0/8 before
 * dialing. One connection per request (no agent): a pooled connection to a listener that has since
 * closed would fail for a reason that has nothing to do with the endpoint chosen.
 */
export function dialLoopback(
  dial: LoopbackDial,
  onResponse: (response: IncomingMessage) => void,
): ClientRequest {
  assertLoopbackHost(dial.host);
  return httpRequest({ ...dial, agent: false }, onResponse);
}

/** Headers about one connection, which a proxy must not pass on (RFC 9110, section 7.6.1). */
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !hopByHop.has(name.toLowerCase())) kept[name] = value;
  }
  return kept;
}

/**
 * A Service's front door on 127.0.0.1: per request, one ready endpoint at random (kube-proxy's iptables
 * mode), reached through its pod's loopback listener. Failures are answered, never retried, since they
 * are what a chaos experiment measures:
 * - no ready endpoint: 503, as an ingress reports an empty backend;
 * - an endpoint still listed whose pod has no listener, or whose listener refuses or resets: 502. On a
 *   real cluster the client would see a refused, reset or timed-out connection; a 502 makes the same
 *   failure countable by HTTP probes and tells it apart from the app's own 500s;
 * - a listener that dies mid-answer: the client connection is cut.
 * Each answer names the endpoint in `x-broadside-endpoint` (the pod uid).
 */
export class FrontDoor {
  private readonly server: Server;

  constructor(
    readonly service: ServiceName,
    private readonly upstreams: Upstreams,
  ) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        // Only a bug gets here; answer rather than leave the client hanging.
        if (!response.headersSent) answer(response, 500, { error: `front door: ${describeError(error)}` });
        else response.destroy();
      });
    });
  }

  /** Listens on 127.0.0.1:`port` (0: an ephemeral port) and resolves with the port. */
  listen(port: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const onError = (error: Error): void => {
        const where = `${loopbackHost}:${port}`;
        const what = `the front door of service ${this.service.namespace}/${this.service.name}`;
        reject(new BroadsideError("BRD_INTERNAL", `${what} could not listen on ${where}`, { cause: error }));
      };
      this.server.once("error", onError);
      this.server.listen(port, loopbackHost, () => {
        this.server.off("error", onError);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  get port(): number | undefined {
    const address = this.server.address();
    return address !== null && typeof address === "object" ? address.port : undefined;
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => {
        resolve();
      });
      this.server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const uid = this.upstreams.choose();
    if (uid === undefined) {
      request.resume();
      answer(response, 503, { error: "no ready endpoint", service: this.service.name });
      return;
    }
    response.setHeader("x-broadside-endpoint", uid);
    const port = await this.upstreams.dialPort(uid);
    if (port === undefined) {
      request.resume();
      answer(response, 502, {
        error: "the endpoint's pod is not listening (connection refused)",
        endpoint: uid,
      });
      return;
    }
    forward(request, response, port, uid);
  }
}

function forward(request: IncomingMessage, response: ServerResponse, port: number, uid: string): void {
  const upstream = dialLoopback(
    {
      host: loopbackHost,
      port,
      method: request.method ?? "GET",
      path: request.url ?? "/",
      headers: endToEndHeaders(request.headers),
    },
    (reply) => {
      response.writeHead(reply.statusCode ?? 502, endToEndHeaders(reply.headers));
      reply.pipe(response);
      reply.on("error", () => response.destroy());
      reply.on("close", () => {
        // Cut mid-answer (the pod died while answering): cut the client too, as a real connection would be.
        if (!reply.complete) response.destroy();
      });
    },
  );
  upstream.on("error", (error: NodeJS.ErrnoException) => {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const code = error.code ?? "error";
    answer(response, 502, { error: `the endpoint's pod did not answer (${code})`, endpoint: uid });
  });
  // A client that gives up must not leave the upstream request running.
  response.on("close", () => {
    if (!response.writableFinished) upstream.destroy();
  });
  request.pipe(upstream);
}

function answer(response: ServerResponse, status: number, body: Record<string, string>): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

export interface FrontDoorsOptions {
  readonly config: KubeConfig;
  readonly namespaces: readonly string[];
  /** The loopback port of each pod's listener, by pod uid (PodListeners.dialPort). */
  readonly dialPort: (uid: string) => Promise<number | undefined>;
  /** The port for a Service's front door; 0 or no function: an ephemeral port. */
  readonly portFor?: (service: ServiceName) => number;
  /** Draws the endpoint per request; Math.random by default. */
  readonly random?: () => number;
  readonly onError?: (error: BroadsideError) => void;
}

interface NamespaceWatch {
  readonly services: Informer<V1Service>;
  readonly slices: Informer<V1EndpointSlice>;
}

/**
 * A front door for every opted-in Service (label broadside.dev/serve=http) in the namespaces, routing
 * through the Service's EndpointSlices as the informer last saw them, so endpoint changes reach the
 * traffic with the same lag as kube-proxy's. One Service informer and one EndpointSlice informer per
 * namespace.
 */
export class FrontDoors {
  private readonly doors = new Map<string, FrontDoor>();
  private readonly watches = new Map<string, NamespaceWatch>();
  private readonly pending = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly options: FrontDoorsOptions) {
    for (const namespace of options.namespaces) {
      const onError = options.onError === undefined ? {} : { onError: options.onError };
      const services = new Informer<V1Service>({
        source: new ClientNodeWatchSource({
          config: options.config,
          path: collectionPath("v1", "services", namespace),
          labelSelector: serveSelector,
        }),
        description: `serving services in namespace ${namespace}`,
        ...onError,
      });
      const slices = new Informer<V1EndpointSlice>({
        source: new ClientNodeWatchSource({
          config: options.config,
          path: collectionPath("discovery.k8s.io/v1", "endpointslices", namespace),
          labelSelector: serviceNameLabel,
        }),
        description: `endpoint slices in namespace ${namespace}`,
        ...onError,
      });
      services.subscribe((event) => {
        this.onServiceEvent(event);
      });
      this.watches.set(namespace, { services, slices });
    }
  }

  /** Resolves once every namespace is listed and the front doors of the Services found are listening. */
  async start(): Promise<void> {
    // Slices first: a front door must not open on an empty view of its endpoints and answer 503.
    await Promise.all([...this.watches.values()].map((watch) => watch.slices.start()));
    await Promise.all([...this.watches.values()].map((watch) => watch.services.start()));
    await this.settle();
  }

  /** The port of a Service's front door, once it listens. */
  portOf(service: ServiceName): number | undefined {
    return this.doors.get(keyOf(service))?.port;
  }

  /** The pod uids of the Service's ready endpoints, as the front door currently routes. */
  readyEndpoints(service: ServiceName): string[] {
    const slices = this.watches.get(service.namespace)?.slices.list() ?? [];
    return readyEndpointUids(
      slices.filter((slice) => slice.metadata?.labels?.[serviceNameLabel] === service.name),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(
      [...this.watches.values()].flatMap((watch) => [watch.services.stop(), watch.slices.stop()]),
    );
    await this.settle();
    const doors = [...this.doors.values()];
    this.doors.clear();
    await Promise.all(doors.map((door) => door.close()));
  }

  private async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private onServiceEvent(event: InformerEvent<V1Service>): void {
    const name = event.object.metadata?.name;
    const namespace = event.object.metadata?.namespace;
    if (name === undefined || namespace === undefined || this.stopped) return;
    const service = { namespace, name };
    if (event.type === "DELETED") this.closeDoor(service);
    else if (!this.doors.has(keyOf(service))) this.openDoor(service);
  }

  private openDoor(service: ServiceName): void {
    const random = this.options.random ?? Math.random;
    const door = new FrontDoor(service, {
      choose: () => chooseEndpoint(this.readyEndpoints(service), random),
      dialPort: this.options.dialPort,
    });
    this.doors.set(keyOf(service), door);
    const opening = door.listen(this.options.portFor?.(service) ?? 0).catch((error: unknown) => {
      if (this.doors.get(keyOf(service)) === door) this.doors.delete(keyOf(service));
      this.options.onError?.(
        error instanceof BroadsideError ? error : new BroadsideError("BRD_INTERNAL", describeError(error)),
      );
    });
    this.track(opening);
  }

  private closeDoor(service: ServiceName): void {
    const door = this.doors.get(keyOf(service));
    if (door === undefined) return;
    this.doors.delete(keyOf(service));
    this.track(door.close());
  }

  private track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }
}

function keyOf(service: ServiceName): string {
  return `${service.namespace}/${service.name}`;
}

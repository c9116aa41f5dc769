import { createServer, request as httpRequest } from "node:http";
import type {
  ClientRequest,
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  Server,
  ServerResponse,
} from "node:http";
import { Server as NetServer } from "node:net";
import type { AddressInfo } from "node:net";
import { setImmediate as nextCheckPhase } from "node:timers/promises";
import type { Clock } from "../../core/clock.js";
import { BroadsideError, describeError } from "../../core/errors.js";
import { assertLoopbackHost, loopbackHost } from "./loopback.js";

/** Where one pod answers: its loopback listener (127.0.0.1:port), or its body's IP on the sandbox's bridge. */
export interface Upstream {
  readonly host: string;
  readonly port: number;
}

/** Where a front door sends requests: the Service's ready endpoints and where their pods answer. */
export interface Upstreams {
  /** The pod uid of one ready endpoint, drawn afresh per request; undefined when there is none. */
  choose(): string | undefined;
  /** Where that pod answers; undefined when it does not (dead, not Ready). */
  dial(uid: string): Promise<Upstream | undefined>;
  /**
   * Whether `host` may be dialed: 127.0.0.0/8 for loopback listeners (the default), the IPs of the bodies
   * the sandbox made for pod bodies. Checked again right before every connection.
   */
  canDial?(host: string): boolean;
}

export interface ServiceName {
  readonly namespace: string;
  readonly name: string;
}

/** When an outage (FrontDoor.refuse) closed and reopened the listening socket, in epoch ms. */
export interface RefusedWindow {
  readonly closedAt: number;
  readonly reopenedAt: number;
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

/**
 * dialLoopback for a front door whose upstreams say which hosts they own (pod bodies): anything they
 * do not own is refused before dialing, as dialLoopback refuses anything outside 127.0.0.0/8.
 */
export function dialUpstream(
  dial: LoopbackDial,
  onResponse: (response: IncomingMessage) => void,
  canDial: ((host: string) => boolean) | undefined,
): ClientRequest {
  if (canDial === undefined) return dialLoopback(dial, onResponse);
  if (!canDial(dial.host)) {
    throw new BroadsideError(
      "BRD_INTERNAL",
      `sandbox traffic refused to dial ${JSON.stringify(dial.host)}: not the address of a pod body this sandbox made`,
    );
  }
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
  private boundPort: number | undefined;
  private outage: AbortController | undefined;
  private closed = false;

  constructor(
    readonly service: ServiceName,
    private readonly upstreams: Upstreams,
    /** Times an outage (refuse): when it closed, how long it stays shut, when it reopened. */
    private readonly clock: Clock,
  ) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        // Only a bug gets here; answer rather than leave the client hanging.
        if (!response.headersSent) answer(response, 500, { error: `front door: ${describeError(error)}` });
        else response.destroy();
      });
    });
    // Listen errors are reported by bind(); a later one (accept failing under EMFILE) must not take the
    // whole traffic process down: the door carries on with the next connection.
    this.server.on("error", () => undefined);
  }

  /** Listens on 127.0.0.1:`port` (0: an ephemeral port) and resolves with the port. */
  async listen(port: number): Promise<number> {
    this.boundPort = await this.bind(port);
    return this.boundPort;
  }

  /** The port it listens on, kept through an outage (see refuse); undefined before listen and after close. */
  get port(): number | undefined {
    return this.boundPort;
  }

  /** Whether an outage (refuse) has its listening socket closed right now. */
  get refusing(): boolean {
    return this.outage !== undefined;
  }

  /**
   * An outage of exactly `durationMs`: closes the listening socket, so new connections are refused
   * (ECONNREFUSED), and listens again on the same port after `durationMs`. Connections made before it
   * closed are served: those still in the kernel's accept queue are accepted first (closing a listening
   * socket resets them, which a client would see as ECONNRESET from a request sent before the outage),
   * and accepted connections are not cut, even idle ones. Resolves when it listens again, with the epoch
   * ms it closed and reopened; rejects if the door is closed meanwhile or the port was taken meanwhile.
   */
  refuse(durationMs: number): Promise<RefusedWindow> {
    const port = this.boundPort;
    if (port === undefined || this.closed)
      return Promise.reject(new BroadsideError("BRD_USAGE", `${this.describe()} is not listening`));
    if (this.outage !== undefined)
      return Promise.reject(
        new BroadsideError("BRD_USAGE", `${this.describe()} is already refusing connections`),
      );
    const outage = new AbortController();
    this.outage = outage;
    return this.holdShut(port, durationMs, outage.signal).finally(() => {
      if (this.outage === outage) this.outage = undefined;
    });
  }

  private async holdShut(port: number, durationMs: number, cancelled: AbortSignal): Promise<RefusedWindow> {
    // Two turns of the check phase have a whole poll phase between them, which accepts every
    // connection already queued: the socket closes a fraction of a millisecond later than asked.
    await nextCheckPhase();
    await nextCheckPhase();
    this.throwIfCancelled(cancelled);
    // net's close, not http's: http's also destroys connections that are idle, and a connection
    // accepted an instant ago whose request has not been read yet counts as idle.
    NetServer.prototype.close.call(this.server);
    const closedAt = this.clock.now();
    // A sleep may end a millisecond early by the wall clock: the outage lasts at least durationMs.
    for (let left = durationMs; left > 0; left = closedAt + durationMs - this.clock.now()) {
      await this.clock.sleep(left, cancelled);
      this.throwIfCancelled(cancelled);
    }
    try {
      await this.bind(port);
    } catch (error: unknown) {
      this.boundPort = undefined;
      throw error instanceof Error ? error : new BroadsideError("BRD_INTERNAL", describeError(error));
    }
    return { closedAt, reopenedAt: this.clock.now() };
  }

  private throwIfCancelled(cancelled: AbortSignal): void {
    if (cancelled.aborted)
      throw new BroadsideError("BRD_INTERNAL", `${this.describe()} was closed during its outage`);
  }

  private describe(): string {
    return `the front door of service ${this.service.namespace}/${this.service.name}`;
  }

  close(): Promise<void> {
    this.closed = true;
    this.boundPort = undefined;
    this.outage?.abort();
    return new Promise<void>((resolve) => {
      if (!this.server.listening) {
        this.server.closeAllConnections();
        resolve();
        return;
      }
      this.server.close(() => {
        resolve();
      });
      this.server.closeAllConnections();
    });
  }

  private bind(port: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const onError = (error: Error): void => {
        const where = `${loopbackHost}:${port}`;
        const what = `the front door of service ${this.service.namespace}/${this.service.name}`;
        reject(new BroadsideError("BRD_INTERNAL", `${what} could not listen on ${where}`, { cause: error }));
      };
      this.server.once("error", onError);
      this.server.listen(port, loopbackHost, () => {
        this.server.off("error", onError);
        const bound = (this.server.address() as AddressInfo).port;
        if (!this.closed) {
          resolve(bound);
          return;
        }
        // close() came while it was binding: it found nothing listening, so let go of the port here.
        this.server.close();
        reject(new BroadsideError("BRD_INTERNAL", `the front door of ${this.service.name} was closed`));
      });
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
    const target = await this.upstreams.dial(uid);
    if (target === undefined) {
      request.resume();
      answer(response, 502, {
        error: "the endpoint's pod is not listening (connection refused)",
        endpoint: uid,
      });
      return;
    }
    try {
      forward(request, response, target, uid, this.upstreams.canDial?.bind(this.upstreams));
    } catch (error: unknown) {
      // A refused dial (an address the sandbox does not own): an answer, never a connection.
      request.resume();
      answer(response, 502, { error: describeError(error), endpoint: uid });
    }
  }
}

function forward(
  request: IncomingMessage,
  response: ServerResponse,
  target: Upstream,
  uid: string,
  canDial: ((host: string) => boolean) | undefined,
): void {
  const upstream = dialUpstream(
    {
      host: target.host,
      port: target.port,
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
    canDial,
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

import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BroadsideError } from "../../core/errors.js";
import type { Behaviour } from "./behaviour.js";
import { loopbackHost } from "./loopback.js";

/** What a pod's listener says about itself in every answer, so a caller can tell which pod answered. */
export interface PodIdentity {
  readonly pod: string;
  readonly namespace: string;
  readonly uid: string;
}

type State = "starting" | "listening" | "closed";

/**
 * The stand-in for one demo pod's container: a real HTTP server on 127.0.0.1 and an ephemeral port.
 * Any method and path gets the pod's identity as JSON (200), or 500 for the injected share of errors,
 * after the injected latency. close() takes it down at once, open connections and answers in their
 * latency wait included, as a killed container would.
 */
export class PodServer {
  readonly listening: Promise<number>;
  private readonly server: Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  private state: State = "starting";
  private closed: Promise<void> | undefined;

  constructor(
    readonly identity: PodIdentity,
    private behaviourNow: Behaviour,
    private readonly random: () => number = Math.random,
    /** Where it listens: 127.0.0.1 and an ephemeral port, except in a pod body (0.0.0.0 in its own netns). */
    listenOn: { readonly host: string; readonly port: number } = { host: loopbackHost, port: 0 },
  ) {
    this.server = createServer((request, response) => {
      this.answer(request, response);
    });
    this.listening = new Promise<number>((resolve, reject) => {
      this.server.once("error", (error) => {
        reject(
          new BroadsideError("BRD_INTERNAL", `the listener of pod ${identity.pod} could not listen`, {
            cause: error,
          }),
        );
      });
      this.server.listen(listenOn.port, listenOn.host, () => {
        if (this.state === "starting") this.state = "listening";
        resolve((this.server.address() as AddressInfo).port);
        // Closed while it was still starting: finish the close now that there is something to close.
        if (this.state === "closed") this.shutDown();
      });
    });
    // close() may come before anyone awaits the listen; its failure is reported through `listening`.
    void this.listening.catch(() => undefined);
  }

  get behaviour(): Behaviour {
    return this.behaviourNow;
  }

  /** Applies to requests arriving from now on. */
  set behaviour(behaviour: Behaviour) {
    this.behaviourNow = behaviour;
  }

  /** The port while listening; undefined while starting and after close(). */
  get port(): number | undefined {
    if (this.state !== "listening") return undefined;
    return (this.server.address() as AddressInfo).port;
  }

  get isClosed(): boolean {
    return this.state === "closed";
  }

  /** Stops accepting connections and cuts the open ones; resolves when the server is fully closed. */
  close(): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    const wasListening = this.state === "listening";
    this.state = "closed";
    this.closed = new Promise<void>((resolve) => {
      this.server.once("close", () => {
        resolve();
      });
      // A server that never got to listen emits no "close"; there is nothing left to wait for.
      this.listening.catch(() => {
        resolve();
      });
    });
    if (wasListening) this.shutDown();
    return this.closed;
  }

  private shutDown(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.server.close();
    this.server.closeAllConnections();
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    request.resume();
    const bytes = bulkBytes(request.url);
    if (bytes !== undefined) {
      sendBulk(response, bytes, this.identity.pod);
      return;
    }
    const { latencyMs, errorRate } = this.behaviourNow;
    // Drawn on arrival, so a behaviour change during the wait does not change this request's fate.
    const fail = this.random() < errorRate;
    const send = (): void => {
      const status = fail ? 500 : 200;
      const body = fail ? { ...this.identity, error: "injected failure" } : this.identity;
      response
        .writeHead(status, { "content-type": "application/json", "x-broadside-pod": this.identity.pod })
        .end(JSON.stringify(body));
    };
    if (latencyMs <= 0) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, latencyMs);
    this.timers.add(timer);
  }
}

/** The most `GET /bytes/<n>` serves: 64 MiB. */
export const maxBulkBytes = 64 * 1024 * 1024;

/**
 * `/bytes/<n>`: n bytes of zeros (at most maxBulkBytes), for transfers that measure a pod's bandwidth
 * (the network faults' tests); undefined for any other path.
 */
export function bulkBytes(url: string | undefined): number | undefined {
  const match = /^\/bytes\/([0-9]{1,9})$/.exec(url ?? "");
  if (match === null) return undefined;
  const bytes = Number(match[1]);
  return bytes <= maxBulkBytes ? bytes : undefined;
}

function sendBulk(response: ServerResponse, bytes: number, pod: string): void {
  response.writeHead(200, {
    "content-type": "application/octet-stream",
    "content-length": String(bytes),
    "x-broadside-pod": pod,
  });
  const chunk = Buffer.alloc(64 * 1024);
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const size = Math.min(left, chunk.length);
      left -= size;
      if (!response.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
        response.once("drain", pump);
        return;
      }
    }
    response.end();
  };
  pump();
}

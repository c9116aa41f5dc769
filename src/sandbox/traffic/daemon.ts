import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import type { Clock } from "../../core/clock.js";
import { BroadsideError, describeError, usageError } from "../../core/errors.js";
import type { KubeClients } from "../../kube/client.js";
import type { DoorsReport } from "./front-doors.js";
import { loopbackHost } from "./loopback.js";
import { startTraffic } from "./traffic.js";
import type { Traffic, TrafficOptions } from "./traffic.js";

/**
 * The sandbox's traffic process (the component "traffic", entry point main.ts): startTraffic across all
 * namespaces, structured logs, and a read-only health endpoint on loopback for `sandbox up` and `status`.
 */

export interface DaemonArgs {
  readonly kubeconfig: string;
  readonly healthPort: number;
}

/** Reads `--kubeconfig PATH --health-port N` (or `--flag=value`); throws BRD_USAGE naming the flag. */
export function parseDaemonArgs(argv: readonly string[]): DaemonArgs {
  let values: { kubeconfig?: string | undefined; "health-port"?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { kubeconfig: { type: "string" }, "health-port": { type: "string" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error: unknown) {
    throw new BroadsideError("BRD_USAGE", describeError(error));
  }
  const kubeconfig = values.kubeconfig;
  if (kubeconfig === undefined || kubeconfig === "") throw usageError("--kubeconfig", "is required");
  const port = values["health-port"];
  const healthPort = port !== undefined && /^\d{1,5}$/.test(port) ? Number(port) : Number.NaN;
  if (!(healthPort >= 1 && healthPort <= 65535))
    throw usageError("--health-port", `must be a port from 1 to 65535, got ${JSON.stringify(port ?? "")}`);
  return { kubeconfig, healthPort };
}

/** What the health endpoint reads: undefined until the traffic is in step with the cluster. */
export interface HealthView {
  doors(): DoorsReport | undefined;
}

/**
 * GET /healthz: 200 once the traffic is in step with the cluster (its first lists applied, its front
 * doors open or failed), 503 before. GET /doors: the front doors as JSON ({open, failed}), 503 before.
 * Nothing else: no endpoint changes anything. Listens on 127.0.0.1 only.
 */
export function startHealthServer(port: number, view: HealthView): Promise<Server> {
  const server = createServer((request, response) => {
    answerHealth(request, response, view);
  });
  return new Promise<Server>((resolve, reject) => {
    server.once("error", (error) => {
      reject(
        new BroadsideError(
          "BRD_INTERNAL",
          `the health endpoint could not listen on ${loopbackHost}:${port}`,
          {
            cause: error,
          },
        ),
      );
    });
    server.listen(port, loopbackHost, () => {
      resolve(server);
    });
  });
}

function answerHealth(request: IncomingMessage, response: ServerResponse, view: HealthView): void {
  request.resume();
  const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
  if (path !== "/healthz" && path !== "/doors") {
    send(response, 404, { error: "not found: GET /healthz or /doors" });
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("allow", "GET, HEAD");
    send(response, 405, { error: "read-only: GET only" });
    return;
  }
  const doors = view.doors();
  if (doors === undefined) send(response, 503, { status: "starting" });
  else if (path === "/healthz") send(response, 200, { status: "ok" });
  else send(response, 200, doors);
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(`${JSON.stringify(body)}\n`);
}

/** The subset of a pino logger the daemon writes through: constant messages, context as an object. */
export interface DaemonLog {
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
}

export interface Daemon {
  readonly healthPort: number;
  /** Resolves once the traffic is in step with the cluster (/healthz answers 200 from then on). */
  readonly ready: Promise<void>;
  /** Closes the health endpoint, then every front door and listener. */
  stop(): Promise<void>;
}

/**
 * Starts the health endpoint at once (503 until ready), then the traffic across every namespace. Rejects
 * when the health port cannot be bound; a cluster that does not answer yet only delays `ready`.
 */
export async function startDaemon(
  args: DaemonArgs,
  kube: Pick<KubeClients, "config">,
  log: DaemonLog,
  extra: { readonly clock: Clock } & Pick<TrafficOptions, "sources" | "retryMs">,
): Promise<Daemon> {
  let traffic: Traffic | undefined;
  let stopping = false;
  const abort = new AbortController();
  const server = await startHealthServer(args.healthPort, {
    doors: () => (stopping ? undefined : traffic?.doors()),
  });
  const healthPort = (server.address() as AddressInfo).port;
  log.info({ healthPort, kubeconfig: args.kubeconfig }, "traffic starting");
  const started = startTraffic(kube, {
    ...extra,
    signal: abort.signal,
    onError: (error) => {
      log.warn({ code: error.code, error: error.message }, "traffic problem");
    },
    onDoor: (event) => {
      const { kind, ...door } = event;
      log.info(door, kind === "open" ? "front door open" : "front door closed");
    },
  });
  const ready = started.then((running) => {
    traffic = running;
    const { open, failed } = running.doors();
    log.info({ open: open.length, failed: failed.length }, "traffic in step with the cluster");
  });
  return {
    healthPort,
    ready,
    stop: async () => {
      stopping = true;
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
      // A start still waiting on the cluster is called off.
      abort.abort();
      await ready.catch(() => undefined);
      await traffic?.stop();
      log.info({}, "traffic stopped");
    },
  };
}

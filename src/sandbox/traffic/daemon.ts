import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import type { Clock } from "../../core/clock.js";
import { BroadsideError, describeError, usageError } from "../../core/errors.js";
import type { KubeClients } from "../../kube/client.js";
import type { DoorsReport } from "./front-doors.js";
import { loopbackHost } from "./loopback.js";
import { isAbsolute } from "node:path";
import type { BodyInfo } from "../bodies/pod-bodies.js";
import { parseCidr } from "../bodies/network.js";
import { SandboxName } from "../sandbox-name.js";
import { startTraffic } from "./traffic.js";
import type { Traffic, TrafficOptions } from "./traffic.js";

/**
 * The sandbox's traffic process (the component "traffic", entry point main.ts): startTraffic across all
 * namespaces, structured logs, and a read-only health endpoint on loopback for `sandbox up` and `status`.
 */

export interface DaemonArgs {
  readonly kubeconfig: string;
  readonly healthPort: number;
  /** With `--pod-bodies=netns`: pods answer from real bodies (src/sandbox/bodies/). */
  readonly bodies?: BodiesArgs;
}

/** `--pod-bodies=netns --sandbox NAME --pod-cidr CIDR --bodies-dir PATH [--ready-delay-ms N]`. */
export interface BodiesArgs {
  readonly sandbox: SandboxName;
  readonly podCidr: string;
  /** Where the records of what the bodies are made of are kept (the sandbox's state directory). */
  readonly bodiesDir: string;
  /** How long a restarted body runs before it is written ready (the pod-ready delay); 0 by default. */
  readonly readyDelayMs: number;
}

type DaemonValues = Partial<Record<(typeof daemonFlags)[number], string>>;
const daemonFlags = [
  "kubeconfig",
  "health-port",
  "pod-bodies",
  "sandbox",
  "pod-cidr",
  "bodies-dir",
  "ready-delay-ms",
] as const;

/**
 * Reads `--kubeconfig PATH --health-port N` (or `--flag=value`), and for pod bodies `--pod-bodies=netns
 * --sandbox NAME --pod-cidr CIDR --bodies-dir PATH [--ready-delay-ms N]`; throws BRD_USAGE naming the flag.
 */
export function parseDaemonArgs(argv: readonly string[]): DaemonArgs {
  let values: DaemonValues;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(daemonFlags.map((flag) => [flag, { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    }) as { values: DaemonValues });
  } catch (error: unknown) {
    throw new BroadsideError("BRD_USAGE", describeError(error));
  }
  const kubeconfig = values.kubeconfig;
  if (kubeconfig === undefined || kubeconfig === "") throw usageError("--kubeconfig", "is required");
  const port = values["health-port"];
  const healthPort = port !== undefined && /^\d{1,5}$/.test(port) ? Number(port) : Number.NaN;
  if (!(healthPort >= 1 && healthPort <= 65535))
    throw usageError("--health-port", `must be a port from 1 to 65535, got ${JSON.stringify(port ?? "")}`);
  const bodies = parseBodiesArgs(values);
  return bodies === undefined ? { kubeconfig, healthPort } : { kubeconfig, healthPort, bodies };
}

function parseBodiesArgs(values: DaemonValues): BodiesArgs | undefined {
  const mode = values["pod-bodies"] ?? "loopback";
  if (mode === "loopback") return undefined;
  if (mode !== "netns")
    throw usageError("--pod-bodies", `must be netns or loopback, got ${JSON.stringify(mode)}`);
  const sandbox = SandboxName.parse(values.sandbox ?? "", "--sandbox");
  const podCidr = values["pod-cidr"] ?? "";
  try {
    parseCidr(podCidr);
  } catch {
    throw usageError(
      "--pod-cidr",
      `must be an IPv4 CIDR such as 10.244.0.0/16, got ${JSON.stringify(podCidr)}`,
    );
  }
  const bodiesDir = values["bodies-dir"] ?? "";
  if (!isAbsolute(bodiesDir)) throw usageError("--bodies-dir", "must be an absolute path");
  return { sandbox, podCidr, bodiesDir, readyDelayMs: parseReadyDelay(values["ready-delay-ms"] ?? "0") };
}

function parseReadyDelay(delay: string): number {
  const readyDelayMs = /^\d{1,7}$/.test(delay) ? Number(delay) : Number.NaN;
  if (!(readyDelayMs <= 3_600_000))
    throw usageError(
      "--ready-delay-ms",
      `must be a whole number of milliseconds up to 3600000, got ${JSON.stringify(delay)}`,
    );
  return readyDelayMs;
}

/** What the health endpoint reads: undefined until the traffic is in step with the cluster. */
export interface HealthView {
  doors(): DoorsReport | undefined;
  /** The pod bodies (netns mode), [] in loopback mode; undefined until in step. */
  bodies?(): BodiesReport | undefined;
}

export interface BodiesReport {
  readonly mode: "netns" | "loopback";
  readonly bodies: readonly BodyInfo[];
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
  if (path !== "/healthz" && path !== "/doors" && path !== "/bodies") {
    send(response, 404, { error: "not found: GET /healthz, /doors or /bodies" });
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("allow", "GET, HEAD");
    send(response, 405, { error: "read-only: GET only" });
    return;
  }
  const answer = answerOf(path, view);
  if (answer === undefined) send(response, 503, { status: "starting" });
  else send(response, 200, answer);
}

/** What GET `path` answers once the traffic is in step; undefined before. */
function answerOf(path: string, view: HealthView): unknown {
  const doors = view.doors();
  if (doors === undefined) return undefined;
  if (path === "/healthz") return { status: "ok" };
  if (path === "/doors") return doors;
  return view.bodies?.() ?? { mode: "loopback", bodies: [] };
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
  extra: { readonly clock: Clock } & Pick<TrafficOptions, "sources" | "retryMs" | "bodies">,
): Promise<Daemon> {
  let traffic: Traffic | undefined;
  let stopping = false;
  const abort = new AbortController();
  const server = await startHealthServer(args.healthPort, {
    doors: () => (stopping ? undefined : traffic?.doors()),
    bodies: () => {
      if (stopping || traffic === undefined) return undefined;
      const bodies = traffic.bodies();
      return bodies === undefined ? { mode: "loopback", bodies: [] } : { mode: "netns", bodies };
    },
  });
  const healthPort = (server.address() as AddressInfo).port;
  log.info({ healthPort, kubeconfig: args.kubeconfig }, "traffic starting");
  const started = startTraffic(kube, {
    ...extra,
    signal: abort.signal,
    onError: (error) => {
      log.warn({ code: error.code, error: error.message }, "traffic problem");
    },
    onBody: (event) => {
      // pino's base already has `pid` (the traffic process's): the body's goes under its own key.
      const { kind, pid, ...body } = event;
      log.info({ ...body, bodyPid: pid }, `pod body ${kind}`);
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

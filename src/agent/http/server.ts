import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { AddressInfo } from "node:net";
import { BroadsideError, describeError, usageError } from "../../core/errors.js";
import type { MetricsSource } from "../metrics/agent-metrics.js";
import {
  defaultListenAddress,
  formatListenAddress,
  healthAddressFlag,
  metricsAddressFlag,
  parseListenAddress,
  type ListenAddress,
} from "./address.js";

/**
 * The agent's HTTP surface, read-only by design (ADR 0007): /healthz, /readyz and /metrics answer GET and
 * HEAD; any other method is 405, any other path 404, and no request acts on anything. Health and metrics
 * may listen on one address or on two.
 */

/** One condition the agent needs before it is ready: informer caches synced, the ledger read... */
export interface ReadinessCheck {
  /** Lower-case words joined by dashes: /readyz names it when it is not ready. */
  readonly name: string;
  /** Cheap and synchronous: asked on every probe. A check that throws counts as not ready. */
  isReady(): boolean;
}

export interface AgentHttpConfig {
  /** /healthz and /readyz. */
  readonly healthAddress: ListenAddress;
  /** /metrics. The same address as health means one listener serving all three. */
  readonly metricsAddress: ListenAddress;
}

/** The flags' text, as the entry point read it; undefined takes the default (loopback, 8080). */
export interface AgentHttpFlags {
  readonly healthAddress?: string | undefined;
  readonly metricsAddress?: string | undefined;
}

export function agentHttpConfig(flags: AgentHttpFlags): AgentHttpConfig {
  return {
    healthAddress: parseListenAddress(flags.healthAddress ?? defaultListenAddress, healthAddressFlag),
    metricsAddress: parseListenAddress(flags.metricsAddress ?? defaultListenAddress, metricsAddressFlag),
  };
}

export interface AgentHttpDependencies {
  readonly metrics: MetricsSource;
  readonly readiness: readonly ReadinessCheck[];
}

export interface AgentHttpServer {
  /** Where each endpoint group listens, ports as bound (a port of 0 becomes the one the system chose). */
  readonly health: BoundAddress;
  readonly metrics: BoundAddress;
  /** Stops listening and closes every connection; a scrape in flight is cut. Safe to call twice. */
  close(): Promise<void>;
}

export interface BoundAddress {
  readonly host: string;
  readonly port: number;
  /** "http://127.0.0.1:8080", for logs and tests. */
  readonly url: string;
}

/** Limits of a server that only answers short GETs from probes and scrapers. */
export const httpLimits = {
  /** Bytes of request body accepted; no endpoint reads one. */
  bodyLimit: 1024,
  /** A request must arrive whole within this (slow senders hold no socket for long). */
  requestTimeoutMs: 10_000,
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: 5_000,
  /** A socket with no activity at all is closed after this. */
  connectionTimeoutMs: 30_000,
} as const;

type Endpoint = "/healthz" | "/readyz" | "/metrics";
type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<string>;

const readMethods = new Set(["GET", "HEAD"]);

export async function startAgentHttp(
  config: AgentHttpConfig,
  dependencies: AgentHttpDependencies,
): Promise<AgentHttpServer> {
  const readiness = checkedReadiness(dependencies.readiness);
  const handlers: Record<Endpoint, Handler> = {
    "/healthz": healthz,
    "/readyz": readyz(readiness),
    "/metrics": metricsEndpoint(dependencies.metrics),
  };
  const { healthAddress, metricsAddress } = config;
  if (sameAddress(healthAddress, metricsAddress)) {
    const all = await listen(healthAddress, handlers);
    return serving(all, all);
  }
  const health = await listen(healthAddress, pick(handlers, ["/healthz", "/readyz"]));
  const metrics = await listen(metricsAddress, pick(handlers, ["/metrics"])).catch(async (error: unknown) => {
    await health.app.close();
    throw error;
  });
  return serving(health, metrics);
}

interface Listener {
  readonly app: FastifyInstance;
  readonly bound: BoundAddress;
}

function serving(health: Listener, metrics: Listener): AgentHttpServer {
  const apps = health === metrics ? [health.app] : [health.app, metrics.app];
  let closing: Promise<void> | undefined;
  return {
    health: health.bound,
    metrics: metrics.bound,
    close: () => (closing ??= Promise.all(apps.map((app) => app.close())).then(() => undefined)),
  };
}

function sameAddress(a: ListenAddress, b: ListenAddress): boolean {
  return a.host === b.host && a.port === b.port;
}

function pick(
  handlers: Record<Endpoint, Handler>,
  endpoints: readonly Endpoint[],
): Partial<Record<Endpoint, Handler>> {
  return Object.fromEntries(endpoints.map((endpoint) => [endpoint, handlers[endpoint]]));
}

async function listen(
  address: ListenAddress,
  handlers: Partial<Record<Endpoint, Handler>>,
): Promise<Listener> {
  const app = readOnlyApp(new Set(Object.keys(handlers)));
  for (const [path, handler] of Object.entries(handlers)) app.get(path, handler);
  try {
    await app.listen({ host: address.host, port: address.port });
  } catch (error: unknown) {
    await app.close();
    throw usageError(
      address.field,
      `cannot listen on ${formatListenAddress(address)}: ${describeError(error)}`,
    );
  }
  return { app, bound: boundAddress(app) };
}

function boundAddress(app: FastifyInstance): BoundAddress {
  const info = app.server.address() as AddressInfo;
  const address = { host: info.address, port: info.port };
  return { ...address, url: `http://${formatListenAddress(address)}` };
}

/** A fastify instance that logs nothing (no request, no body) and refuses every method but GET and HEAD. */
function readOnlyApp(paths: ReadonlySet<string>): FastifyInstance {
  const app = Fastify({
    // No logger: nothing about a request, its headers or its body is ever written anywhere.
    logger: false,
    bodyLimit: httpLimits.bodyLimit,
    requestTimeout: httpLimits.requestTimeoutMs,
    keepAliveTimeout: httpLimits.keepAliveTimeoutMs,
    connectionTimeout: httpLimits.connectionTimeoutMs,
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  // onRequest runs before any body is read, so a refused request is never parsed.
  app.addHook("onRequest", async (request, reply) => {
    if (readMethods.has(request.method)) return undefined;
    const known = paths.has(pathOf(request.url));
    return plain(reply, known ? 405 : 404, known ? "method not allowed: use GET or HEAD\n" : "not found\n");
  });
  app.setNotFoundHandler(async (_request, reply) => plain(reply, 404, "not found\n"));
  return app;
}

function pathOf(url: string): string {
  return url.split("?")[0] ?? url;
}

async function plain(reply: FastifyReply, status: number, body: string): Promise<FastifyReply> {
  if (status === 405) void reply.header("allow", "GET, HEAD");
  return reply.code(status).headers(plainHeaders).send(body);
}

const plainHeaders = {
  "content-type": "text/plain; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/** Alive: the process answers. Nothing else is asked, so a slow API server never gets the pod restarted. */
const healthz: Handler = async (_request, reply) => {
  void reply.headers(plainHeaders);
  return "ok\n";
};

/**
 * Ready when every check passes. Otherwise 503 with a line per check in the API server's own /readyz
 * style: `[+]name ok`, `[-]name not ready`.
 */
function readyz(checks: readonly ReadinessCheck[]): Handler {
  return async (_request, reply) => {
    const results = checks.map((check) => ({ name: check.name, ready: passes(check) }));
    void reply.headers(plainHeaders);
    if (results.every((result) => result.ready)) return "ok\n";
    void reply.code(503);
    const lines = results.map(({ name, ready }) => (ready ? `[+]${name} ok` : `[-]${name} not ready`));
    return `${lines.join("\n")}\nreadyz check failed\n`;
  };
}

function passes(check: ReadinessCheck): boolean {
  try {
    return check.isReady();
  } catch {
    // A check that cannot tell is not ready; the probe says which one, and its failure shows elsewhere.
    return false;
  }
}

function metricsEndpoint(source: MetricsSource): Handler {
  return async (_request, reply) => {
    const text = await source.render();
    void reply.headers({ "content-type": source.contentType, "cache-control": "no-store" });
    return text;
  };
}

const checkName = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** The checks as given, after refusing names /readyz could not print plainly or could not tell apart. */
function checkedReadiness(checks: readonly ReadinessCheck[]): readonly ReadinessCheck[] {
  const names = checks.map((check) => check.name);
  const bad = names.find((name, index) => !checkName.test(name) || names.indexOf(name) !== index);
  if (bad !== undefined) {
    throw new BroadsideError(
      "BRD_INTERNAL",
      `readiness check ${JSON.stringify(bad)}: names are distinct dashed lower-case words`,
    );
  }
  return checks;
}

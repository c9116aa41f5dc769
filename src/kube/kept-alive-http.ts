import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  wrapHttpLibrary,
  type HttpLibrary,
  type RequestContext,
  type ResponseContext,
} from "@kubernetes/client-node";
import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";

/*
 * Kept-alive connections to the API server (issue 10, Speed; ADR 0015). client-node's
 * KubeConfig.applySecurityAuthentication gives every request a new https.Agent carrying the cluster's
 * TLS options (kubernetes-client/javascript#2893), so every request paid a TCP and TLS handshake. Here
 * that per-request agent is swapped for one kept-alive agent with the same TLS options, shared by every
 * request of the client; a different TLS identity (a rotated client certificate) gets its own.
 */

/** A free socket idle this long is closed by us, before a server or load balancer (often 60 s) does. */
export const idleSocketMs = 30_000;

/** An agent that counts the requests it put on a socket kept alive from an earlier request. */
interface CountingAgent extends http.Agent {
  reusedSockets: number;
}

class CountingHttpsAgent extends https.Agent implements CountingAgent {
  reusedSockets = 0;
  override reuseSocket(socket: Duplex, request: http.ClientRequest): void {
    this.reusedSockets += 1;
    super.reuseSocket(socket, request);
  }
}

class CountingHttpAgent extends http.Agent implements CountingAgent {
  reusedSockets = 0;
  override reuseSocket(socket: Duplex, request: http.ClientRequest): void {
    this.reusedSockets += 1;
    super.reuseSocket(socket, request);
  }
}

/** The TLS options an https.Agent from client-node carries; two agents with equal ones are interchangeable. */
const tlsFields = ["ca", "cert", "key", "pfx", "passphrase", "rejectUnauthorized", "servername"] as const;

function identityKey(options: https.AgentOptions): string {
  return tlsFields
    .map((field) => {
      const value: unknown = options[field];
      if (value === undefined) return "";
      const items = Array.isArray(value) ? (value as unknown[]) : [value];
      return items.map((item) => (Buffer.isBuffer(item) ? item.toString("base64") : String(item))).join(",");
    })
    .join("|");
}

/**
 * Methods whose request, sent twice, leaves the server as sending it once (RFC 9110, 9.2.2). A DELETE
 * the engine sends carries the pod's uid as a precondition, so a replay can only be refused.
 */
const idempotentMethods: ReadonlySet<HttpMethod> = new Set([
  HttpMethod.GET,
  HttpMethod.HEAD,
  HttpMethod.OPTIONS,
  HttpMethod.PUT,
  HttpMethod.DELETE,
]);

/** What a connection the server closed under us fails with, before any byte of the answer arrived. */
const droppedConnectionCodes: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE"]);

function droppedConnection(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && droppedConnectionCodes.has(code);
}

/** Closes the agent's idle sockets: after one was found dead (an API server restart) the rest are suspect. */
function closeIdleSockets(agent: http.Agent): void {
  for (const sockets of Object.values(agent.freeSockets))
    for (const socket of sockets ?? []) socket.destroy();
}

/**
 * One kept-alive agent per protocol and TLS identity. An agent client-node made for a proxy is left as it
 * is (a proxy connection is not ours to pool), and so is any agent of a class we do not know.
 */
class KeptAliveAgents {
  private readonly agents = new Map<string, CountingAgent>();

  for(request: RequestContext): CountingAgent | undefined {
    const given = request.getAgent();
    if (given?.constructor === https.Agent) return this.shared("https", given.options);
    if (given?.constructor === http.Agent || (given === undefined && request.getUrl().startsWith("http:")))
      return this.shared("http", {});
    return undefined;
  }

  private shared(protocol: "http" | "https", options: https.AgentOptions): CountingAgent {
    const key = `${protocol}:${identityKey(options)}`;
    let agent = this.agents.get(key);
    if (agent === undefined) {
      const kept = { keepAlive: true, timeout: idleSocketMs };
      agent =
        protocol === "https"
          ? new CountingHttpsAgent({ ...pick(options), ...kept })
          : new CountingHttpAgent(kept);
      this.agents.set(key, agent);
    }
    return agent;
  }
}

function pick(options: https.AgentOptions): https.AgentOptions {
  const picked: Record<string, unknown> = {};
  for (const field of tlsFields) if (options[field] !== undefined) picked[field] = options[field];
  return picked;
}

/**
 * client-node's fetch-based HTTP library over kept-alive connections. A request that fails on a reused
 * connection before any answer (the server closed it: an API server restart, an idle timeout racing our
 * send) is sent once more on a fresh connection, when sending it twice is harmless: an idempotent method
 * (GET, HEAD, OPTIONS, PUT, DELETE). A POST or PATCH is not replayed: the server may have acted on it
 * before the connection died, and the caller's own retry (a reconcile's requeue) decides. Go's net/http,
 * under client-go, draws the same line. A failure on a fresh connection is the caller's to see.
 */
export function keptAliveHttpLibrary(): HttpLibrary {
  const fetchLibrary = new IsomorphicFetchHttpLibrary();
  const agents = new KeptAliveAgents();
  const send = (request: RequestContext): Promise<ResponseContext> => fetchLibrary.send(request).toPromise();
  return wrapHttpLibrary({
    send: async (request: RequestContext): Promise<ResponseContext> => {
      const agent = agents.for(request);
      if (agent === undefined) return send(request);
      request.setAgent(agent);
      const reusedBefore = agent.reusedSockets;
      // node-fetch hands the request to the agent synchronously, so the count says whether this one reused.
      const answer = send(request);
      const reused = agent.reusedSockets > reusedBefore;
      try {
        return await answer;
      } catch (error: unknown) {
        if (!reused || !droppedConnection(error) || !idempotentMethods.has(request.getHttpMethod()))
          throw error;
        closeIdleSockets(agent);
        return send(request);
      }
    },
  });
}

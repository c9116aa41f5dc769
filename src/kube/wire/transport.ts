import type { V1Pod } from "@kubernetes/client-node";
import http from "node:http";
import https from "node:https";
import type { Clock } from "../../core/clock.js";
import { backoffFromResponse, TokenBucket } from "../../core/limits/token-bucket.js";
import { KubeApiError } from "../api-errors.js";
import { apiVerb, unobservedRequests, type ApiRequestObserver } from "../api-request-observer.js";
import { currentFlow } from "../request-flow.js";
import type { ApiRateLimits, RequestCounter } from "../rate-limits.js";
import { trimPod } from "../trimmed.js";
import { decodePodList, protobufAccept, protobufMediaType, statusJsonOf } from "./protobuf.js";

/**
 * HTTP to the API server over node:https, for the pod verbs' cold start (issue 14, ADR 0024): what
 * client-node's HTTP layer does for them (TLS, a bearer token or a client certificate, JSON) without the
 * 0.1-0.2 s its module graph costs to load. The same throttle as the typed clients (kubectl's token
 * bucket, 429 and Retry-After honoured), the same request counter and observer.
 */

/** Where the API server is and who we are to it, as a kubeconfig says (wire/kubeconfig.ts reads it). */
export interface WireTarget {
  /** https://host:port, with any path prefix the kubeconfig's server URL has. */
  readonly server: URL;
  /** PEM of the CAs to trust; the system's when undefined. */
  readonly ca?: Buffer;
  readonly insecureSkipTlsVerify: boolean;
  /** A client certificate and its key (PEM). */
  readonly clientCertificate?: { readonly cert: Buffer; readonly key: Buffer };
  /** The value of the Authorization header: `Bearer ...` or `Basic ...`. */
  readonly authorization?: string;
}

export interface WireAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as UTF-8 text; "" when it came in protobuf (then `bytes` holds it). */
  readonly text: string;
  /** The body of a protobuf answer (content type application/vnd.kubernetes.protobuf). */
  readonly bytes?: Buffer;
}

export interface WireRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** The path and query, e.g. /api/v1/namespaces/shop/pods?labelSelector=app%3Dweb. */
  readonly path: string;
  readonly body?: unknown;
  /** The body's media type; application/json when there is a body and none is given. */
  readonly contentType?: string;
  /** The Accept header; application/json when none is given. */
  readonly accept?: string;
}

/** Sends one request and reads its whole answer; the transport's only contact with the network. */
export type WireExchange = (request: WireRequest) => Promise<WireAnswer>;

export class WireTransport {
  private readonly bucket: TokenBucket;

  constructor(
    private readonly exchange: WireExchange,
    private readonly limits: ApiRateLimits,
    private readonly clock: Clock,
    readonly counter: RequestCounter,
    private readonly observer: ApiRequestObserver = unobservedRequests,
  ) {
    this.bucket = new TokenBucket(limits, clock);
  }

  /** The answer's JSON on success (2xx); a KubeApiError with the server's Status otherwise. */
  async json<T>(request: WireRequest): Promise<T> {
    const answer = await this.send(request);
    if (answer.status < 200 || answer.status > 299) {
      throw new KubeApiError(
        answer.status,
        `${request.method} ${request.path}: HTTP ${answer.status}`,
        answer.text,
        answer.headers,
      );
    }
    return JSON.parse(answer.text) as T;
  }

  /**
   * The pods of a pod collection (e.g. /api/v1/namespaces/shop/pods), trimmed to what the engine reads
   * (kube/trimmed.ts): asked for in protobuf, which the API server encodes and this process decodes in a
   * fraction of JSON's time (ADR 0035); a server that answers JSON is read as JSON and trimmed the same
   * way. A refusal is a KubeApiError whose body is the Status as JSON, as for every other call.
   */
  async pods(path: string): Promise<V1Pod[]> {
    const request: WireRequest = { method: "GET", path, accept: protobufAccept };
    const answer = await this.send(request);
    if (answer.status < 200 || answer.status > 299) {
      throw new KubeApiError(
        answer.status,
        `${request.method} ${request.path}: HTTP ${answer.status}`,
        answer.bytes === undefined ? answer.text : statusJsonOf(answer.bytes),
        answer.headers,
      );
    }
    if (answer.bytes !== undefined) return decodePodList(answer.bytes);
    return ((JSON.parse(answer.text) as { items?: V1Pod[] | null }).items ?? []).map(trimPod);
  }

  /** One request through the throttle, retried while the server asks to wait (429, or 5xx with Retry-After). */
  async send(request: WireRequest): Promise<WireAnswer> {
    for (let attempt = 0; ; attempt += 1) {
      await this.bucket.acquire(currentFlow());
      this.counter.requests += 1;
      const answer = await this.observed(request);
      const delay = backoffFromResponse(answer.status, answer.headers["retry-after"], this.clock.now());
      if (delay === undefined || attempt >= this.limits.maxRetries) return answer;
      await this.clock.sleep(delay);
    }
  }

  private async observed(request: WireRequest): Promise<WireAnswer> {
    const verb = apiVerb(request.method, request.path);
    const sentAt = this.clock.now();
    const report = (code: number | undefined): void => {
      this.observer.requestEnded({ verb, code, seconds: Math.max(0, this.clock.now() - sentAt) / 1000 });
    };
    try {
      const answer = await this.exchange(request);
      report(answer.status);
      return answer;
    } catch (error: unknown) {
      report(undefined);
      throw error;
    }
  }
}

/** Requests to the target over one kept-alive agent with its TLS identity: the exchange's, and watches'. */
export interface WireConnection {
  /** The options of one request: the target's host, port and path prefix, its credential, our agent. */
  options(method: string, path: string, headers?: Readonly<Record<string, string>>): https.RequestOptions;
}

/**
 * One kept-alive agent with the target's TLS identity, so the requests of a shot share one TCP and TLS
 * handshake. Node unreferences an idle kept-alive socket, so a finished command exits without closing it.
 */
export function wireConnection(target: WireTarget): WireConnection {
  const agent = new https.Agent({
    keepAlive: true,
    ...(target.ca === undefined ? {} : { ca: target.ca }),
    ...(target.clientCertificate ?? {}),
    rejectUnauthorized: !target.insecureSkipTlsVerify,
  });
  const prefix = target.server.pathname.replace(/\/+$/, "");
  return {
    options: (method, path, headers = {}) => ({
      protocol: "https:",
      hostname: target.server.hostname.replace(/^\[|\]$/g, ""),
      port: target.server.port === "" ? 443 : Number(target.server.port),
      path: `${prefix}${path}`,
      method,
      headers: {
        Accept: "application/json",
        ...(target.authorization === undefined ? {} : { Authorization: target.authorization }),
        ...headers,
      },
      agent,
    }),
  };
}

/**
 * The exchange over the connection. No request is replayed after a dropped connection: the pod verbs
 * live for one shot on fresh connections, and the engine's own error handling decides.
 */
export function httpsExchange(connection: WireConnection): WireExchange {
  return (request) =>
    new Promise<WireAnswer>((resolve, reject) => {
      const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
      const headers: Record<string, string> =
        payload === undefined
          ? {}
          : {
              "Content-Type": request.contentType ?? "application/json",
              "Content-Length": String(Buffer.byteLength(payload)),
            };
      if (request.accept !== undefined) headers.Accept = request.accept;
      const options = connection.options(request.method, request.path, headers);
      const send = options.protocol === "http:" ? http.request : https.request;
      const outgoing = send(options, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("error", reject);
        incoming.on("end", () => {
          const body = Buffer.concat(chunks);
          const status = incoming.statusCode ?? 0;
          const headers = flatHeaders(incoming.headers);
          resolve(
            isProtobuf(headers["content-type"])
              ? { status, headers, text: "", bytes: body }
              : { status, headers, text: body.toString("utf8") },
          );
        });
      });
      outgoing.on("error", reject);
      outgoing.end(payload);
    });
}

function isProtobuf(contentType: string | undefined): boolean {
  return contentType?.split(";")[0]?.trim().toLowerCase() === protobufMediaType;
}

function flatHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

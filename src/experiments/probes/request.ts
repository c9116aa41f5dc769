import { request as httpRequest } from "node:http";
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

/**
 * One HTTP exchange for a probe, on node:http rather than fetch: socket errors arrive with their errno
 * code (ECONNREFUSED, ECONNRESET) instead of wrapped in undici's "fetch failed", and there is no pool.
 *
 * Keep-alive policy: every request opens its own connection (`agent: false`, `Connection: close`).
 * A pooled connection would hide failures a new client sees: a server that stops accepting would keep
 * answering on sockets opened earlier, and a proxy would keep routing to a backend chosen when the
 * socket opened. It would also invent failures: a pooled socket the server closed while idle fails the
 * next request with ECONNRESET. At the probes' rates (at most 50 Hz) a fresh loopback connection per
 * request costs nothing that matters.
 */

export interface ProbeRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  /** Keep at most this many bytes of the answer's body; the rest is read and dropped. */
  readonly keepBodyBytes: number;
}

export type ProbeOutcome =
  | { readonly status: number; readonly body: string; readonly latencyMs: number }
  | { readonly error: string; readonly latencyMs: number };

/**
 * A short failure kind for reports to group on: the socket's errno code, "timeout" when the per-request
 * timeout fired, "reset" for an answer cut off without an error code.
 */
export function errorKind(error: unknown, timedOut: boolean): string {
  if (timedOut) return "timeout";
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string")
    return error.code;
  return "error";
}

/** Sends the request and settles with its outcome; never rejects. */
export function send(probe: ProbeRequest): Promise<ProbeOutcome> {
  const signal = AbortSignal.timeout(probe.timeoutMs);
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  const headers: OutgoingHttpHeaders = { ...probe.headers, connection: "close" };
  if (probe.body !== undefined) headers["content-length"] = Buffer.byteLength(probe.body);
  const request = probe.url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<ProbeOutcome>((resolve) => {
    const fail = (error: unknown): void => {
      resolve({ error: errorKind(error, signal.aborted), latencyMs: elapsed() });
    };
    const sent = request(probe.url, { method: probe.method, headers, agent: false, signal }, (response) => {
      readBody(response, probe.keepBodyBytes).then((body) => {
        resolve({ status: response.statusCode ?? 0, body, latencyMs: elapsed() });
      }, fail);
    });
    sent.on("error", fail);
    sent.end(probe.body);
  });
}

/** An answer that ended before its last byte, with no socket error to name it. */
class CutOffError extends Error {
  readonly code = "reset";
  constructor() {
    super("the answer was cut off");
  }
}

/** The answer's body, up to `keep` bytes; rejects when the answer is cut off before its end. */
function readBody(response: IncomingMessage, keep: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    response.on("data", (chunk: Buffer) => {
      if (kept >= keep) return;
      chunks.push(chunk);
      kept += chunk.length;
    });
    response.on("error", reject);
    response.on("close", () => {
      // A connection cut mid-answer may end with neither "end" nor "error".
      if (!response.complete) reject(new CutOffError());
    });
    response.on("end", () => {
      resolve(Buffer.concat(chunks).toString("utf8").slice(0, keep));
    });
  });
}

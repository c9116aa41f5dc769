import {
  wrapHttpLibrary,
  type HttpLibrary,
  type RequestContext,
  type ResponseContext,
} from "@kubernetes/client-node";
import type { Clock } from "../core/clock.js";
import { keptAliveHttpLibrary } from "./kept-alive-http.js";
import { apiVerb, unobservedRequests, type ApiRequestObserver } from "./api-request-observer.js";
import { backoffFromResponse, TokenBucket } from "../core/limits/token-bucket.js";
import type { ApiRateLimits, RequestCounter } from "./rate-limits.js";
import { currentFlow } from "./request-flow.js";

export { defaultApiRateLimits, type ApiRateLimits, type RequestCounter } from "./rate-limits.js";

/**
 * The HTTP layer under every typed API call: a token bucket throttles requests client-side, fairly
 * between flows (the reconcile a request comes from, kube/request-flow.ts), and an
 * answer of 429 (or a 5xx carrying Retry-After) is retried after the delay the server asked for. Watches
 * do not pass here: they are single long requests. Each exchange, retries included, is reported to
 * `observer` with its verb, status code and latency.
 */
export function throttledHttpLibrary(
  limits: ApiRateLimits,
  clock: Clock,
  counter: RequestCounter,
  observer: ApiRequestObserver = unobservedRequests,
): HttpLibrary {
  // One set of kept-alive connections per client, not a TLS handshake per request (kept-alive-http.ts).
  const inner = keptAliveHttpLibrary();
  const bucket = new TokenBucket(limits, clock);
  const exchange = observedExchange(inner, clock, observer);
  return wrapHttpLibrary({
    send: async (request: RequestContext): Promise<ResponseContext> => {
      for (let attempt = 0; ; attempt += 1) {
        await bucket.acquire(currentFlow());
        counter.requests += 1;
        const response = await exchange(request);
        const delay = backoffFromResponse(
          response.httpStatusCode,
          response.headers["retry-after"],
          clock.now(),
        );
        if (delay === undefined || attempt >= limits.maxRetries) return response;
        await clock.sleep(delay);
      }
    },
  });
}

/** One request through `inner`, timed from sending to the answer, and reported whether it answered or threw. */
function observedExchange(
  inner: HttpLibrary,
  clock: Clock,
  observer: ApiRequestObserver,
): (request: RequestContext) => Promise<ResponseContext> {
  return async (request) => {
    const verb = apiVerb(request.getHttpMethod(), request.getUrl());
    const sentAt = clock.now();
    const report = (code: number | undefined): void => {
      observer.requestEnded({ verb, code, seconds: Math.max(0, clock.now() - sentAt) / 1000 });
    };
    try {
      const response = await inner.send(request).toPromise();
      report(response.httpStatusCode);
      return response;
    } catch (error: unknown) {
      report(undefined);
      throw error;
    }
  };
}

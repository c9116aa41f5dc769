import type { TokenBucketOptions } from "../core/limits/token-bucket.js";

/** Client-side limits and counts of API requests, shared by client-node's HTTP layer and the wire client. */

export interface ApiRateLimits extends TokenBucketOptions {
  /** How often one request is retried after a 429 (or a 5xx with Retry-After) before giving up. */
  readonly maxRetries: number;
}

/** kubectl's defaults: 50 requests per second sustained, bursts of 300. */
export const defaultApiRateLimits: ApiRateLimits = { qps: 50, burst: 300, maxRetries: 3 };

/** Counts the requests sent, retries included: the benchmark reports API requests per shot. */
export interface RequestCounter {
  requests: number;
}

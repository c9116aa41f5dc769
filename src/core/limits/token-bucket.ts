import type { Clock } from "../clock.js";

export interface TokenBucketOptions {
  /** Tokens added per second: the sustained request rate. */
  readonly qps: number;
  /** Most tokens held at once: how many requests may go out back to back after a quiet spell. */
  readonly burst: number;
}

/**
 * A client-side rate limiter for API requests, like client-go's QPS/Burst: the bucket starts full, refills
 * continuously, and each request takes one token. Each acquire reserves its token at once, so waiters are
 * served in call order and a waiter never needs to wake up to check again.
 */
export class TokenBucket {
  private readonly qps: number;
  private readonly burst: number;
  /** May go negative: that many tokens are promised to callers still sleeping. */
  private tokens: number;
  private updatedAt: number;

  constructor(
    options: TokenBucketOptions,
    private readonly clock: Clock,
  ) {
    if (!(Number.isFinite(options.qps) && options.qps > 0)) {
      throw new RangeError(`qps must be a positive number, got ${options.qps}`);
    }
    if (!(Number.isInteger(options.burst) && options.burst >= 1)) {
      throw new RangeError(`burst must be a whole number of at least 1, got ${options.burst}`);
    }
    this.qps = options.qps;
    this.burst = options.burst;
    this.tokens = options.burst;
    this.updatedAt = clock.now();
  }

  /** Resolves when the caller may send one request. */
  async acquire(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await this.clock.sleep(wait);
  }

  /** Takes a token if one is free now, without waiting or jumping ahead of callers already waiting. */
  tryAcquire(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Tokens free now (negative while callers are waiting). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes a token, now or in the future, and returns how many ms until it is ours. */
  private reserve(): number {
    this.refill();
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    return Math.ceil((-this.tokens / this.qps) * 1000);
  }

  private refill(): void {
    const now = this.clock.now();
    // A clock stepping backwards must not mint tokens, nor take them away.
    if (now <= this.updatedAt) return;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.qps);
    this.updatedAt = now;
  }
}

/** Used for a 429 without a usable Retry-After: the server asked us to slow down, but not by how much. */
export const defaultThrottleDelayMs = 1000;

/**
 * How long to wait before retrying a request the server throttled, in ms; undefined when the response does
 * not ask for a wait. Like client-go, Retry-After is honoured on 429 and on 5xx; a 429 without one still
 * waits `defaultThrottleDelayMs`. Retry-After is delay-seconds or an HTTP-date, which is compared with
 * `now` (epoch ms); a date in the past means retry at once.
 */
export function backoffFromResponse(
  status: number,
  retryAfterHeader: string | null | undefined,
  now: number,
): number | undefined {
  if (status !== 429 && status < 500) return undefined;
  const delay = retryAfterHeader == null ? undefined : parseRetryAfter(retryAfterHeader, now);
  if (delay !== undefined) return delay;
  return status === 429 ? defaultThrottleDelayMs : undefined;
}

/** The delay a Retry-After value asks for, in ms, or undefined when it is neither form. */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date always names a month or weekday; without letters, Date.parse would accept "1.5" as 2001.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

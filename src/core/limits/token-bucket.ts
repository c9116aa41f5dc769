import type { Clock } from "../clock.js";

export interface TokenBucketOptions {
  /** Tokens added per second: the sustained request rate. */
  readonly qps: number;
  /** Most tokens held at once: how many requests may go out back to back after a quiet spell. */
  readonly burst: number;
}

/** The flow of requests that carry no flow of their own (see TokenBucket). */
export const defaultFlow = "default";

/**
 * A client-side rate limiter for API requests, like client-go's QPS/Burst: the bucket starts full, refills
 * continuously, and each request takes one token. Tokens are shared fairly between flows, as the API
 * server's priority and fairness shares its seats: callers that must wait queue per flow (a flow is one
 * chaos resource's reconcile, say), and each token that comes goes to the next flow in turn, round robin,
 * to that flow's oldest waiter. So a flow with thousands of requests queued (a mode-all PodChaos) delays
 * another flow's next request by one token per busy flow, not by its whole queue. Within a flow, requests
 * go in call order. The total rate and burst are the same as one shared queue's.
 */
export class TokenBucket {
  private readonly qps: number;
  private readonly burst: number;
  private tokens: number;
  private updatedAt: number;
  /** Waiters per flow, oldest first; a flow is here only while it has waiters. */
  private readonly queues = new Map<string, (() => void)[]>();
  /** Flows with waiters, in the order they are served next. */
  private turns: string[] = [];
  private waiting = 0;
  private dispatching = false;

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

  /** Resolves when the caller may send one request; `flow` names whose turn it waits for. */
  acquire(flow: string = defaultFlow): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => {
      this.enqueue(flow, resolve);
      if (!this.dispatching) void this.dispatch();
    });
  }

  /** Takes a token if one is free now, without waiting or jumping ahead of callers already waiting. */
  tryAcquire(): boolean {
    this.refill();
    if (this.waiting > 0 || this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Tokens free now, less the callers waiting (negative while callers are waiting). */
  available(): number {
    this.refill();
    return this.tokens - this.waiting;
  }

  private enqueue(flow: string, wake: () => void): void {
    const queue = this.queues.get(flow);
    if (queue === undefined) {
      this.queues.set(flow, [wake]);
      this.turns.push(flow);
    } else queue.push(wake);
    this.waiting += 1;
  }

  /** One loop runs while anyone waits: sleeps until the next token, and hands it to the next flow's turn. */
  private async dispatch(): Promise<void> {
    this.dispatching = true;
    try {
      while (this.waiting > 0) {
        this.refill();
        if (this.tokens >= 1) this.serveNext();
        else await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.qps) * 1000));
      }
    } finally {
      this.dispatching = false;
    }
  }

  /** The flow whose turn it is gets the token; it goes to the back of the turns if it still waits. */
  private serveNext(): void {
    const [flow, ...rest] = this.turns;
    const queue = flow === undefined ? undefined : this.queues.get(flow);
    const wake = queue?.shift();
    if (flow === undefined || queue === undefined || wake === undefined) return;
    this.tokens -= 1;
    this.waiting -= 1;
    if (queue.length === 0) {
      this.queues.delete(flow);
      this.turns = rest;
    } else this.turns = [...rest, flow];
    wake();
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

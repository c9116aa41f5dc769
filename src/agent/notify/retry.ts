import type { Clock } from "../../core/clock.js";
import { Duration } from "../../core/duration.js";
import { JitteredBackoff } from "../../core/limits/jittered-backoff.js";
import type { AttemptResult } from "./attempt.js";
import type { DeliveryPolicy } from "./config.js";

/**
 * The attempts at one notification: again after a retryable failure, waiting the Retry-After the
 * receiver asked for or else an exponential backoff with full jitter (core/limits/jittered-backoff.ts),
 * until it is delivered, refused, out of attempts, or the notifier stops.
 */

export type DeliveryOutcome =
  | { readonly outcome: "delivered"; readonly attempts: number; readonly status: number }
  | {
      readonly outcome: "failed";
      readonly attempts: number;
      readonly problem: string;
      readonly status?: number;
    }
  /** The notifier stopped (its drain deadline passed) before the notification was delivered. */
  | { readonly outcome: "stopped"; readonly attempts: number };

export interface RetryOptions {
  readonly clock: Clock;
  readonly policy: DeliveryPolicy;
  readonly random: () => number;
  readonly stop: AbortSignal;
  /** Called before each wait for another attempt, with the failed attempt's number (from 1). */
  readonly retrying: (
    result: Extract<AttemptResult, { outcome: "retry" }>,
    delayMs: number,
    attempt: number,
  ) => void;
}

export async function deliverWithRetries(
  attemptOnce: () => Promise<AttemptResult>,
  options: RetryOptions,
): Promise<DeliveryOutcome> {
  const backoff = new JitteredBackoff(
    {
      min: Duration.ofMilliseconds(options.policy.backoffMinMs),
      max: Duration.ofMilliseconds(options.policy.backoffMaxMs),
    },
    options.random,
  );
  for (let attempt = 1; ; attempt += 1) {
    if (stopped(options)) return { outcome: "stopped", attempts: attempt - 1 };
    const result = await attemptOnce();
    if (stopped(options) && result.outcome !== "delivered") return { outcome: "stopped", attempts: attempt };
    if (result.outcome !== "retry" || attempt >= options.policy.attempts)
      return finalOutcome(result, attempt);
    const delay = result.retryAfterMs ?? backoff.next();
    if (delay > options.policy.backoffMaxMs) return tooLong(result, attempt, delay, options.policy);
    options.retrying(result, delay, attempt);
    await options.clock.sleep(delay, options.stop);
  }
}

/** The end of the delivery after `result`, its last attempt. */
function finalOutcome(result: AttemptResult, attempt: number): DeliveryOutcome {
  if (result.outcome === "delivered")
    return { outcome: "delivered", attempts: attempt, status: result.status };
  const problem =
    result.outcome === "retry" ? `${result.problem} (gave up after ${attempt} attempts)` : result.problem;
  return { outcome: "failed", attempts: attempt, problem, ...statusOf(result) };
}

/**
 * A receiver asking for a longer wait than backoffMax is not retried early against its word, nor does it
 * hold the sink's queue for that long: the notification is given up.
 */
function tooLong(
  result: Extract<AttemptResult, { outcome: "retry" }>,
  attempt: number,
  delay: number,
  policy: DeliveryPolicy,
): DeliveryOutcome {
  const problem = `${result.problem} (Retry-After asked for ${delay} ms, more than backoffMax ${policy.backoffMaxMs} ms)`;
  return { outcome: "failed", attempts: attempt, problem, ...statusOf(result) };
}

function statusOf(result: Exclude<AttemptResult, { outcome: "delivered" }>): { status?: number } {
  return result.status === undefined ? {} : { status: result.status };
}

/** A function, not a property read: the signal changes while the loop awaits. */
function stopped(options: RetryOptions): boolean {
  return options.stop.aborted;
}

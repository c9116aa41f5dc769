import type { Duration } from "../duration.js";

export interface BackoffOptions {
  /** No delay is shorter: the first retry already waits at least this long. */
  readonly min: Duration;
  /** No delay is longer, however many attempts failed. */
  readonly max: Duration;
  /** How much the ceiling grows per failed attempt. Default 2. */
  readonly factor?: number;
}

/**
 * Exponential backoff with full jitter: the n-th delay (from 0) is drawn uniformly between min and
 * min(max, min * factor^(n+1)). Drawing over the whole range, rather than adding a little noise to a fixed
 * step, is what keeps many clients that failed together from retrying together.
 */
export class JitteredBackoff {
  private attempt = 0;
  private readonly factor: number;

  /** `random` returns a number in [0, 1), like Math.random; tests pass a fixed sequence. */
  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number,
  ) {
    if (options.min.milliseconds <= 0) throw new RangeError("min must be longer than 0");
    if (options.max.milliseconds < options.min.milliseconds)
      throw new RangeError("max must not be shorter than min");
    this.factor = options.factor ?? 2;
    if (!(Number.isFinite(this.factor) && this.factor >= 1)) {
      throw new RangeError(`factor must be a number of at least 1, got ${this.factor}`);
    }
  }

  /** The delay before the next retry, in whole ms; each call counts one more failed attempt. */
  next(): number {
    const min = this.options.min.milliseconds;
    const ceiling = this.ceiling(this.attempt);
    this.attempt += 1;
    const draw = Math.min(Math.max(this.random(), 0), 1);
    return Math.floor(min + draw * (ceiling - min));
  }

  /** After a success: the next failure starts again from the smallest delays. */
  reset(): void {
    this.attempt = 0;
  }

  /** Failed attempts counted since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  private ceiling(attempt: number): number {
    // Past the cap, factor ** attempt may reach Infinity; min() still answers max, since min > 0.
    return Math.min(
      this.options.max.milliseconds,
      this.options.min.milliseconds * this.factor ** (attempt + 1),
    );
  }
}

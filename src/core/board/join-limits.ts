import type { Clock } from "../clock.js";
import { Duration } from "../duration.js";
import { TokenBucket, type Rate } from "./limits.js";

/**
 * Joining is the one action anyone may try without a token (POST /api/join takes the game's code), so it
 * is bounded too: per client address, a token bucket (by default 5 joins per 10 s, at most 5 at once), so
 * a script cannot walk the billion codes or fill the game with fake players, while a room of phones
 * behind distinct addresses joins at once. A join over it is refused at once with 429 and a Retry-After,
 * as a shot is; every attempt counts, a wrong code too. The cap on players per game is the game's rule
 * (`limits.players`), checked by the board.
 */

export interface JoinLimits {
  /** Joins per client address. */
  readonly perAddress: Rate;
}

export const defaultJoinLimits: JoinLimits = {
  perAddress: { shots: 5, per: Duration.ofMilliseconds(10_000) },
};

/** What a refused join is told, word for word. */
export const joinRefusalReason = "too many joins from your address: wait a moment";

export interface JoinRefusal {
  readonly admitted: false;
  readonly limit: "join";
  readonly status: 429;
  /** Whole seconds, at least 1: the Retry-After header. */
  readonly retryAfterSeconds: number;
  readonly reason: typeof joinRefusalReason;
  readonly detail: string;
}

export type JoinAdmission = { readonly admitted: true } | JoinRefusal;

/** Address buckets kept before full ones (which hold nothing a new bucket would not) are forgotten. */
const bucketsBeforeSweep = 1_000;
/** At most this many addresses are tracked: past it the oldest are forgotten (they start full again). */
const maxTrackedAddresses = 20_000;

export class JoinGate {
  private readonly buckets = new Map<string, TokenBucket>();
  /** The next sweep comes at this many addresses: doubled after each, so a flood costs O(1) per join. */
  private sweepAt = bucketsBeforeSweep;

  constructor(
    private readonly limits: JoinLimits,
    private readonly clock: Pick<Clock, "now">,
  ) {
    const { shots, per } = limits.perAddress;
    if (!Number.isInteger(shots) || shots < 1 || per.milliseconds < 1) {
      throw new RangeError(`join limit: ${shots} per ${per.toString()} is not a rate`);
    }
  }

  /** Admits one join attempt from `address`, taking it from the address's bucket, or refuses it. */
  admit(address: string): JoinAdmission {
    const now = this.clock.now();
    const bucket = this.bucketOf(address, now);
    const waitMs = bucket.msUntilShot();
    if (waitMs === 0) {
      bucket.take();
      return { admitted: true };
    }
    const { shots, per } = this.limits.perAddress;
    return {
      admitted: false,
      limit: "join",
      status: 429,
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
      reason: joinRefusalReason,
      detail: `${shots} joins per ${per.toString()} per address; next in ${waitMs} ms`,
    };
  }

  /** Addresses tracked now: bounded, since full buckets are forgotten once there are many. */
  get trackedAddresses(): number {
    return this.buckets.size;
  }

  private bucketOf(address: string, now: number): TokenBucket {
    const known = this.buckets.get(address);
    if (known !== undefined) {
      known.refill(now);
      return known;
    }
    if (this.buckets.size >= this.sweepAt) {
      this.sweep(now);
      this.sweepAt = Math.max(bucketsBeforeSweep, 2 * this.buckets.size);
    }
    for (const oldest of this.buckets.keys()) {
      if (this.buckets.size < maxTrackedAddresses) break;
      this.buckets.delete(oldest);
    }
    const bucket = new TokenBucket(this.limits.perAddress, now);
    this.buckets.set(address, bucket);
    return bucket;
  }

  private sweep(now: number): void {
    for (const [address, bucket] of this.buckets) {
      bucket.refill(now);
      if (bucket.full()) this.buckets.delete(address);
    }
  }
}

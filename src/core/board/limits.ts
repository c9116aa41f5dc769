import type { Clock } from "../clock.js";
import { Duration } from "../duration.js";

/**
 * Shot admission for the board: 100 people pressing "fire" at once must not sink the fleet. Three limits,
 * checked together for each shot, and a shot over any of them is refused at once, never queued: the
 * player's screen says why and when to try again (a 429 with Retry-After).
 *
 * - per player, a token bucket: `player.shots` shots per `player.per`, at most `player.shots` at once;
 * - per game, a budget: at most `game.shots` shots at ships in any window of `game.per` (a sliding
 *   window, so the cluster never sees more than that in any such window, whatever the timing);
 * - per ship, across all players: at most floor(healthy / 2) of its pods down at once, healthy being its
 *   Ready pods plus those held down; a ship with one Ready pod cannot be hit. `unsafe` lifts this cap, and
 *   only it, so the operator can let a ship be sunk.
 *
 * A shot into water costs the player's bucket only: it reaches no API, so it spends nothing of the
 * game's budget. Every check is made before anything is taken, so a refused shot costs nothing.
 * All arithmetic is in whole numbers (ms and token fractions scaled by the period), so the count
 * admitted under any burst is exact (ADR 0019).
 */

export interface Rate {
  readonly shots: number;
  readonly per: Duration;
}

export interface BoardLimits {
  readonly player: Rate;
  readonly game: Rate;
  /** Lifts the per-ship cap: a ship can be sunk. */
  readonly unsafe: boolean;
}

export const defaultBoardLimits: BoardLimits = {
  player: { shots: 1, per: Duration.ofMilliseconds(3_000) },
  game: { shots: 3, per: Duration.ofMilliseconds(1_000) },
  unsafe: false,
};

/** What the player is told, word for word. */
export const refusalReasons = {
  player: "reloading",
  game: "the fleet's budget is spent",
  ship: "that ship is already listing",
} as const;

export type LimitName = keyof typeof refusalReasons;

export interface ShotRefusal {
  readonly admitted: false;
  readonly limit: LimitName;
  /** The HTTP status to answer with. */
  readonly status: 429;
  /** Whole seconds, at least 1: the Retry-After header. */
  readonly retryAfterSeconds: number;
  readonly reason: (typeof refusalReasons)[LimitName];
  /** For the operator's log and the audit: which numbers refused it. */
  readonly detail: string;
  /** Epoch ms the gate decided at (its clock's reading). */
  readonly at: number;
}

export interface ShotAdmitted {
  readonly admitted: true;
  /** Epoch ms the gate admitted it at: the time its limits charged, so the shot's time. */
  readonly at: number;
  /** Gives the pod back to its ship's cap (its cell is repaired, or the shot failed); idempotent. */
  readonly release: () => void;
}

export type ShotAdmission = ShotAdmitted | ShotRefusal;

/**
 * The ship a shot aims at, as the sea (sea.ts) sees it now, and what the shot takes down (ADR 0028): a
 * pod (torpedo, mine: `podUid`, held until its cell is repaired), the ship's rollout (anchor: `squeeze`,
 * one slot of the cap held until the squeeze is lifted), or nothing (fog: neither, so only the budget and
 * the player's bucket are charged).
 */
export interface ShipTarget {
  /** Unique across the game: namespace/Kind/name. */
  readonly key: string;
  /** The pod the shot would delete. */
  readonly podUid?: string;
  /** The shot squeezes the ship's workload, which rolls its pods: it holds one slot of the ship's cap. */
  readonly squeeze?: boolean;
  /** The ship's pods that are Ready and not terminating (SeaState.readyPodUids). */
  readonly readyPodUids: readonly string[];
}

export interface ShotRequest {
  readonly playerId: string;
  /** Undefined for a shot into water. */
  readonly ship?: ShipTarget;
}

/** How long a ship-cap refusal asks the player to wait: a pod's repair is usually seconds away. */
export const shipRetryAfterSeconds = 1;
/** Player buckets kept before full ones (which hold nothing a new bucket would not) are forgotten. */
const bucketsBeforeSweep = 1_000;

export class ShotGate {
  private readonly buckets = new Map<string, TokenBucket>();
  /** Times of the game's shots at ships still inside the window, oldest first. */
  private window: number[] = [];
  /** Per ship, the uids of the pods held down. */
  private readonly down = new Map<string, Set<string>>();
  /** Ships whose workload is squeezed (an anchor): each holds one slot of its ship's cap. */
  private readonly squeezed = new Set<string>();

  constructor(
    private readonly limits: BoardLimits,
    private readonly clock: Pick<Clock, "now">,
  ) {
    requireRate("player", limits.player);
    requireRate("game", limits.game);
  }

  /** Admits the shot, taking what it costs from every limit, or refuses it having taken nothing. */
  admit(request: ShotRequest): ShotAdmission {
    const now = this.clock.now();
    const bucket = this.bucketOf(request.playerId, now);
    const refusal =
      this.playerRefusal(bucket, now) ??
      (request.ship === undefined
        ? undefined
        : (this.shipRefusal(request.ship, now) ?? this.gameRefusal(now)));
    if (refusal !== undefined) return refusal;
    bucket.take();
    if (request.ship === undefined) return { admitted: true, at: now, release: () => undefined };
    this.window.push(now);
    return this.hold(request.ship, now);
  }

  /** The pod's cell is repaired (or it was never really hit): its ship may take another shot. */
  recovered(shipKey: string, podUid: string): void {
    const held = this.down.get(shipKey);
    held?.delete(podUid);
    if (held?.size === 0) this.down.delete(shipKey);
  }

  /** Player buckets kept now: bounded, since full ones are forgotten once there are many. */
  get trackedPlayers(): number {
    return this.buckets.size;
  }

  /** Pods of the ship held down now, and its squeeze when it is anchored. */
  downCount(shipKey: string): number {
    return (this.down.get(shipKey)?.size ?? 0) + (this.squeezed.has(shipKey) ? 1 : 0);
  }

  private bucketOf(playerId: string, now: number): TokenBucket {
    const known = this.buckets.get(playerId);
    if (known !== undefined) {
      known.refill(now);
      return known;
    }
    if (this.buckets.size >= bucketsBeforeSweep) this.sweep(now);
    const bucket = new TokenBucket(this.limits.player, now);
    this.buckets.set(playerId, bucket);
    return bucket;
  }

  private sweep(now: number): void {
    for (const [playerId, bucket] of this.buckets) {
      bucket.refill(now);
      if (bucket.full()) this.buckets.delete(playerId);
    }
  }

  private playerRefusal(bucket: TokenBucket, now: number): ShotRefusal | undefined {
    const waitMs = bucket.msUntilShot();
    if (waitMs === 0) return undefined;
    const detail = `${rateText(this.limits.player)} per player; next shot in ${waitMs} ms`;
    return refusal("player", waitMs, detail, now);
  }

  private gameRefusal(now: number): ShotRefusal | undefined {
    const per = this.limits.game.per.milliseconds;
    // A shot exactly `per` ago has left the window: the window is (now - per, now].
    this.window = this.window.filter((at) => at > now - per);
    const oldest = this.window[0];
    if (oldest === undefined || this.window.length < this.limits.game.shots) return undefined;
    const waitMs = oldest + per - now;
    return refusal(
      "game",
      waitMs,
      `${this.window.length} shots in the last ${this.limits.game.per.toString()}`,
      now,
    );
  }

  private shipRefusal(ship: ShipTarget, now: number): ShotRefusal | undefined {
    if (ship.podUid === undefined && ship.squeeze !== true) return undefined;
    const held = this.down.get(ship.key) ?? new Set<string>();
    const again = this.againRefusal(ship, held);
    if (again !== undefined) return refusal("ship", shipRetryAfterSeconds * 1000, again, now);
    // The squeeze's slot is down, but not a pod: it never adds to the ship's healthy pods.
    const healthy = ship.readyPodUids.filter((uid) => !held.has(uid)).length + held.size;
    const downNow = this.downCount(ship.key);
    const cap = this.limits.unsafe ? healthy : Math.floor(healthy / 2);
    if (downNow < cap) return undefined;
    const detail = `${downNow} of ${healthy} pods of ${ship.key} down, at most ${cap} at once`;
    return refusal("ship", shipRetryAfterSeconds * 1000, detail, now);
  }

  /** A pod already hit, or a ship already squeezed, cannot be taken again. */
  private againRefusal(ship: ShipTarget, held: ReadonlySet<string>): string | undefined {
    if (ship.podUid !== undefined && held.has(ship.podUid)) {
      return `pod ${ship.podUid} of ${ship.key} is already hit`;
    }
    if (ship.squeeze === true && this.squeezed.has(ship.key)) return `${ship.key} is already squeezed`;
    return undefined;
  }

  private hold(ship: ShipTarget, at: number): ShotAdmitted {
    const release = this.holdFor(ship);
    let released = false;
    return {
      admitted: true,
      at,
      release: () => {
        if (released) return;
        released = true;
        release();
      },
    };
  }

  /** Takes what the shot takes down; returns how to give it back. */
  private holdFor(ship: ShipTarget): () => void {
    const podUid = ship.podUid;
    if (podUid !== undefined) {
      const held = this.down.get(ship.key) ?? new Set<string>();
      held.add(podUid);
      this.down.set(ship.key, held);
      return () => {
        this.recovered(ship.key, podUid);
      };
    }
    if (ship.squeeze !== true) return () => undefined;
    this.squeezed.add(ship.key);
    return () => {
      this.squeezed.delete(ship.key);
    };
  }
}

/**
 * A token bucket in whole numbers: one shot is `per` ms worth of credit, and credit grows by `shots` per
 * ms, up to `shots` shots. So 1 shot per 3 s is a shot every 3,000 ms exactly, with no float drift.
 */
export class TokenBucket {
  private credit: number;
  private readonly shotCost: number;
  private readonly capacity: number;

  constructor(
    private readonly rate: Rate,
    private updatedAt: number,
  ) {
    this.shotCost = rate.per.milliseconds;
    this.capacity = rate.shots * this.shotCost;
    this.credit = this.capacity;
  }

  refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.credit = Math.min(this.capacity, this.credit + elapsed * this.rate.shots);
    this.updatedAt = Math.max(this.updatedAt, now);
  }

  full(): boolean {
    return this.credit >= this.capacity;
  }

  /** 0 when a shot is allowed now, else how many ms until one is. */
  msUntilShot(): number {
    const missing = this.shotCost - this.credit;
    return missing <= 0 ? 0 : Math.ceil(missing / this.rate.shots);
  }

  take(): void {
    this.credit -= this.shotCost;
  }
}

function refusal(limit: LimitName, waitMs: number, detail: string, at: number): ShotRefusal {
  return {
    at,
    admitted: false,
    limit,
    status: 429,
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
    reason: refusalReasons[limit],
    detail,
  };
}

function rateText(rate: Rate): string {
  return `${rate.shots} ${rate.shots === 1 ? "shot" : "shots"} per ${rate.per.toString()}`;
}

function requireRate(name: string, rate: Rate): void {
  if (!Number.isInteger(rate.shots) || rate.shots < 1) {
    throw new RangeError(`${name}.shots must be a whole number of at least 1, got ${rate.shots}`);
  }
  if (rate.per.milliseconds < 1) throw new RangeError(`${name}.per must be at least 1ms`);
}

import type { Duration } from "../duration.js";
import type { Clock } from "../clock.js";

export interface ShotLimits {
  /** At most this many shots (kills, evictions) in any window of `interval`, across all workloads. */
  readonly maxShots: number;
  readonly interval: Duration;
  /** At most this many pods of one workload down at once: a hit pod stays down until it is reported recovered. */
  readonly maxDownPerWorkload: number;
}

export type ShotVerdict =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly limit: "rate";
      readonly reason: string;
      /** When the oldest shot in the window leaves it, and a shot is allowed again. */
      readonly retryAfterMs: number;
    }
  | { readonly allowed: false; readonly limit: "down"; readonly reason: string };

/**
 * Keeps a crowd from sinking the fleet: however fast people press "fire", shots are spread over time and
 * every workload keeps some pods up. The caller checks before each shot and reports what happened after.
 */
export class ShotLimiter {
  /** Times of the shots still in the window, oldest first. */
  private shots: number[] = [];
  /** Per workload, the pods hit and not yet recovered. A set, so a repeated report counts once. */
  private readonly down = new Map<string, Set<string>>();

  constructor(
    private readonly limits: ShotLimits,
    private readonly clock: Pick<Clock, "now">,
  ) {
    requireCount("maxShots", limits.maxShots);
    requireCount("maxDownPerWorkload", limits.maxDownPerWorkload);
    if (limits.interval.milliseconds <= 0) throw new RangeError("interval must be longer than 0");
  }

  /** Whether one more shot at `workloadKey` is allowed now, and if not, which limit stops it. */
  check(workloadKey: string): ShotVerdict {
    const now = this.clock.now();
    this.forget(now);
    const oldest = this.shots[0];
    if (oldest !== undefined && this.shots.length >= this.limits.maxShots) {
      return {
        allowed: false,
        limit: "rate",
        reason: `rate limit: ${this.limits.maxShots} shots already fired in the last ${this.limits.interval.toString()}`,
        retryAfterMs: oldest + this.limits.interval.milliseconds - now,
      };
    }
    const downNow = this.downCount(workloadKey);
    if (downNow >= this.limits.maxDownPerWorkload) {
      return {
        allowed: false,
        limit: "down",
        reason: `down limit: ${downNow} pods of ${workloadKey} are already down (at most ${this.limits.maxDownPerWorkload})`,
      };
    }
    return { allowed: true };
  }

  /** Reports a shot that was fired at `podKey` of `workloadKey`, allowed or not: limits count what happened. */
  recordShot(workloadKey: string, podKey: string): void {
    this.shots.push(this.clock.now());
    const pods = this.down.get(workloadKey) ?? new Set<string>();
    pods.add(podKey);
    this.down.set(workloadKey, pods);
  }

  /** Reports that the workload has made up for the pod hit at `podKey` (its replacement is Ready). */
  recordRecovered(workloadKey: string, podKey: string): void {
    const pods = this.down.get(workloadKey);
    if (pods === undefined) return;
    pods.delete(podKey);
    if (pods.size === 0) this.down.delete(workloadKey);
  }

  downCount(workloadKey: string): number {
    return this.down.get(workloadKey)?.size ?? 0;
  }

  private forget(now: number): void {
    const windowStart = now - this.limits.interval.milliseconds;
    this.shots = this.shots.filter((at) => at > windowStart);
  }
}

function requireCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a whole number of at least 1, got ${value}`);
  }
}

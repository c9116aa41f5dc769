import { usageError } from "./errors.js";

/**
 * A length of time in milliseconds, parsed from the forms users know from kubectl and Go:
 * "500ms", "30s", "5m", "1h", "1m30s". Negative or unitless values are refused, and so is anything
 * longer than a year: no Broadside field allows that much, and the arithmetic on deadlines stays exact.
 * Fields have their own, lower maximum (core/input-limits.ts), given as `max`.
 */
export class Duration {
  private constructor(readonly milliseconds: number) {}

  /** The longest duration any field could hold: 365 days. */
  static readonly ceiling = new Duration(365 * 24 * 3_600_000);

  static ofMilliseconds(milliseconds: number): Duration {
    if (!Number.isFinite(milliseconds) || milliseconds < 0) {
      throw new RangeError(`a duration must be a non-negative number of milliseconds, got ${milliseconds}`);
    }
    return new Duration(Math.round(milliseconds));
  }

  /**
   * Parses `text`; `field` names the flag or field in the error message. With `max`, a longer duration
   * is refused with that maximum in the message.
   */
  static parse(text: string, field: string, max: Duration = Duration.ceiling): Duration {
    const trimmed = text.trim();
    if (trimmed.startsWith("-")) throw usageError(field, `must not be negative, got "${text}"`);
    if (trimmed === "0") return new Duration(0);
    const match = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.exec(trimmed);
    if (!match) {
      throw usageError(field, `"${text}" is not a duration; use a number with a unit: 500ms, 30s, 5m, 1h`);
    }
    let total = 0;
    for (const part of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
      const [, amount = "0", unit = "ms"] = part;
      total += Number(amount) * unitMilliseconds[unit as Unit];
    }
    // Digits that overflow make Infinity; a sum past the ceiling is refused the same way as one past max.
    const limit = Math.min(max.milliseconds, Duration.ceiling.milliseconds);
    if (!Number.isFinite(total) || Math.round(total) > limit) {
      throw usageError(field, `must be at most ${new Duration(limit).toString()}, got "${text}"`);
    }
    return new Duration(Math.round(total));
  }

  get seconds(): number {
    return this.milliseconds / 1000;
  }

  toString(): string {
    const ms = this.milliseconds;
    if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
    if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
    if (ms % 1000 === 0) return `${ms / 1000}s`;
    return `${ms}ms`;
  }
}

type Unit = "ms" | "s" | "m" | "h";
const unitMilliseconds: Record<Unit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

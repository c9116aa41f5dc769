import { Duration } from "../core/duration.js";
import { usageError } from "../core/errors.js";
import { checkDurationLimit, type CountLimit, type DurationLimit } from "../core/input-limits.js";

/** Commander option parsers that fail with an error naming the flag. */
/** A whole-number flag within its documented range (core/input-limits.ts). */
export function integerOption(flag: string, { min, max }: CountLimit): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || parsed < min || parsed > max) {
      throw usageError(flag, `must be a whole number from ${min} to ${max}, got "${value}"`);
    }
    return parsed;
  };
}

/** A duration flag within its documented limit (core/input-limits.ts). */
export function durationOption(flag: string, limit: DurationLimit): (value: string) => Duration {
  return (value) => checkDurationLimit(Duration.parse(value, flag, limit.max), limit, flag);
}

export function choiceOption<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw usageError(flag, `must be one of ${choices.join(", ")}, got "${value}"`);
    }
    return value as T;
  };
}

/**
 * Where a command writes. Results go to `out` (stdout: paths, tables, JSON); progress for humans and
 * errors go to `err` (stderr), so stdout stays clean for scripts.
 */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** stderr is a terminal: a progress line may be drawn there (progress-line.ts). */
  readonly errIsTty?: boolean;
  /** stdout is a terminal: a picture in colours may be drawn there (gameday's QR code). */
  readonly outIsTty?: boolean;
  /**
   * Writes a picture Broadside drew itself to stdout, its colour sequences (SGR) kept; main lets nothing
   * else through (no other escape sequence, no control character but a line feed).
   */
  readonly drawn?: (text: string) => void;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  errIsTty: process.stderr.isTTY,
  outIsTty: process.stdout.isTTY,
  drawn: (text) => process.stdout.write(text),
};

import { Duration } from "../core/duration.js";
import { usageError } from "../core/errors.js";

/** Commander option parsers that fail with an error naming the flag. */
export function integerOption(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || parsed < min || parsed > max) {
      throw usageError(flag, `must be a whole number from ${min} to ${max}, got "${value}"`);
    }
    return parsed;
  };
}

export function durationOption(flag: string): (value: string) => Duration {
  return (value) => Duration.parse(value, flag);
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
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

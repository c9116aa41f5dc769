import { z } from "zod";
import { Duration } from "../../core/duration.js";
import { BroadsideError } from "../../core/errors.js";
import { checkDurationLimit, type DurationLimit } from "../../core/input-limits.js";
import { describeValue } from "./problems.js";

/**
 * Durations in experiment files. Broadside's own kind uses Broadside's syntax (core/duration.ts: 500ms,
 * 30s, 5m, 1h, 1m30s); Chaos Mesh manifests use Go's time.ParseDuration syntax, which also knows ns, us
 * and fractions such as ".5s", so that their manifests read as they are.
 */

/** The syntax Duration.parse accepts, for the JSON Schema (editors flag a bad duration as it is typed). */
const durationPattern = /^\s*(0|(\d+(\.\d+)?(ms|s|m|h))+)\s*$/;

/** Duration.parse's own wording, without the field name it puts first. */
function durationProblem(text: string): string | undefined {
  const field = "duration";
  try {
    Duration.parse(text, field);
    return undefined;
  } catch (error) {
    if (!(error instanceof BroadsideError)) throw error;
    return error.message.slice(field.length + 2);
  }
}

/**
 * A Broadside duration field: a string such as "30s", turned into a Duration within `limit` (a field's
 * documented bounds, core/input-limits.ts; the ceiling of every duration when none is given). A problem is
 * an issue of this field, so the message names its path in the file.
 */
export function durationField(
  limit: DurationLimit = ceilingOnly,
): z.ZodPipe<z.ZodString, z.ZodTransform<Duration, string>> {
  return z
    .string({ error: (issue) => `must be a duration such as 30s, got ${describeValue(issue.input)}` })
    .regex(durationPattern, {
      error: (issue) => durationProblem(String(issue.input)) ?? "is not a duration",
    })
    .transform((text, context) => {
      const problem = durationProblem(text) ?? limitProblem(Duration.parse(text, "duration"), limit);
      if (problem === undefined) return Duration.parse(text, "duration");
      context.addIssue({ code: "custom", message: problem });
      return z.NEVER;
    });
}

const ceilingOnly: DurationLimit = { fields: "any duration", max: Duration.ceiling };

/** Why `duration` breaks `limit`, in the words of checkDurationLimit without its field, or undefined. */
function limitProblem(duration: Duration, limit: DurationLimit): string | undefined {
  const field = "duration";
  try {
    checkDurationLimit(duration, limit, field);
    return undefined;
  } catch (error) {
    if (!(error instanceof BroadsideError)) throw error;
    return error.message.slice(field.length + 2);
  }
}

/** Go's time units in nanoseconds; µ (U+00B5) and μ (U+03BC) both spell micro, as in Go. */
const goUnits: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const goDurationSyntax = /^(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;

export type GoDurationResult =
  { readonly ok: true; readonly milliseconds: number } | { readonly ok: false; readonly problem: string };

/**
 * Parses a duration as Go's time.ParseDuration does ("300ms", "1.5h", "2h45m", "0"), which is what Chaos
 * Mesh's webhook checks its duration fields with. Go accepts a sign; a negative duration is refused here,
 * since no fault can last less than nothing. Milliseconds may be fractional ("500us" is 0.5).
 */
export function parseGoDuration(text: string): GoDurationResult {
  const trimmed = text.trim();
  // Go reads "-0" as zero; any minus sign is refused here all the same, as a duration's mistake.
  if (trimmed.startsWith("-")) {
    return { ok: false, problem: `must not be negative, got ${JSON.stringify(text)}` };
  }
  const unsigned = trimmed.replace(/^[+-]/, "");
  if (unsigned === "0") return { ok: true, milliseconds: 0 };
  if (!goDurationSyntax.test(unsigned)) {
    return {
      ok: false,
      problem: `${JSON.stringify(text)} is not a duration; use a number with a unit: 300ms, 30s, 1.5h, 2h45m`,
    };
  }
  let nanoseconds = 0;
  for (const [, amount = "0", unit = "ns"] of unsigned.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    nanoseconds += Number(amount) * (goUnits[unit] ?? 1);
  }
  return withinCeiling(nanoseconds / 1e6, text);
}

/** Go's own limit is about 292 years (int64 nanoseconds); no Broadside field allows more than a year. */
function withinCeiling(milliseconds: number, text: string): GoDurationResult {
  if (Number.isFinite(milliseconds) && milliseconds <= Duration.ceiling.milliseconds)
    return { ok: true, milliseconds };
  return {
    ok: false,
    problem: `must be at most ${Duration.ceiling.toString()}, got ${JSON.stringify(text)}`,
  };
}

/** A Chaos Mesh duration field: a Go duration string, turned into milliseconds, within `limit`. */
export function goDurationField(
  limit: DurationLimit = ceilingOnly,
): z.ZodPipe<z.ZodString, z.ZodTransform<number, string>> {
  return z
    .string({
      error: (issue) => `must be a duration string such as "30s", got ${describeValue(issue.input)}`,
    })
    .transform((text, context) => {
      const result = parseGoDuration(text);
      const problem = result.ok
        ? limitProblem(Duration.ofMilliseconds(result.milliseconds), limit)
        : result.problem;
      if (result.ok && problem === undefined) return result.milliseconds;
      context.addIssue({ code: "custom", message: problem ?? "is not a duration" });
      return z.NEVER;
    });
}

/** A Chaos Mesh duration as a Broadside Duration (whole milliseconds), for the fields Broadside acts on. */
export function toDuration(milliseconds: number): Duration {
  return Duration.ofMilliseconds(milliseconds);
}

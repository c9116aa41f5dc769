import { z } from "zod";
import { Duration } from "../../core/duration.js";
import { BroadsideError } from "../../core/errors.js";
import { checkDurationLimit, type DurationLimit } from "../../core/input-limits.js";
import { celString, withCel, type CelRule } from "./cel.js";
import { describeValue } from "./problems.js";

/**
 * Durations in experiment files. Broadside's own kind uses Broadside's syntax (core/duration.ts: 500ms,
 * 30s, 5m, 1h, 1m30s); Chaos Mesh manifests use Go's time.ParseDuration syntax, which also knows ns, us
 * and fractions such as ".5s", so that their manifests read as they are.
 */

/**
 * The longest duration text read; longer is no duration anyone means, and the bound keeps the CRDs' CEL
 * rules over durations cheap enough for the API server.
 */
export const maxDurationLength = 64;

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
  const text = z
    .string({ error: (issue) => `must be a duration such as 30s, got ${describeValue(issue.input)}` })
    .max(maxDurationLength)
    .regex(durationPattern, {
      error: (issue) => durationProblem(String(issue.input)) ?? "is not a duration",
    });
  return withCel(text, durationBoundRule(limit)).transform((text, context) => {
    const problem = durationProblem(text) ?? limitProblem(Duration.parse(text, "duration"), limit);
    if (problem === undefined) return Duration.parse(text, "duration");
    context.addIssue({ code: "custom", message: problem });
    return z.NEVER;
  });
}

/**
 * The bounds of `limit` as a CEL rule, for the API server. Both duration syntaxes are subsets of what CEL's
 * duration() reads (Go's time.ParseDuration), once the surrounding spaces Broadside tolerates are trimmed.
 */
function durationBoundRule(limit: DurationLimit): CelRule {
  const max = `duration(self.trim()) <= duration(${celString(limit.max.toString())})`;
  const min = limit.min !== undefined && limit.min.milliseconds > 0 ? limit.min : undefined;
  if (min === undefined) return { rule: max, message: `must be at most ${limit.max.toString()}` };
  return {
    rule: `${max} && duration(self.trim()) >= duration(${celString(min.toString())})`,
    message: `must be from ${min.toString()} to ${limit.max.toString()}`,
  };
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

/** What parseGoDuration accepts, as a pattern the API server can check too: no sign but an optional +. */
const goDurationPattern = /^\s*\+?(?:0|(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)\s*$/;

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
  const text = z
    .string({
      error: (issue) => `must be a duration string such as "30s", got ${describeValue(issue.input)}`,
    })
    .max(maxDurationLength)
    .regex(goDurationPattern, {
      error: (issue) => {
        const result = parseGoDuration(String(issue.input));
        return result.ok ? "is not a duration" : result.problem;
      },
    });
  return withCel(text, durationBoundRule(limit)).transform((text, context) => {
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

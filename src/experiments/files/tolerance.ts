import { z } from "zod";
import { Duration } from "../../core/duration.js";
import { BroadsideError } from "../../core/errors.js";
import { describeValue } from "./problems.js";

/**
 * The tolerance language: one comparison per line, `<metric> <comparator> <value>`, saying what the
 * steady state allows. A probe turns its samples into these metrics over a window (see docs/experiments.md):
 *
 *   availability >= 99.5%     share of samples that succeeded; a percentage or a fraction (0.995)
 *   p95 <= 200ms              latency percentile of HTTP samples: p50, p95 or p99, the ones reports compute
 *   longest-failure <= 2s     the longest run of consecutive failed samples
 *
 * Comparators point the way a tolerance makes sense (availability at least, latency at most), so that a
 * tolerance written backwards is an error rather than a hypothesis that always holds.
 */

export type Tolerance =
  | {
      readonly metric: "availability";
      readonly comparator: ">=" | ">";
      /** 0 to 1. */
      readonly ratio: number;
      readonly text: string;
    }
  | {
      readonly metric: "latency";
      /** Above 0, at most 100. */
      readonly percentile: number;
      readonly comparator: "<=" | "<";
      readonly threshold: Duration;
      readonly text: string;
    }
  | {
      readonly metric: "longest-failure";
      readonly comparator: "<=" | "<";
      readonly threshold: Duration;
      readonly text: string;
    };

export type ToleranceResult =
  { readonly ok: true; readonly tolerance: Tolerance } | { readonly ok: false; readonly problem: string };

export const reportedPercentiles: readonly number[] = [50, 95, 99];

/** For editors: the shape of a tolerance, checked fully by parseTolerance. */
export const tolerancePattern = /^\s*(availability|p\d+(\.\d+)?|longest-failure)\s*(>=|<=|>|<)\s*\S+\s*$/;

const syntax = /^\s*(\S+?)\s*(>=|<=|>|<)\s*(\S+)\s*$/;

function fail(problem: string): ToleranceResult {
  return { ok: false, problem };
}

function ratioOf(value: string): number | undefined {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(value);
  if (percent !== null) return Number(percent[1]) / 100;
  return /^(?:0|1)(?:\.\d+)?$/.test(value) ? Number(value) : undefined;
}

function availability(text: string, comparator: string, value: string): ToleranceResult {
  if (comparator !== ">=" && comparator !== ">") {
    return fail(`availability is a floor: write "availability >= ${value}"`);
  }
  const ratio = ratioOf(value);
  if (ratio === undefined || ratio > 1) {
    return fail(
      `availability needs a percentage (99.5%) or a fraction from 0 to 1 (0.995), got ${JSON.stringify(value)}`,
    );
  }
  return { ok: true, tolerance: { metric: "availability", comparator, ratio, text } };
}

function threshold(metric: string, value: string): Duration | string {
  try {
    return Duration.parse(value, metric);
  } catch (error) {
    if (error instanceof BroadsideError) return error.message;
    throw error;
  }
}

function ceiling(text: string, metric: string, comparator: string, value: string): ToleranceResult {
  if (comparator !== "<=" && comparator !== "<")
    return fail(`${metric} is a ceiling: write "${metric} <= ${value}"`);
  const limit = threshold(metric, value);
  if (typeof limit === "string") return fail(limit);
  if (metric === "longest-failure") {
    return { ok: true, tolerance: { metric: "longest-failure", comparator, threshold: limit, text } };
  }
  const percentile = Number(metric.slice(1));
  // Reports compute these three (report/samples.ts); a tolerance on another could not be checked there.
  if (!reportedPercentiles.includes(percentile))
    return fail(`${metric}: the latency percentiles are p50, p95 and p99`);
  return { ok: true, tolerance: { metric: "latency", percentile, comparator, threshold: limit, text } };
}

/** Parses one tolerance line. */
export function parseTolerance(text: string): ToleranceResult {
  const match = syntax.exec(text);
  const [, metric = "", comparator = "", value = ""] = match ?? [];
  if (match === null)
    return fail(
      `${JSON.stringify(text)} is not a tolerance; write it as "availability >= 99%" or "p95 <= 200ms"`,
    );
  if (metric === "availability") return availability(text.trim(), comparator, value);
  if (metric === "longest-failure" || /^p\d+(\.\d+)?$/.test(metric))
    return ceiling(text.trim(), metric, comparator, value);
  return fail(
    `unknown metric ${JSON.stringify(metric)}; use availability, p50/p95/p99 (latency) or longest-failure`,
  );
}

/** A tolerance field: a string in the tolerance language, turned into a Tolerance. */
export function toleranceField(): z.ZodPipe<z.ZodString, z.ZodTransform<Tolerance, string>> {
  return z
    .string({
      error: (issue) =>
        `must be a tolerance such as "availability >= 99%", got ${describeValue(issue.input)}`,
    })
    .regex(tolerancePattern, {
      error: (issue) => {
        const result = parseTolerance(String(issue.input));
        return result.ok ? "is not a tolerance" : result.problem;
      },
    })
    .transform((text, context) => {
      const result = parseTolerance(text);
      if (result.ok) return result.tolerance;
      context.addIssue({ code: "custom", message: result.problem });
      return z.NEVER;
    });
}

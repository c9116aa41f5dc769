import { Cron } from "croner";
import { Duration } from "../../core/duration.js";
import { durationLimits } from "../../core/input-limits.js";
import { parseGoDuration } from "./durations.js";

/**
 * The `schedule` of a Chaos Mesh Schedule. Chaos Mesh parses it with robfig/cron v3's standard parser
 * (api/v1alpha1/schedule_webhook.go: cron.ParseStandard): five fields, the descriptors @yearly,
 * @annually, @monthly, @weekly, @daily, @midnight, @hourly, `@every <Go duration>`, and a `CRON_TZ=` or
 * `TZ=` prefix. That parser refuses a sixth field (chaos-mesh/chaos-mesh issue #2312); Broadside accepts
 * one, seconds first, as the issue that introduced Schedule asked. croner (which does not know @every)
 * validates the fields and computes the runs; @every is handled here, with robfig's semantics.
 */

export type CronSpec =
  | {
      readonly kind: "cron";
      /** As written in the manifest. */
      readonly text: string;
      /** The expression croner runs: descriptors expanded, the TZ prefix removed; 5 or 6 fields. */
      readonly pattern: string;
      /** The expression has a seconds field (6 fields), which Chaos Mesh itself would refuse. */
      readonly seconds: boolean;
      /** IANA time zone from a CRON_TZ= or TZ= prefix; without one Broadside schedules in UTC. */
      readonly timezone?: string;
    }
  | {
      readonly kind: "every";
      readonly text: string;
      /** Whole seconds, at least one, as robfig's ConstantDelaySchedule rounds it. */
      readonly interval: Duration;
    };

export type CronResult =
  | { readonly ok: true; readonly spec: CronSpec; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly problem: string };

/** robfig's descriptors (parser.go parseDescriptor), as five-field expressions. */
const descriptors: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const monthAndDayNames =
  /\b(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT)\b/gi;

/** A fixed reference, so that parsing never depends on the clock: a pattern that fires once fires forever. */
const reference = new Date(Date.UTC(2000, 0, 1));

function options(timezone: string | undefined): ConstructorParameters<typeof Cron>[1] {
  // sloppyRanges accepts robfig's "5/15" (from 5, every 15), which croner otherwise refuses.
  return { mode: "5-or-6-parts", timezone: timezone ?? "UTC", sloppyRanges: true };
}

function fail(problem: string): CronResult {
  return { ok: false, problem };
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function parseEvery(text: string, rest: string): CronResult {
  const parsed = parseGoDuration(rest);
  if (!parsed.ok) return fail(`@every ${parsed.problem}`);
  const { min, max } = durationLimits.everyInterval;
  // robfig's Every would run "@every 0s" every second; a schedule asked for less than a second is refused,
  // as the docs promise, rather than quietly run at another rate.
  if (parsed.milliseconds < (min?.milliseconds ?? 0) || parsed.milliseconds > max.milliseconds) {
    return fail(`@every ${rest}: the interval must be from ${min?.toString() ?? "0s"} to ${max.toString()}`);
  }
  const warnings: string[] = [];
  // robfig's Every: anything finer than a second is dropped.
  const milliseconds = Math.floor(parsed.milliseconds / 1000) * 1000;
  if (milliseconds !== parsed.milliseconds) warnings.push(`@every ${rest}: runs every whole second only`);
  return {
    ok: true,
    spec: { kind: "every", text, interval: Duration.ofMilliseconds(milliseconds) },
    warnings,
  };
}

/** croner's extensions that robfig refuses: L (last), W (weekday), # (nth weekday), + (day AND logic). */
function extensionProblem(fields: readonly string[]): string | undefined {
  const used = fields.find((field) => /[LW#+]/i.test(field.replace(monthAndDayNames, "")));
  if (used === undefined) return undefined;
  return `field ${JSON.stringify(used)} uses L, W, # or +, which Chaos Mesh's cron parser refuses`;
}

function parseFields(text: string, expression: string, timezone: string | undefined): CronResult {
  const fields = expression.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return fail(
      `must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got ${fields.length}`,
    );
  }
  const extension = extensionProblem(fields);
  if (extension !== undefined) return fail(extension);
  const pattern = fields.join(" ");
  let next: Date | null;
  try {
    next = new Cron(pattern, options(timezone)).nextRun(reference);
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^Cron\w*:\s*/, "") : String(error);
    return fail(`is not a valid cron expression: ${detail.charAt(0).toLowerCase()}${detail.slice(1)}`);
  }
  if (next === null) return fail("never fires: no date matches every field (such as the 31st of February)");
  const spec: CronSpec = {
    kind: "cron",
    text,
    pattern,
    seconds: fields.length === 6,
    ...(timezone ? { timezone } : {}),
  };
  return { ok: true, spec, warnings: [] };
}

function parseExpression(text: string, expression: string, timezone: string | undefined): CronResult {
  const every = /^@every\s+(.*)$/.exec(expression);
  if (every !== null) return parseEvery(text, every[1] ?? "");
  if (!expression.startsWith("@")) return parseFields(text, expression, timezone);
  const expanded = descriptors[expression];
  if (expanded !== undefined) return parseFields(text, expanded, timezone);
  return fail(
    `${JSON.stringify(expression)} is not a descriptor; use ${Object.keys(descriptors).join(", ")}, @every`,
  );
}

/** Parses a Schedule's `schedule` field. Problems are worded to follow the field's path in a message. */
export function parseCron(text: string): CronResult {
  const trimmed = text.trim();
  if (trimmed === "") return fail("must not be empty");
  const zone = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(trimmed);
  const timezone = zone?.[1];
  if (timezone !== undefined && !isTimeZone(timezone))
    return fail(`${JSON.stringify(timezone)} is not a time zone`);
  return parseExpression(text, (zone?.[2] ?? trimmed).trim(), timezone);
}

/**
 * The next `count` runs strictly after `from`. Cron expressions run in their CRON_TZ zone, else UTC.
 * @every runs as robfig's ConstantDelaySchedule: from `from` truncated to the second, every interval.
 */
export function nextRuns(spec: CronSpec, from: Date, count: number): Date[] {
  if (spec.kind === "every") {
    const start = Math.floor(from.getTime() / 1000) * 1000;
    return Array.from(
      { length: count },
      (_, index) => new Date(start + (index + 1) * spec.interval.milliseconds),
    );
  }
  return new Cron(spec.pattern, options(spec.timezone)).nextRuns(count, from);
}

/**
 * The last run of a cron expression strictly before `before`, if there is one. @every has no runs before
 * it starts (robfig counts it from wherever it starts), so it has no counterpart here.
 */
export function previousCronRun(spec: Extract<CronSpec, { kind: "cron" }>, before: Date): Date | undefined {
  return new Cron(spec.pattern, options(spec.timezone)).previousRuns(1, before)[0];
}

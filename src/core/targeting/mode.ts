import { usageError } from "../errors.js";
import { countLimits } from "../input-limits.js";
import { plural } from "./text.js";
import type { Mode, ModeKind, RandomSource } from "./types.js";

/**
 * Modes say how many of the eligible pods an experiment hits. Names, meaning and rounding follow Chaos Mesh,
 * pkg/selector/generic/mode.go (FilterObjectsByMode and RandomFixedIndexes, called by filterPodsByMode in
 * pkg/selector/pod/selector.go). Both percent modes round up since chaos-mesh/chaos-mesh PR #3036
 * "selector: percent selection should select at least one" (March 2022); before it they used math.Floor,
 * so 10% of 5 pods hit none. Users of any current Chaos Mesh expect the ceiling:
 *
 *   one                  a single pod drawn uniformly
 *   all                  every eligible pod
 *   fixed N              min(N, eligible) pods; N >= 1
 *   fixed-percent P      ceil(eligible × P / 100) pods; P in 1..100
 *   random-max-percent P draws a percentage p uniformly from 0..P inclusive (Go: rand.Int(P + 1)), then hits
 *                        ceil(eligible × p / 100) pods, so it hits none when it draws 0
 *
 * Chaos Mesh refuses an empty list outright ("cannot generate objects from empty list"); a plan instead
 * chooses nothing and says so in a warning, so a dry run still shows why every pod was left out.
 */

export const modeKinds = [
  "one",
  "all",
  "fixed",
  "fixed-percent",
  "random-max-percent",
] as const satisfies readonly ModeKind[];

/** The names the mode and its value go by in errors: CLI flags, or manifest paths such as `spec.mode`. */
export interface ModeFields {
  readonly mode: string;
  readonly value: string;
}

const cliFields: ModeFields = { mode: "--mode", value: "--value" };

function isModeKind(text: string): text is ModeKind {
  return (modeKinds as readonly string[]).includes(text);
}

function quoted(value: string | undefined): string {
  return value === undefined ? "none" : JSON.stringify(value);
}

function wholeNumber(text: string | undefined): number | undefined {
  const trimmed = text?.trim() ?? "";
  if (!/^\d+$/.test(trimmed)) return undefined;
  const number = Number(trimmed);
  return Number.isSafeInteger(number) ? number : undefined;
}

/** A problem with the mode or its value, naming the field it is about. */
export interface ModeProblem {
  readonly field: string;
  readonly problem: string;
}

export type ModeResult = { readonly ok: true; readonly mode: Mode } | ({ readonly ok: false } & ModeProblem);

function percentage(kind: ModeKind, text: string | undefined, field: string): ModeResult {
  const percent = wholeNumber(text);
  if (percent === undefined || percent < 1 || percent > 100) {
    return { ok: false, field, problem: `${kind} needs a percentage from 1 to 100, got ${quoted(text)}` };
  }
  const mode: Mode =
    kind === "fixed-percent" ? { kind, percent } : { kind: "random-max-percent", maxPercent: percent };
  return { ok: true, mode };
}

function fixed(text: string | undefined, field: string): ModeResult {
  const count = wholeNumber(text);
  const { min, max } = countLimits.fixedPods;
  if (count === undefined || count < min || count > max) {
    return {
      ok: false,
      field,
      problem: `fixed needs a whole number of pods from ${min} to ${max}, got ${quoted(text)}`,
    };
  }
  return { ok: true, mode: { kind: "fixed", count } };
}

/**
 * Reads a mode and its value without throwing, for callers that collect every problem of a manifest.
 * one and all take no value (a stray value is more likely a mistake than intent); the others need one.
 */
export function readMode(modeText: string, valueText?: string, fields: ModeFields = cliFields): ModeResult {
  const kind = modeText.trim();
  if (!isModeKind(kind)) {
    return {
      ok: false,
      field: fields.mode,
      problem: `${quoted(modeText)} is not a mode; use ${modeKinds.join(", ")}`,
    };
  }
  switch (kind) {
    case "one":
    case "all":
      if (valueText === undefined) return { ok: true, mode: { kind } };
      return {
        ok: false,
        field: fields.value,
        problem: `mode ${kind} takes no value, got ${quoted(valueText)}`,
      };
    case "fixed":
      return fixed(valueText, fields.value);
    case "fixed-percent":
    case "random-max-percent":
      return percentage(kind, valueText, fields.value);
  }
}

/** Parses `--mode` and `--value`; a bad one throws a usage error naming the flag. */
export function parseMode(modeText: string, valueText?: string, fields: ModeFields = cliFields): Mode {
  const result = readMode(modeText, valueText, fields);
  if (!result.ok) throw usageError(result.field, result.problem);
  return result.mode;
}

function isPercent(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 100;
}

/** Guards plans against modes built in code rather than parsed: those are bugs, hence RangeError. */
export function assertValidMode(mode: Mode): void {
  const valid =
    (mode.kind !== "fixed" ||
      (Number.isSafeInteger(mode.count) && mode.count >= 1 && mode.count <= countLimits.fixedPods.max)) &&
    (mode.kind !== "fixed-percent" || isPercent(mode.percent)) &&
    (mode.kind !== "random-max-percent" || isPercent(mode.maxPercent));
  if (!valid) throw new RangeError(`invalid mode ${JSON.stringify(mode)}`);
}

/** The mode as a user would type it: `one`, `fixed 2`, `fixed-percent 50`. */
export function describeMode(mode: Mode): string {
  switch (mode.kind) {
    case "one":
    case "all":
      return mode.kind;
    case "fixed":
      return `fixed ${mode.count}`;
    case "fixed-percent":
      return `fixed-percent ${mode.percent}`;
    case "random-max-percent":
      return `random-max-percent ${mode.maxPercent}`;
  }
}

/** A uniform whole number in [0, n), from a source of numbers in [0, 1). */
export function randomIndex(random: RandomSource, n: number): number {
  const draw = random();
  if (!(draw >= 0 && draw < 1))
    throw new RangeError(`a random source must return a number in [0, 1), got ${draw}`);
  // Defensive: keeps the index in range should draw × n ever round up to n.
  return Math.min(n - 1, Math.floor(draw * n));
}

/** Chaos Mesh's rounding, in the same float64 arithmetic: math.Ceil(float64(count) * float64(p) / 100). */
export function percentOf(count: number, percent: number): number {
  return Math.ceil((count * percent) / 100);
}

/** How many pods a mode hits among `eligible`, and for random-max-percent the percentage it drew. */
export interface ModeDraw {
  readonly count: number;
  readonly drawnPercent?: number;
}

/** Consumes one random number for random-max-percent when there is anything to choose from, else none. */
export function countToPick(mode: Mode, eligible: number, random: RandomSource): ModeDraw {
  if (eligible === 0) return { count: 0 };
  switch (mode.kind) {
    case "one":
      return { count: 1 };
    case "all":
      return { count: eligible };
    case "fixed":
      return { count: Math.min(mode.count, eligible) };
    case "fixed-percent":
      return { count: percentOf(eligible, mode.percent) };
    case "random-max-percent": {
      const drawnPercent = randomIndex(random, mode.maxPercent + 1);
      return { count: percentOf(eligible, drawnPercent), drawnPercent };
    }
  }
}

/**
 * `count` distinct indexes of [0, total), uniformly, in ascending order. Chaos Mesh's RandomFixedIndexes
 * redraws on collisions; with an injected source that could loop forever (a stub returning a constant), so
 * this uses a partial Fisher-Yates shuffle: the same uniform distribution, exactly `count` draws. Like
 * RandomFixedIndexes it returns everything without drawing when count >= total.
 */
export function chooseIndexes(total: number, count: number, random: RandomSource): number[] {
  if (count >= total) return Array.from({ length: total }, (_, index) => index);
  // Fisher-Yates over a virtual array of 0..total-1: only the slots a swap touched are stored, so picking
  // one pod of 10,000 costs one draw, not an array of 10,000. Same draws, same result as the full shuffle.
  const moved = new Map<number, number>();
  const valueAt = (slot: number): number => moved.get(slot) ?? slot;
  const chosen: number[] = [];
  for (let position = 0; position < count; position += 1) {
    const swapWith = position + randomIndex(random, total - position);
    chosen.push(valueAt(swapWith));
    // Slot `position` is never read again (later draws start after it); `swapWith` may be.
    moved.set(swapWith, valueAt(position));
  }
  return chosen.sort((a, b) => a - b);
}

function rounding(mode: Mode, draw: ModeDraw, eligible: number): string {
  if (mode.kind === "fixed-percent") return ` (${mode.percent}% of ${eligible} eligible, rounded up)`;
  if (draw.drawnPercent !== undefined)
    return ` (drew ${draw.drawnPercent}% of ${eligible} eligible, rounded up)`;
  return "";
}

/** Why an eligible pod was not picked, for dry runs: `mode fixed 2: not among the 2 chosen`. */
export function notChosenReason(mode: Mode, draw: ModeDraw, eligible: number): string {
  const prefix = `mode ${describeMode(mode)}`;
  if (draw.count === 0) {
    return `${prefix}: drew ${draw.drawnPercent ?? 0}%, so none of ${plural(eligible, "eligible pod")} is chosen`;
  }
  if (mode.kind === "one") return `${prefix}: not the one chosen`;
  return `${prefix}: not among the ${draw.count} chosen${rounding(mode, draw, eligible)}`;
}

import { z } from "zod";
import { Duration } from "../duration.js";
import { BroadsideError } from "../errors.js";
import { formatPath } from "../field-path.js";
import { dnsLabelProblem, quoted } from "../names.js";
import { defaultProtectedNamespaces } from "../targeting/rails.js";
import { defaultBoardLimits, type BoardLimits, type Rate } from "./limits.js";

/**
 * The rules the operator sets when opening a game, read from an untrusted JSON body: which namespaces
 * are the sea, which weapons the players have, whether a ship may be sunk, and the shot limits. Every
 * problem is reported at once, each naming its field (`namespaces[1]`, `limits.player.per`), and a body
 * with any problem opens no game.
 */

export const weapons = ["torpedo", "mine", "fog", "anchor", "net"] as const;
export type Weapon = (typeof weapons)[number];

/** The fault each weapon fires. */
export const weaponFaults: Readonly<Record<Weapon, string>> = {
  torpedo: "pod kill",
  mine: "eviction",
  fog: "config drift",
  anchor: "resource squeeze",
  net: "network delay",
};

/** Weapons no game may allow yet, and why: the client shows the reason on the disabled button. */
export const unavailableWeapons: Readonly<Partial<Record<Weapon, string>>> = {
  net: "needs the node daemon's network faults",
};

export type WeaponRule = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

export interface GameRules {
  /** The opted-in namespaces, one grid each, in the order given. */
  readonly namespaces: readonly string[];
  readonly weapons: Readonly<Record<Weapon, WeaponRule>>;
  /** Lifts the per-ship cap, so a ship can be sunk. */
  readonly unsafe: boolean;
  readonly limits: BoardLimits;
  /** Players who may join the game (`limits.players`); a join past it is refused: the game is full. */
  readonly maxPlayers: number;
  /** How long a fog (config drift) or an anchor (resource squeeze) lasts before Broadside reverts it. */
  readonly revertAfter: Duration;
}

/** A fog or an anchor is reverted this long after it was fired, unless the rules say (`revertAfter`). */
export const defaultRevertAfter = Duration.ofMilliseconds(60_000);

/** Players per game unless the rules say (`limits.players`). */
export const defaultMaxPlayers = 500;

/** Namespaces that are never a sea: the cluster's own and Broadside's. */
export const boardProtectedNamespaces: readonly string[] = [
  ...defaultProtectedNamespaces,
  "broadside-system",
];

/** Bounds on what an operator may set, so a typo cannot open the floodgates or freeze the game. */
export const rulesBounds = {
  maxNamespaces: 20,
  player: { maxShots: 10, minPer: "1s", maxPer: "10m" },
  game: { maxShots: 50, minPer: "1s", maxPer: "10m" },
  maxPlayers: 10_000,
  revertAfter: { min: "10s", max: "10m" },
} as const;

export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

export type RulesCheck =
  | { readonly ok: true; readonly rules: GameRules }
  | { readonly ok: false; readonly problems: readonly FieldProblem[] };

/** The body's root, as a message names it. */
const bodyRoot = "(body)";

/** A duration from `minText` to `maxText`, as "3s" or "5m"; problems named by the path the schema sits at. */
function durationSchema(minText: string, maxText: string) {
  const min = Duration.parse(minText, "min");
  const max = Duration.parse(maxText, "max");
  return z.string({ error: `must be a duration such as "3s"` }).transform((text, context) => {
    try {
      const duration = Duration.parse(text, "duration", max);
      if (duration.milliseconds >= min.milliseconds) return duration;
      context.addIssue({
        code: "custom",
        message: `must be at least ${min.toString()}, got ${quoted(text)}`,
      });
    } catch (error) {
      // Duration.parse names its field first ("duration: ..."); the path says it here.
      const message = error instanceof Error ? error.message.replace(/^duration: /, "") : String(error);
      context.addIssue({ code: "custom", message });
    }
    return z.NEVER;
  });
}

function rateSchema(bounds: { readonly maxShots: number; readonly minPer: string; readonly maxPer: string }) {
  return z.strictObject({
    shots: z
      .number({ error: "must be a number" })
      .int({ error: "must be a whole number" })
      .min(1, { error: "must be at least 1" })
      .max(bounds.maxShots, { error: `must be at most ${bounds.maxShots}` }),
    per: durationSchema(bounds.minPer, bounds.maxPer),
  });
}

function namespaceProblem(name: string, protectedNamespaces: readonly string[]): string | undefined {
  if (protectedNamespaces.includes(name)) return `${quoted(name)} is protected and can never be a sea`;
  const problem = dnsLabelProblem(name);
  return problem === undefined ? undefined : `${quoted(name)} is not a namespace name: ${problem}`;
}

function bodySchema(protectedNamespaces: readonly string[]) {
  const namespace = z.string({ error: "must be a namespace name" }).superRefine((name, context) => {
    const problem = namespaceProblem(name, protectedNamespaces);
    if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
  });
  const weapon = z
    .enum(weapons, { error: `must be one of ${weapons.join(", ")}` })
    .superRefine((name, context) => {
      const reason = unavailableWeapons[name];
      if (reason !== undefined)
        context.addIssue({ code: "custom", message: `${name} is disabled: ${reason}` });
    });
  return z.strictObject({
    namespaces: z
      .array(namespace, { error: "must be a list of namespace names" })
      .min(1, { error: "must name at least one namespace" })
      .max(rulesBounds.maxNamespaces, { error: `must name at most ${rulesBounds.maxNamespaces} namespaces` })
      .superRefine(noDuplicates),
    weapons: z
      .array(weapon, { error: "must be a list of weapons" })
      .min(1, { error: "must allow at least one weapon" })
      .superRefine(noDuplicates)
      .default(["torpedo"]),
    unsafe: z.boolean({ error: "must be true or false" }).default(false),
    revertAfter: durationSchema(rulesBounds.revertAfter.min, rulesBounds.revertAfter.max).optional(),
    limits: z
      .strictObject({
        player: rateSchema(rulesBounds.player).optional(),
        game: rateSchema(rulesBounds.game).optional(),
        players: z
          .number({ error: "must be a number" })
          .int({ error: "must be a whole number" })
          .min(1, { error: "must be at least 1" })
          .max(rulesBounds.maxPlayers, { error: `must be at most ${rulesBounds.maxPlayers}` })
          .optional(),
      })
      .default({}),
  });
}

function noDuplicates(values: readonly string[], context: z.RefinementCtx): void {
  values.forEach((value, index) => {
    if (values.indexOf(value) !== index) {
      context.addIssue({ code: "custom", message: `${quoted(value)} is listed twice`, path: [index] });
    }
  });
}

/**
 * Checks `body` (JSON.parse's output, untrusted) as a game's rules. `broadsideNamespace`, when Broadside
 * runs in a namespace of another name, is protected too.
 */
export function checkGameRules(
  body: unknown,
  options: { readonly broadsideNamespace?: string } = {},
): RulesCheck {
  const extra = options.broadsideNamespace === undefined ? [] : [options.broadsideNamespace];
  const parsed = bodySchema([...boardProtectedNamespaces, ...extra]).safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({
      field: formatPath(issue.path, bodyRoot),
      problem: issue.message,
    }));
    return { ok: false, problems };
  }
  const { namespaces, weapons: allowed, unsafe, limits, revertAfter } = parsed.data;
  const rate = (given: Rate | undefined, fallback: Rate): Rate => given ?? fallback;
  return {
    ok: true,
    rules: {
      namespaces,
      weapons: weaponRules(allowed),
      unsafe,
      limits: {
        player: rate(limits.player, defaultBoardLimits.player),
        game: rate(limits.game, defaultBoardLimits.game),
        unsafe,
      },
      maxPlayers: limits.players ?? defaultMaxPlayers,
      revertAfter: revertAfter ?? defaultRevertAfter,
    },
  };
}

/** checkGameRules, throwing a usage error (BRD_USAGE) that names every bad field. */
export function parseGameRules(
  body: unknown,
  options: { readonly broadsideNamespace?: string } = {},
): GameRules {
  const checked = checkGameRules(body, options);
  if (checked.ok) return checked.rules;
  const message = checked.problems.map(({ field, problem }) => `${field}: ${problem}`).join("; ");
  throw new BroadsideError("BRD_USAGE", message);
}

function weaponRules(allowed: readonly Weapon[]): Record<Weapon, WeaponRule> {
  const entries = weapons.map((weapon): [Weapon, WeaponRule] => {
    const unavailable = unavailableWeapons[weapon];
    if (unavailable !== undefined) return [weapon, { allowed: false, reason: unavailable }];
    if (allowed.includes(weapon)) return [weapon, { allowed: true }];
    return [weapon, { allowed: false, reason: "not allowed in this game" }];
  });
  return Object.fromEntries(entries) as Record<Weapon, WeaponRule>;
}

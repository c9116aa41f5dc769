import type { GameSummary, Weapon } from "./protocol.js";

/**
 * The player's and the operator's screens' logic, DOM-free: which weapons to offer, what a refused shot
 * says and for how long, and how the API's field errors map onto the operator's form.
 */

/** The weapons in the order the picker shows them, with the fault each fires. */
export const weaponOrder: readonly {
  readonly weapon: Weapon;
  readonly label: string;
  readonly fault: string;
}[] = [
  { weapon: "torpedo", label: "Torpedo", fault: "pod kill" },
  { weapon: "mine", label: "Mine", fault: "eviction" },
  { weapon: "fog", label: "Fog", fault: "config drift" },
  { weapon: "anchor", label: "Anchor", fault: "resource squeeze" },
  { weapon: "net", label: "Net", fault: "network delay" },
];

export interface WeaponChoice {
  readonly weapon: Weapon;
  readonly label: string;
  readonly fault: string;
  /** Why it cannot be fired in this game; undefined when it can. */
  readonly disabled: string | undefined;
}

/** Only the game's weapons are offered; net is always shown, disabled with its reason. */
export function weaponChoices(game: GameSummary | null): WeaponChoice[] {
  if (game === null) return [];
  return weaponOrder.flatMap(({ weapon, label, fault }): WeaponChoice[] => {
    const rule = game.weapons[weapon];
    if (rule.allowed) return [{ weapon, label, fault, disabled: undefined }];
    if (weapon === "net") return [{ weapon, label, fault, disabled: rule.reason }];
    return [];
  });
}

/** The weapon to keep selected: the one chosen if still allowed, else the first allowed. */
export function keptWeapon(choices: readonly WeaponChoice[], chosen: Weapon | undefined): Weapon | undefined {
  const allowed = choices.filter((choice) => choice.disabled === undefined);
  return allowed.find((choice) => choice.weapon === chosen)?.weapon ?? allowed[0]?.weapon;
}

/** A refused shot as the player sees it: the reason, and until when (ms on the page's clock). */
export interface Refusal {
  readonly reason: string;
  readonly until: number;
}

/**
 * A 429's reason and Retry-After (whole seconds; the header wins over the body's copy, a missing or bad
 * one counts as 1 s) as a refusal ending `now` plus that.
 */
export function refusalOf(body: unknown, retryAfterHeader: string | null, now: number): Refusal {
  const reason =
    typeof body === "object" && body !== null && typeof (body as { reason?: unknown }).reason === "string"
      ? (body as { reason: string }).reason
      : "refused";
  const header = Number(retryAfterHeader);
  const bodySeconds = (body as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
  const seconds =
    Number.isInteger(header) && header >= 1
      ? header
      : typeof bodySeconds === "number" && bodySeconds >= 1
        ? Math.ceil(bodySeconds)
        : 1;
  return { reason, until: now + seconds * 1_000 };
}

/** Whole seconds left, rounded up, never below 0. */
export function secondsLeft(refusal: Refusal, now: number): number {
  return Math.max(0, Math.ceil((refusal.until - now) / 1_000));
}

/** "reloading: 3 s" while the refusal lasts; undefined once it is over. */
export function refusalText(refusal: Refusal | undefined, now: number): string | undefined {
  if (refusal === undefined) return undefined;
  const left = secondsLeft(refusal, now);
  return left === 0 ? undefined : `${refusal.reason}: ${left} s`;
}

/**
 * The API's `field: problem; field: problem` message as problems per form field: `namespaces[1]` belongs
 * to the namespaces input, `limits.player.per` to its own. Text without a field goes under `(form)`.
 */
export function fieldErrors(message: string): Map<string, string[]> {
  const errors = new Map<string, string[]>();
  for (const part of message.split("; ")) {
    const match = /^([A-Za-z()][\w.[\]()]*): (.*)$/s.exec(part);
    const field = match?.[1] === undefined ? "(form)" : formField(match[1]);
    const problem = match?.[2] ?? part;
    errors.set(field, [...(errors.get(field) ?? []), problem]);
  }
  return errors;
}

function formField(path: string): string {
  const top = path.replace(/\[\d+\]$/, "").replace(/\[\d+\].*$/, "");
  return top === "(body)" ? "(form)" : top;
}

/** The operator's open-game form, as typed. */
export interface GameForm {
  /** Namespaces separated by commas or spaces. */
  readonly namespaces: string;
  readonly weapons: readonly Weapon[];
  readonly unsafe: boolean;
  readonly playerShots: string;
  readonly playerPer: string;
  readonly gameShots: string;
  readonly gamePer: string;
  /** How long a fog or an anchor lasts before Broadside reverts it. */
  readonly revertAfter: string;
}

export const defaultGameForm: GameForm = {
  namespaces: "",
  weapons: ["torpedo"],
  unsafe: false,
  playerShots: "1",
  playerPer: "3s",
  gameShots: "3",
  gamePer: "1s",
  revertAfter: "60s",
};

/**
 * The body of POST /api/operator/game. Numbers are sent as typed when they are not whole numbers, so the
 * API, which checks every field, is the one that names the problem.
 */
export function gameBody(form: GameForm): object {
  return {
    namespaces: form.namespaces.split(/[\s,]+/).filter((name) => name !== ""),
    weapons: [...form.weapons],
    unsafe: form.unsafe,
    revertAfter: form.revertAfter.trim(),
    limits: {
      player: { shots: numberOrText(form.playerShots), per: form.playerPer.trim() },
      game: { shots: numberOrText(form.gameShots), per: form.gamePer.trim() },
    },
  };
}

function numberOrText(text: string): number | string {
  const trimmed = text.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/** A game code as the player may type it (any case, spaces, a dash): the API takes it as typed. */
export function tidyCode(text: string): string {
  return text.toUpperCase().replace(/[^A-Z0-9]/g, "");
}

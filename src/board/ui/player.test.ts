import { describe, expect, it } from "vitest";
import { columnName, healsText, perMinute, squareLabel, squaresOf } from "./cells.js";
import {
  defaultGameForm,
  fieldErrors,
  gameBody,
  keptWeapon,
  refusalOf,
  refusalText,
  weaponChoices,
} from "./player.js";
import type { GameSummary } from "./protocol.js";

/* The player's and the operator's screens, without a browser: what they offer, say and send. */

const weapons = (allowed: string[]): GameSummary["weapons"] => ({
  torpedo: allowed.includes("torpedo")
    ? { allowed: true }
    : { allowed: false, reason: "not allowed in this game" },
  mine: allowed.includes("mine") ? { allowed: true } : { allowed: false, reason: "not allowed in this game" },
  fog: allowed.includes("fog") ? { allowed: true } : { allowed: false, reason: "not allowed in this game" },
  anchor: allowed.includes("anchor")
    ? { allowed: true }
    : { allowed: false, reason: "not allowed in this game" },
  net: { allowed: false, reason: "needs the node daemon's network faults" },
});

const game = (allowed: string[]): GameSummary => ({
  namespaces: ["shop"],
  weapons: weapons(allowed),
  unsafe: false,
  revertAfter: "1m",
  limits: { player: { shots: 1, per: "3s" }, game: { shots: 3, per: "1s" }, players: 500 },
  openedAt: 0,
});

describe("the weapon picker", () => {
  it("offers only the game's weapons, and net disabled with its reason", () => {
    expect(weaponChoices(game(["torpedo"])).map((choice) => [choice.weapon, choice.disabled])).toEqual([
      ["torpedo", undefined],
      ["net", "needs the node daemon's network faults"],
    ]);
    expect(weaponChoices(game(["torpedo", "mine"])).map((choice) => choice.weapon)).toEqual([
      "torpedo",
      "mine",
      "net",
    ]);
    expect(weaponChoices(game(["torpedo", "fog", "anchor"])).map((choice) => choice.weapon)).toEqual([
      "torpedo",
      "fog",
      "anchor",
      "net",
    ]);
    expect(weaponChoices(null)).toEqual([]);
  });

  it("keeps the chosen weapon while it is allowed, else the first allowed, never a disabled one", () => {
    const both = weaponChoices(game(["torpedo", "mine"]));
    expect(keptWeapon(both, "mine")).toBe("mine");
    expect(keptWeapon(weaponChoices(game(["torpedo"])), "mine")).toBe("torpedo");
    expect(keptWeapon(both, "net")).toBe("torpedo");
    expect(keptWeapon([], undefined)).toBeUndefined();
  });
});

describe("a refused shot", () => {
  it("says the API's reason and counts down from Retry-After", () => {
    const refusal = refusalOf({ reason: "reloading", retryAfterSeconds: 3 }, "3", 10_000);
    expect(refusalText(refusal, 10_000)).toBe("reloading: 3 s");
    expect(refusalText(refusal, 10_001)).toBe("reloading: 3 s");
    expect(refusalText(refusal, 11_500)).toBe("reloading: 2 s");
    expect(refusalText(refusal, 12_999)).toBe("reloading: 1 s");
    expect(refusalText(refusal, 13_000)).toBeUndefined();
  });

  it("takes the header over the body, the body without a header, and 1 s when neither says", () => {
    expect(refusalOf({ reason: "the fleet's budget is spent", retryAfterSeconds: 9 }, "2", 0).until).toBe(
      2_000,
    );
    expect(refusalOf({ reason: "that ship is already listing", retryAfterSeconds: 4 }, null, 0).until).toBe(
      4_000,
    );
    expect(refusalOf({}, "soon", 0)).toEqual({ reason: "refused", until: 1_000 });
  });
});

describe("the operator's form", () => {
  it("sends the rules as the API reads them", () => {
    expect(
      gameBody({
        ...defaultGameForm,
        namespaces: " shop, web  demo ",
        weapons: ["torpedo", "mine", "fog", "anchor"],
        unsafe: true,
        revertAfter: " 2m ",
      }),
    ).toEqual({
      namespaces: ["shop", "web", "demo"],
      weapons: ["torpedo", "mine", "fog", "anchor"],
      unsafe: true,
      revertAfter: "2m",
      limits: { player: { shots: 1, per: "3s" }, game: { shots: 3, per: "1s" } },
    });
    // Not a whole number: sent as typed, for the API to name.
    expect(gameBody({ ...defaultGameForm, playerShots: "1.5" })).toMatchObject({
      limits: { player: { shots: "1.5" } },
    });
  });

  it("puts each problem the API names under its field", () => {
    const errors = fieldErrors(
      'namespaces[0]: "kube-system" is protected; limits.player.per: must be at most 10m, got "1h"; weapons[1]: net is disabled: needs the node daemon\'s network faults',
    );
    expect(Object.fromEntries(errors)).toEqual({
      namespaces: ['"kube-system" is protected'],
      "limits.player.per": ['must be at most 10m, got "1h"'],
      weapons: ["net is disabled: needs the node daemon's network faults"],
    });
    expect(Object.fromEntries(fieldErrors("a game is open already: close it first"))).toEqual({
      "(form)": ["a game is open already: close it first"],
    });
    expect(Object.fromEntries(fieldErrors("(body): must be a JSON object"))).toEqual({
      "(form)": ["must be a JSON object"],
    });
  });
});

describe("a square as read out", () => {
  it("names the cell Battleship-style, its ship, its pod and its state, with the repair's ms", () => {
    const rows = squaresOf({
      namespace: "shop",
      side: 6,
      ships: [
        {
          kind: "Deployment",
          name: "web",
          key: "Deployment/web",
          length: 1,
          placement: { row: 2, col: 1, orientation: "across" },
          cells: [
            {
              row: 2,
              col: 1,
              index: 0,
              state: "repaired",
              repairedMs: 842,
              pod: { name: "web-7c9f", uid: "u", phase: "Running", ready: true, deleting: false },
            },
          ],
          overflow: [],
        },
      ],
    });
    expect(rows).toHaveLength(6);
    expect(rows.every((row) => row.length === 6)).toBe(true);
    const square = (row: number, col: number) => {
      const found = rows[row]?.[col];
      if (found === undefined) throw new Error(`no square at ${row}, ${col}`);
      return found;
    };
    expect(squareLabel(square(2, 1))).toBe("B3, Deployment web, web-7c9f, repaired in 842 ms");
    expect(squareLabel(square(0, 0))).toBe("A1, water");
    expect([0, 25, 26, 27, 701].map(columnName)).toEqual(["A", "Z", "AA", "AB", "ZZ"]);
  });

  it("reads the drift figures out: the rate per minute, and who restored the drifts", () => {
    expect([undefined, 1.25, 42.4].map(perMinute)).toEqual(["-", "1.3 per min", "42 per min"]);
    expect(healsText({ gitops: 2, kubectl: 1, broadside: 1, other: 0 })).toBe(
      "GitOps 2, kubectl 1, Broadside 1, other 0",
    );
  });
});

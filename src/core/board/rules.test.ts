import { describe, expect, it } from "vitest";
import { BroadsideError } from "../errors.js";
import { checkGameRules, parseGameRules } from "./rules.js";

/*
 * The operator opens a game: which namespaces are the sea, which weapons the crowd gets, whether a ship
 * may be sunk, and how fast anyone may fire. A body with any mistake opens nothing, and says which field.
 */

function problems(body: unknown, options: { broadsideNamespace?: string } = {}): string[] {
  const checked = checkGameRules(body, options);
  return checked.ok ? [] : checked.problems.map(({ field, problem }) => `${field}: ${problem}`);
}

describe("a game's rules", () => {
  it("take Broadside's defaults for whatever the operator leaves out: torpedoes, safe, 1 shot/3 s, 3 shots/s", () => {
    const rules = parseGameRules({ namespaces: ["shop", "payments"] });
    expect(rules.namespaces).toEqual(["shop", "payments"]);
    expect(rules.unsafe).toBe(false);
    expect(rules.weapons).toEqual({
      torpedo: { allowed: true },
      mine: { allowed: false, reason: "not allowed in this game" },
      fog: { allowed: false, reason: "not allowed in this game" },
      anchor: { allowed: false, reason: "not allowed in this game" },
      net: { allowed: false, reason: "needs the node daemon's network faults" },
    });
    expect(rules.limits.player.shots).toBe(1);
    expect(rules.limits.player.per.milliseconds).toBe(3_000);
    expect(rules.limits.game.shots).toBe(3);
    expect(rules.limits.game.per.milliseconds).toBe(1_000);
    expect(rules.revertAfter.milliseconds).toBe(60_000);
  });

  it("revert a fog or an anchor after the operator's revertAfter, from 10 s to 10 min", () => {
    expect(parseGameRules({ namespaces: ["shop"], revertAfter: "2m" }).revertAfter.milliseconds).toBe(
      120_000,
    );
    expect(problems({ namespaces: ["shop"], revertAfter: "5s" })).toEqual([
      'revertAfter: must be at least 10s, got "5s"',
    ]);
    expect(problems({ namespaces: ["shop"], revertAfter: "1h" })).toEqual([
      expect.stringMatching(/^revertAfter: .*10m/) as unknown,
    ]);
    expect(problems({ namespaces: ["shop"], revertAfter: 60 })).toEqual([
      'revertAfter: must be a duration such as "3s"',
    ]);
  });

  it("carry the operator's weapons, unsafe and limits through to the shot limits", () => {
    const rules = parseGameRules({
      namespaces: ["shop"],
      weapons: ["torpedo", "mine", "fog", "anchor"],
      unsafe: true,
      limits: { player: { shots: 2, per: "10s" }, game: { shots: 5, per: "2s" } },
    });
    expect(Object.values(rules.weapons).filter((rule) => rule.allowed)).toHaveLength(4);
    expect(rules.limits).toMatchObject({ unsafe: true, player: { shots: 2 }, game: { shots: 5 } });
    expect(rules.limits.player.per.milliseconds).toBe(10_000);
  });

  it("never make a protected namespace a sea, Broadside's own included", () => {
    expect(problems({ namespaces: ["shop", "kube-system", "broadside-system"] })).toEqual([
      'namespaces[1]: "kube-system" is protected and can never be a sea',
      'namespaces[2]: "broadside-system" is protected and can never be a sea',
    ]);
    expect(problems({ namespaces: ["kube-public", "kube-node-lease"] })).toHaveLength(2);
    expect(problems({ namespaces: ["chaos"] }, { broadsideNamespace: "chaos" })).toEqual([
      'namespaces[0]: "chaos" is protected and can never be a sea',
    ]);
  });

  it("refuse the net, which needs the node daemon's network faults, and name every other mistake at once", () => {
    expect(
      problems({
        namespaces: ["Shop", "shop", "shop"],
        weapons: ["torpedo", "net", "laser"],
        unsafe: "yes",
        limits: { player: { shots: 0, per: "3 seconds" }, game: { shots: 3, per: "100ms" } },
        colour: "red",
      }),
    ).toEqual([
      "namespaces[0]: \"Shop\" is not a namespace name: must consist of lowercase letters, digits and '-', starting and ending with a letter or digit",
      'namespaces[2]: "shop" is listed twice',
      "weapons[1]: net is disabled: needs the node daemon's network faults",
      "weapons[2]: must be one of torpedo, mine, fog, anchor, net",
      "unsafe: must be true or false",
      "limits.player.shots: must be at least 1",
      'limits.player.per: "3 seconds" is not a duration; use a number with a unit: 500ms, 30s, 5m, 1h',
      'limits.game.per: must be at least 1s, got "100ms"',
      '(body): Unrecognized key: "colour"',
    ]);
  });

  it("refuse a body that is not a mapping, or names no namespace, and throw BRD_USAGE naming the fields", () => {
    expect(problems(null)).toHaveLength(1);
    expect(problems({ namespaces: [] })).toEqual(["namespaces: must name at least one namespace"]);
    expect(problems({ namespaces: ["shop"], limits: { game: { shots: 1000, per: "1s" } } })).toEqual([
      "limits.game.shots: must be at most 50",
    ]);
    expect(() => parseGameRules({ namespaces: ["kube-system"], weapons: [] })).toThrow(
      new BroadsideError(
        "BRD_USAGE",
        'namespaces[0]: "kube-system" is protected and can never be a sea; weapons: must allow at least one weapon',
      ),
    );
  });
});

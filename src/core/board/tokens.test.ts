import { describe, expect, it } from "vitest";
import { BroadsideError } from "../errors.js";
import { FakeClock } from "../fake-clock.js";
import { Duration } from "../duration.js";
import {
  gameCodeAlphabet,
  newGameCode,
  newPlayerId,
  parseGameCode,
  PlayerTokens,
  sanitizeNickname,
} from "./tokens.js";

/*
 * Joining a game: a code read off the screen, a nickname everyone will see, and a token that lets that
 * player fire in that game for two hours and nowhere else.
 */

const secret = Buffer.alloc(32, 7);
const player = { gameId: "KX7P2M", playerId: "p-1", nickname: "Ada" };

function base64(json: unknown): string {
  return Buffer.from(JSON.stringify(json)).toString("base64url");
}

describe("player tokens", () => {
  it("lets the player act in their game until the token expires two hours later", async () => {
    const clock = new FakeClock(1_000_000);
    const tokens = new PlayerTokens({ secret, clock });
    const token = tokens.issue(player);
    expect(tokens.verify(token, "KX7P2M")).toEqual({
      valid: true,
      claims: { ...player, issuedAt: 1_000_000, expiresAt: 1_000_000 + 7_200_000 },
    });
    await clock.advance(7_200_000 - 1);
    expect(tokens.verify(token, "KX7P2M").valid).toBe(true);
    await clock.advance(1);
    expect(tokens.verify(token, "KX7P2M")).toEqual({
      valid: false,
      reason: "expired",
      message: "the token has expired; join again",
    });
  });

  it("is good for one game only", () => {
    const tokens = new PlayerTokens({ secret, clock: new FakeClock() });
    expect(tokens.verify(tokens.issue(player), "ZZZZZZ")).toMatchObject({
      valid: false,
      reason: "wrong-game",
    });
  });

  it("is refused when anyone changes a byte of it, or signs it with another secret", () => {
    const clock = new FakeClock();
    const tokens = new PlayerTokens({ secret, clock });
    const [tag, payload, signature] = tokens.issue(player).split(".");
    const promoted = base64({ g: "KX7P2M", p: "p-1", n: "Ada", iat: 0, exp: 10 ** 13 });
    expect(tokens.verify(`${tag}.${promoted}.${signature}`, "KX7P2M")).toMatchObject({ reason: "tampered" });
    const flipped = `${signature?.slice(0, -2) ?? ""}${signature?.endsWith("AA") === true ? "BA" : "AA"}`;
    expect(tokens.verify(`${tag}.${payload}.${flipped}`, "KX7P2M")).toMatchObject({ reason: "tampered" });
    expect(tokens.verify(`${tag}.${payload}.`, "KX7P2M")).toMatchObject({ reason: "tampered" });

    const stranger = new PlayerTokens({ secret: Buffer.alloc(32, 8), clock });
    expect(tokens.verify(stranger.issue(player), "KX7P2M")).toMatchObject({ reason: "tampered" });
  });

  it("calls anything that is not a token of ours malformed", () => {
    const tokens = new PlayerTokens({ secret, clock: new FakeClock() });
    for (const junk of ["", "Bearer abc", "v1.abc", "v2.a.b", "v1.a.b.c", `v1.${"a".repeat(2_000)}.b`]) {
      expect(tokens.verify(junk, "KX7P2M")).toMatchObject({ valid: false, reason: "malformed" });
    }
  });

  it("refuses a secret shorter than 256 bits and takes a shorter lifetime", () => {
    expect(() => new PlayerTokens({ secret: Buffer.alloc(16), clock: new FakeClock() })).toThrow(RangeError);
    const tokens = new PlayerTokens({
      secret,
      clock: new FakeClock(),
      lifetime: Duration.ofMilliseconds(60_000),
    });
    expect(tokens.verify(tokens.issue(player), "KX7P2M")).toMatchObject({ claims: { expiresAt: 60_000 } });
    expect(newPlayerId()).not.toBe(newPlayerId());
  });
});

describe("game codes", () => {
  it("are six symbols that cannot be misread: no 0, O, 1 or I", () => {
    expect(gameCodeAlphabet).toHaveLength(32);
    expect(gameCodeAlphabet).not.toMatch(/[0O1I]/);
    const code = newGameCode();
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{6}$/);
    // Every byte maps to a symbol, the top of the byte range wrapping round evenly.
    expect(newGameCode(() => Uint8Array.from([0, 31, 32, 255, 100, 7]))).toBe("A9A9EH");
  });

  it("are read as typed, in any case and with a dash or spaces between groups", () => {
    expect(parseGameCode("kx7-p2m")).toBe("KX7P2M");
    expect(parseGameCode(" KX7 P2M ")).toBe("KX7P2M");
    expect(() => parseGameCode("KX7P2")).toThrow("code: must be 6 characters, got 5");
    expect(() => parseGameCode("KX7P2O")).toThrow('code: "O" is never part of a game code');
  });
});

describe("nicknames", () => {
  it("are trimmed and NFC-normalised, in any script", () => {
    expect(sanitizeNickname("  Ada Lovelace ")).toBe("Ada Lovelace");
    expect(sanitizeNickname("Jose\u0301")).toBe("Jos\u00e9");
    expect(sanitizeNickname("小明_42")).toBe("小明_42");
    expect(sanitizeNickname("नमस्ते")).toBe("नमस्ते");
    expect(sanitizeNickname("x".repeat(24))).toHaveLength(24);
  });

  it.each([
    [42, "nickname: must be a string"],
    ["   ", "nickname: must not be empty"],
    ["x".repeat(25), "nickname: must be at most 24 characters, got 25"],
    ["ada\u0000", "nickname: must not contain control characters"],
    ["ada\nbob", "nickname: must not contain control characters"],
    ["\u202eadmin", "nickname: must not contain bidirectional text controls"],
    ["ada\u2066", "nickname: must not contain bidirectional text controls"],
    ["<script>", `nickname: may hold only letters, digits, spaces, '-' and '_', not "<" (U+003C)`],
    [
      "zero\u200bwidth",
      `nickname: may hold only letters, digits, spaces, '-' and '_', not "\u200b" (U+200B)`,
    ],
    ["🚢", `nickname: may hold only letters, digits, spaces, '-' and '_', not "🚢" (U+1F6A2)`],
  ])("refuses %j: %s", (input, message) => {
    expect(() => sanitizeNickname(input)).toThrow(message);
    expect(() => sanitizeNickname(input)).toThrow(BroadsideError);
  });
});

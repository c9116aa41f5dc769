import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Clock } from "../clock.js";
import { Duration } from "../duration.js";
import { usageError } from "../errors.js";

/**
 * Who may fire: players join a game with its code and a nickname and get a short-lived token, signed
 * with HMAC-SHA256 under the board's secret and scoped to that one game. The token travels in a header
 * (never a URL or a log) and is checked on every shot. No state is kept per token: a token is valid while
 * its signature holds, its game is the one asked about and it has not expired.
 */

export interface PlayerClaims {
  readonly gameId: string;
  readonly playerId: string;
  readonly nickname: string;
  /** Epoch ms. */
  readonly issuedAt: number;
  /** Epoch ms; the token is refused from this moment on. */
  readonly expiresAt: number;
}

export type TokenRejection = "malformed" | "tampered" | "expired" | "wrong-game";

export type TokenCheck =
  | { readonly valid: true; readonly claims: PlayerClaims }
  | { readonly valid: false; readonly reason: TokenRejection; readonly message: string };

export const defaultTokenLifetime = Duration.ofMilliseconds(2 * 3_600_000);
/** The shortest secret accepted: 256 bits, the size of the HMAC's output. */
export const minSecretBytes = 32;
/** Longer than any token this module issues (a 24-character nickname is at most 96 bytes of UTF-8). */
const maxTokenLength = 1_024;
const version = "v1";

const claimsSchema = z.strictObject({
  g: z.string().min(1),
  p: z.string().min(1),
  n: z.string().min(1),
  iat: z.number().int(),
  exp: z.number().int(),
});

export interface PlayerTokenOptions {
  readonly secret: Uint8Array;
  readonly lifetime?: Duration;
  readonly clock: Pick<Clock, "now">;
}

export class PlayerTokens {
  private readonly secret: Buffer;
  private readonly lifetime: Duration;
  private readonly clock: Pick<Clock, "now">;

  constructor(options: PlayerTokenOptions) {
    if (options.secret.byteLength < minSecretBytes) {
      throw new RangeError(`the token secret must be at least ${minSecretBytes} bytes`);
    }
    this.secret = Buffer.from(options.secret);
    this.lifetime = options.lifetime ?? defaultTokenLifetime;
    this.clock = options.clock;
  }

  /** A token for `playerId` in `gameId`, valid for the lifetime from now. */
  issue(player: { readonly gameId: string; readonly playerId: string; readonly nickname: string }): string {
    const issuedAt = this.clock.now();
    const payload = {
      g: player.gameId,
      p: player.playerId,
      n: player.nickname,
      iat: issuedAt,
      exp: issuedAt + this.lifetime.milliseconds,
    };
    const body = `${version}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
    return `${body}.${this.sign(body).toString("base64url")}`;
  }

  /** Whether `token` lets its bearer act in `gameId` now, and if so as whom. */
  verify(token: string, gameId: string): TokenCheck {
    const parts = token.length <= maxTokenLength ? token.split(".") : [];
    const [tag, payload, signature] = parts;
    if (parts.length !== 3 || tag !== version || payload === undefined || signature === undefined) {
      return rejected("malformed", "the token is not a player token");
    }
    if (!this.signatureHolds(`${tag}.${payload}`, signature)) {
      return rejected("tampered", "the token's signature does not match");
    }
    const claims = parseClaims(payload);
    if (claims === undefined) return rejected("malformed", "the token's claims cannot be read");
    if (claims.gameId !== gameId) return rejected("wrong-game", "the token is for another game");
    if (this.clock.now() >= claims.expiresAt) return rejected("expired", "the token has expired; join again");
    return { valid: true, claims };
  }

  private sign(body: string): Buffer {
    return createHmac("sha256", this.secret).update(body).digest();
  }

  private signatureHolds(body: string, signature: string): boolean {
    const given = Buffer.from(signature, "base64url");
    const expected = this.sign(body);
    // timingSafeEqual needs equal lengths; the length of a real signature is no secret.
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

function parseClaims(payload: string): PlayerClaims | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  const parsed = claimsSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { g, p, n, iat, exp } = parsed.data;
  return { gameId: g, playerId: p, nickname: n, issuedAt: iat, expiresAt: exp };
}

function rejected(reason: TokenRejection, message: string): TokenCheck {
  return { valid: false, reason, message };
}

/** A new player's id: random, so two players with the same nickname stay apart. */
export function newPlayerId(): string {
  return randomUUID();
}

/** A fresh secret for a board process that was given none (its tokens then die with it). */
export function newTokenSecret(): Buffer {
  return randomBytes(minSecretBytes);
}

/**
 * Game codes: read aloud and typed on phones, so no 0/O or 1/I. 32 symbols, so each random byte maps to
 * one without bias (256 is a multiple of 32); 6 symbols give about a billion codes.
 */
export const gameCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
export const gameCodeLength = 6;

export function newGameCode(random: (bytes: number) => Uint8Array = randomBytes): string {
  return [...random(gameCodeLength)].map((byte) => gameCodeAlphabet[byte % gameCodeAlphabet.length]).join("");
}

/** A code as a player typed it (any case, spaces or a dash between groups), or a usage error naming `field`. */
export function parseGameCode(text: string, field = "code"): string {
  const code = text.replace(/[\s-]/g, "").toUpperCase();
  if (code.length !== gameCodeLength) {
    throw usageError(field, `must be ${gameCodeLength} characters, got ${code.length}`);
  }
  const stray = Array.from(code).find((char) => !gameCodeAlphabet.includes(char));
  if (stray !== undefined) throw usageError(field, `${JSON.stringify(stray)} is never part of a game code`);
  return code;
}

export const nicknameMaxLength = 24;
/** Characters that reorder text (bidi embeddings, overrides, isolates and marks): a trick, never a name. */
const bidiControls = /[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/u;
const nicknamePattern = /^[\p{L}\p{M}\p{N} _-]+$/u;

/**
 * A nickname as it will be shown to everyone: trimmed, NFC-normalised, 1 to 24 characters of letters
 * (any script, with their combining marks), digits, spaces, '-' and '_'. Anything else is refused with a
 * usage error naming the field `nickname` and what is wrong, rather than silently cleaned: the player
 * sees the name the others will see.
 */
export function sanitizeNickname(input: unknown): string {
  if (typeof input !== "string") throw usageError("nickname", "must be a string");
  if (/\p{Cc}/u.test(input)) throw usageError("nickname", "must not contain control characters");
  if (bidiControls.test(input)) throw usageError("nickname", "must not contain bidirectional text controls");
  const nickname = input.trim().normalize("NFC");
  if (nickname === "") throw usageError("nickname", "must not be empty");
  const length = Array.from(nickname).length;
  if (length > nicknameMaxLength) {
    throw usageError("nickname", `must be at most ${nicknameMaxLength} characters, got ${length}`);
  }
  if (!nicknamePattern.test(nickname)) {
    const stray = Array.from(nickname).find((char) => !nicknamePattern.test(char)) ?? "";
    throw usageError(
      "nickname",
      `may hold only letters, digits, spaces, '-' and '_', not ${JSON.stringify(stray)} (U+${codePoint(stray)})`,
    );
  }
  return nickname;
}

function codePoint(char: string): string {
  return (char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
}

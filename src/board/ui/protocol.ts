import type { BoardState } from "../board.js";
import type { BoardEvent } from "../game.js";

/**
 * What the board's HTTP API sends, as the browser reads it: the types are the server's own (imported as
 * types only, so nothing of the server is bundled), and the helpers here turn an SSE message into one of
 * them. DOM-free, so the unit tier runs them under Node.
 */

export type { BoardState } from "../board.js";
export type { BoardEvent, GameSummary, PublicDrift, PublicShot, ShotResultKind } from "../game.js";
export type { CellState, CellView, GridView, SeaEvent, ShipView } from "../../core/board/sea.js";
export type { DriftFigures, PlayerScore, Scoreboard } from "../../core/board/scoreboard.js";
export type { Weapon, WeaponRule } from "../../core/board/rules.js";
export type { DuelAttackView, DuelRestorer, DuelView } from "../../core/board/duel-view.js";

/** One message of GET /api/board/events: `state` first, then the board's events by their type. */
export type StreamMessage = { readonly type: "state"; readonly state: BoardState } | BoardEvent;

/** The stream's event names, each a listener the client adds to its EventSource. */
export const streamEventNames = [
  "state",
  "sea",
  "shot",
  "scoreboard",
  "game",
  "grid",
  "drift",
  "duel",
] as const;

/**
 * An SSE message (its event name and data line) as a StreamMessage, or undefined for one this client does
 * not know: a newer board may add events, and an old page must keep going.
 */
export function parseStreamMessage(event: string, data: string): StreamMessage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  if (event === "state") return { type: "state", state: parsed as BoardState };
  const type = (parsed as { type?: unknown }).type;
  return type === event && (streamEventNames as readonly string[]).includes(type)
    ? (parsed as BoardEvent)
    : undefined;
}

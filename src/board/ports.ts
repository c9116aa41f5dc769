import type { SeaState } from "../core/board/sea.js";
import type { HaltHold } from "../core/halt.js";

/*
 * The seams of the board (issue 11): what it asks of the cluster, as small interfaces, so the server's
 * every route is unit-tested with in-memory implementations and the command wires the real ones
 * (engine-shots.ts over the engine, kube-sea-feed.ts over informers, kube/access-review.ts).
 */

/** The weapons the board can fire today: each has an engine path (ADR 0022). */
export type BoardWeapon = "torpedo" | "mine";

/** One admitted shot at one pod, as the engine is asked to fire it. */
export interface BoardShot {
  readonly namespace: string;
  readonly pod: { readonly name: string; readonly uid: string };
  readonly weapon: BoardWeapon;
  /** The game lets ships be sunk: the engine's per-workload cap is lifted for this shot. */
  readonly unsafe: boolean;
  /** Who fired, for the ledger record's actor. */
  readonly playerId: string;
}

/** What the cluster made of a shot: accepted (the pod is going), or refused with the API's reason. */
export type BoardShotResult =
  | { readonly accepted: true; readonly ledgerId: string }
  | { readonly accepted: false; readonly reason: string; readonly ledgerId?: string };

export interface HaltResult {
  readonly hold: HaltHold;
  /** Open ledger records the halt closed (reverted, or found healed or gone). */
  readonly reverted: number;
}

/** The engine, as the board fires through it: ledger record first, then the DELETE or the eviction. */
export interface BoardEngine {
  fire(shot: BoardShot): Promise<BoardShotResult>;
  /** Holds the kill switch and reverts every open ledger record, of any Broadside process. */
  halt(by: string, reason: string): Promise<HaltResult>;
  /** Per namespace that cannot be a sea (missing, not opted in, protected), why; empty when all can. */
  refuseNamespaces(namespaces: readonly string[]): Promise<readonly string[]>;
}

/** Keeps a game's sea up to date from the cluster until stopped. */
export interface SeaFeed {
  /** Lists each namespace into `sea` (syncNamespace) and then follows its changes; resolves once listed. */
  follow(namespaces: readonly string[], sea: SeaState): Promise<FollowedSea>;
}

export interface FollowedSea {
  stop(): Promise<void>;
}

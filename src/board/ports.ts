import type { DuelView } from "../core/board/duel-view.js";
import type { SeaState, WorkloadRef } from "../core/board/sea.js";
import type { Duration } from "../core/duration.js";
import type { HaltHold } from "../core/halt.js";

/*
 * The seams of the board (issue 11): what it asks of the cluster, as small interfaces, so the server's
 * every route is unit-tested with in-memory implementations and the command wires the real ones
 * (engine-shots.ts over the engine, kube-sea-feed.ts over informers, kube/access-review.ts).
 */

/** The weapons the board can fire: each has an engine path (ADR 0022, ADR 0028). */
export type BoardWeapon = PodWeapon | DriftWeapon;
/** Weapons that act on the pod in the cell: pod kill, eviction. */
export type PodWeapon = "torpedo" | "mine";
/** Weapons that act on the ship's objects: config drift, resource squeeze; reverted at a deadline. */
export type DriftWeapon = "fog" | "anchor";

export function isDriftWeapon(weapon: BoardWeapon): weapon is DriftWeapon {
  return weapon === "fog" || weapon === "anchor";
}

/** One admitted shot at one cell, as the engine is asked to fire it. */
export interface BoardShot {
  readonly namespace: string;
  /** The pod in the cell: the target of a torpedo or a mine. */
  readonly pod: { readonly name: string; readonly uid: string };
  /** The ship the cell belongs to: the target of a fog (its ConfigMaps) or an anchor (its workload). */
  readonly ship: WorkloadRef;
  readonly weapon: BoardWeapon;
  /** A fog or an anchor is reverted this long after it was applied (the game's `revertAfter`). */
  readonly revertAfter: Duration;
  /** The game lets ships be sunk: the engine's per-workload cap is lifted for this shot. */
  readonly unsafe: boolean;
  /** Who fired, for the ledger record's actor. */
  readonly playerId: string;
}

/**
 * What the cluster made of a shot: accepted (the pod is going, or the drift is on), refused with the
 * API's reason, or `missed`: nothing to aim at (a fog at a ship that carries no config), nothing written.
 */
export type BoardShotResult =
  | { readonly accepted: true; readonly ledgerId: string; readonly drift?: DriftHandle }
  | {
      readonly accepted: false;
      readonly reason: string;
      readonly ledgerId?: string;
      readonly missed?: boolean;
      /** A mine the ship's PodDisruptionBudgets held off (the Eviction API refused it): their names. */
      readonly shield?: readonly string[];
    };

/** A fog's or an anchor's change, one per ledger record (a squeeze of two containers is two). */
export interface DriftRecordHandle {
  /** The ledger record's id. */
  readonly id: string;
  /** What was drifted, never its value: "ConfigMap/app-settings /data/level". */
  readonly object: string;
  /** Epoch ms the change was accepted. */
  readonly driftedAt: number;
  /** Resolves when the field is restored: by Broadside's revert (deadline, halt, stop) or by someone else. */
  readonly restored: Promise<DriftEnd>;
}

export interface DriftHandle {
  readonly records: readonly DriftRecordHandle[];
}

export interface DriftEnd {
  /** Epoch ms: of the watch event that showed someone else's heal, or of Broadside's revert. */
  readonly restoredAt: number;
  /** The field manager of the update that restored it; "broadside" for Broadside's own revert. */
  readonly restoredBy?: string;
  /** The object was deleted meanwhile. */
  readonly gone?: boolean;
  /** Recovery could not finish (the record stays open in the ledger for the next process). */
  readonly leftOpen?: boolean;
}

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
  /**
   * Reverts the drifts this board still keeps (the process is going, or a GameDay ends); nothing else.
   * Resolves with how many ledger records that closed.
   */
  stop(): Promise<number>;
  /** Per namespace that cannot be a sea (missing, not opted in, protected), why; empty when all can. */
  refuseNamespaces(namespaces: readonly string[]): Promise<readonly string[]>;
}

/** Keeps a game's sea up to date from the cluster until stopped. */
export interface SeaFeed {
  /**
   * Lists each namespace into `sea` (syncNamespace) and then follows its changes; resolves once listed.
   * `onRestarts` hears each ship pod's container restarts (the sum of its containerStatuses' restartCount).
   */
  follow(
    namespaces: readonly string[],
    sea: SeaState,
    onRestarts?: (sample: RestartSample) => void,
  ): Promise<FollowedSea>;
}

/** A pod of a ship and its container restarts, as the sea feed saw them. */
export interface RestartSample {
  readonly namespace: string;
  /** The ship's key within its namespace: Kind/name. */
  readonly ship: string;
  readonly podUid: string;
  readonly restarts: number;
  /** From the list the game opened with, rather than a later event. */
  readonly initial: boolean;
}

export interface FollowedSea {
  stop(): Promise<void>;
}

/**
 * The duel running on the cluster, if any (issue 13): read only, derived from the ledger records a duel
 * writes (core/board/duel-view.ts), whatever process runs the duel. kube-duel-feed.ts keeps it from an
 * informer over the ledger.
 */
export interface DuelSource {
  /** The view now: `noDuel` when no duel runs (or before the ledger was first listed). */
  view(): DuelView;
  /** Calls `listener` with each new view as it changes; returns the unsubscribe function. */
  subscribe(listener: (view: DuelView) => void): () => void;
}

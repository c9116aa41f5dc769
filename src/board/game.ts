import { randomUUID } from "node:crypto";
import type { Clock } from "../core/clock.js";
import { usageError } from "../core/errors.js";
import { ShotGate, type ShotRefusal } from "../core/board/limits.js";
import { unavailableWeapons, type GameRules, type Weapon, type WeaponRule } from "../core/board/rules.js";
import {
  computeScoreboard,
  type KillRecord,
  type Scoreboard,
  type ShotRecord,
} from "../core/board/scoreboard.js";
import { gameShipKey, SeaState, type GridView, type SeaEvent } from "../core/board/sea.js";
import type { PlayerClaims } from "../core/board/tokens.js";
import type { BoardEngine, BoardWeapon } from "./ports.js";

/**
 * One open game: the operator's rules, the sea kept from the cluster, the shot gate, and what happened
 * (shots, kills, repairs) for the scoreboard and the stream. A shot is resolved on the sea, admitted by
 * the gate (or refused at once, never queued), then fired through the engine; a repair on the sea gives
 * the pod back to its ship's cap.
 */

/** Weapons with an engine path on the board; the others are refused when a game is opened. */
export const boardWeapons: Readonly<Record<BoardWeapon, true>> = { torpedo: true, mine: true };
/** Why a weapon the rules know cannot be fired from the board yet. */
export const notYetReason = "not yet";

export function isBoardWeapon(weapon: Weapon): weapon is BoardWeapon {
  return weapon in boardWeapons;
}

/** Everything the stream tells spectators, in order. */
export type BoardEvent =
  | { readonly type: "sea"; readonly event: SeaEvent }
  | { readonly type: "shot"; readonly shot: PublicShot }
  | { readonly type: "scoreboard"; readonly scoreboard: Scoreboard }
  | { readonly type: "game"; readonly state: "opened" | "closed" | "halted" }
  /** A namespace's grid as it is now, when its shape changed in a way no `sea` event tells. */
  | { readonly type: "grid"; readonly grid: GridView };

/** A shot as everyone may see it: who (nickname), where, and what came of it. */
export interface PublicShot {
  readonly nickname: string;
  readonly namespace: string;
  readonly row: number;
  readonly col: number;
  readonly weapon: BoardWeapon;
  readonly result: ShotResultKind;
  readonly pod?: string;
  /** Epoch ms the limits admitted the shot at (before its DELETE): the budget can be checked from outside. */
  readonly at: number;
}

/**
 * hit: the API accepted the DELETE or eviction; miss: water, or a cell whose pod is already going;
 * deflected: the cluster refused (a PodDisruptionBudget's shield held, the pod was already gone, a rail).
 */
export type ShotResultKind = "hit" | "miss" | "deflected";

export interface ShotInput {
  readonly namespace: string;
  readonly row: number;
  readonly col: number;
  readonly weapon: Weapon;
}

export type FireOutcome =
  | { readonly fired: true; readonly shot: PublicShot; readonly reason?: string; readonly ledgerId?: string }
  | { readonly fired: false; readonly refusal: ShotRefusal };

export interface GameSummary {
  readonly namespaces: readonly string[];
  readonly weapons: Readonly<Record<Weapon, WeaponRule>>;
  readonly unsafe: boolean;
  readonly limits: {
    readonly player: { readonly shots: number; readonly per: string };
    readonly game: { readonly shots: number; readonly per: string };
    /** Players who may join. */
    readonly players: number;
  };
  readonly openedAt: number;
}

/** The shots kept for the scoreboard: enough for a long GameDay, bounded for a resident process. */
const maxShotRecords = 200_000;
/**
 * At most one scoreboard event in this long. It is recomputed over every shot kept, and a crowd clicks
 * about a thousand times a second (mostly refused): one event per click made the board fall behind its
 * players (the load test, test/integration/board-load.test.ts) and sent every spectator the whole
 * scoreboard a thousand times a second. The first change after a quiet spell is told at once.
 */
export const scoreboardEveryMs = 250;

export class Game {
  /** The game's identity in player tokens: never shown, so a code alone forges nothing. */
  readonly id = randomUUID();
  readonly sea: SeaState;
  readonly rules: GameRules;
  readonly openedAt: number;
  private readonly gate: ShotGate;
  private readonly shots: ShotRecord[] = [];
  private readonly kills = new Map<string, KillRecord>();
  private readonly listeners = new Set<(event: BoardEvent) => void>();
  private joined = 0;
  private scoreboardSentAt = Number.NEGATIVE_INFINITY;
  private scoreboardDue = false;

  constructor(
    readonly code: string,
    rules: GameRules,
    private readonly clock: Clock,
  ) {
    this.rules = { ...rules, weapons: boardWeaponRules(rules.weapons) };
    this.openedAt = clock.now();
    this.gate = new ShotGate(rules.limits, clock);
    this.sea = new SeaState(
      clock,
      (event) => {
        this.onSea(event);
      },
      (namespace) => {
        this.announceGrid(namespace);
      },
    );
  }

  /** Calls `listener` for every event from now on; returns the unsubscribe function. */
  subscribe(listener: (event: BoardEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every listener the namespace's grid as it is now (it changed shape, or the game opened). */
  announceGrid(namespace: string): void {
    if (this.listeners.size === 0) return;
    const grid = this.sea.grid(namespace);
    if (grid !== undefined) this.announce({ type: "grid", grid });
  }

  /** Tells every listener, e.g. that the game closed. */
  announce(event: BoardEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Counts a player in, unless the game is full (`limits.players`): false then. */
  admitPlayer(): boolean {
    if (this.joined >= this.rules.maxPlayers) return false;
    this.joined += 1;
    return true;
  }

  summary(): GameSummary {
    const { player, game } = this.rules.limits;
    return {
      namespaces: this.rules.namespaces,
      weapons: this.rules.weapons,
      unsafe: this.rules.unsafe,
      limits: {
        player: { shots: player.shots, per: player.per.toString() },
        game: { shots: game.shots, per: game.per.toString() },
        players: this.rules.maxPlayers,
      },
      openedAt: this.openedAt,
    };
  }

  grids(): GridView[] {
    return this.sea.namespaces().flatMap((namespace) => this.sea.grid(namespace) ?? []);
  }

  scoreboard(): Scoreboard {
    return computeScoreboard({ shots: this.shots, kills: [...this.kills.values()], now: this.clock.now() });
  }

  /**
   * A player's shot: where it lands, whether the limits let it through, and what the cluster made of it.
   * Bad input (a weapon not allowed, a namespace not on the board, a cell off the grid) throws a usage
   * error naming the field and costs nothing.
   */
  async fire(player: PlayerClaims, input: ShotInput, engine: BoardEngine): Promise<FireOutcome> {
    const weapon = this.allowedWeapon(input.weapon);
    const landed = this.sea.resolveShot(input.namespace, input.row, input.col);
    if (landed.kind === "unknown-namespace") {
      throw usageError("namespace", `${JSON.stringify(input.namespace)} is not on the board`);
    }
    if (landed.kind === "off-grid") {
      throw usageError(
        "row",
        `(${input.row}, ${input.col}) is off the grid of ${landed.side} × ${landed.side}`,
      );
    }
    const aim = { ...input, weapon };
    if (landed.kind === "water" || landed.target === undefined) return this.miss(player, aim);
    const target = landed.target;
    const shipKey = gameShipKey(input.namespace, landed.ship.key);
    const admission = this.gate.admit({
      playerId: player.playerId,
      ship: {
        key: shipKey,
        podUid: target.uid,
        readyPodUids: this.sea.readyPodUids(input.namespace, landed.ship),
      },
    });
    if (!admission.admitted) return this.refused(player, admission);
    return this.shoot(player, { ...aim, at: admission.at }, target, engine, admission.release);
  }

  /** The admitted shot through the engine; the pod goes back to its ship's cap unless the cluster took it. */
  private async shoot(
    player: PlayerClaims,
    aim: Aim,
    target: { readonly name: string; readonly uid: string },
    engine: BoardEngine,
    release: () => void,
  ): Promise<FireOutcome> {
    try {
      const result = await engine.fire({
        namespace: aim.namespace,
        pod: { name: target.name, uid: target.uid },
        weapon: aim.weapon,
        unsafe: this.rules.unsafe,
        playerId: player.playerId,
      });
      if (!result.accepted) release();
      const shot = this.record(player, aim, result.accepted ? "hit" : "deflected", target);
      return {
        fired: true,
        shot,
        ...(result.accepted ? {} : { reason: result.reason }),
        ...(result.ledgerId === undefined ? {} : { ledgerId: result.ledgerId }),
      };
    } catch (error: unknown) {
      release();
      throw error;
    }
  }

  private allowedWeapon(weapon: Weapon): BoardWeapon {
    const rule = this.rules.weapons[weapon];
    if (!rule.allowed || !isBoardWeapon(weapon)) {
      const reason = rule.allowed ? notYetReason : rule.reason;
      throw usageError("weapon", `${weapon} cannot be fired in this game: ${reason}`);
    }
    return weapon;
  }

  private miss(player: PlayerClaims, aim: Omit<Aim, "at">): FireOutcome {
    const admission = this.gate.admit({ playerId: player.playerId });
    if (!admission.admitted) return this.refused(player, admission);
    return { fired: true, shot: this.record(player, { ...aim, at: admission.at }, "miss", undefined) };
  }

  private refused(player: PlayerClaims, refusal: ShotRefusal): FireOutcome {
    this.keep({
      playerId: player.playerId,
      nickname: player.nickname,
      at: this.clock.now(),
      result: "refused",
    });
    this.announceScoreboard();
    return { fired: false, refusal };
  }

  private record(
    player: PlayerClaims,
    aim: Aim,
    result: ShotResultKind,
    pod: { readonly name: string; readonly uid: string } | undefined,
  ): PublicShot {
    const at = aim.at;
    const hit = result === "hit" && pod !== undefined;
    this.keep({
      playerId: player.playerId,
      nickname: player.nickname,
      at,
      result: hit ? "hit" : "miss",
      ...(hit ? { podUid: pod.uid } : {}),
    });
    const shot: PublicShot = {
      nickname: player.nickname,
      namespace: aim.namespace,
      row: aim.row,
      col: aim.col,
      weapon: aim.weapon,
      result,
      ...(pod === undefined ? {} : { pod: pod.name }),
      at,
    };
    this.announce({ type: "shot", shot });
    this.announceScoreboard();
    return shot;
  }

  private keep(record: ShotRecord): void {
    if (this.shots.length >= maxShotRecords) this.shots.shift();
    this.shots.push(record);
  }

  private onSea(event: SeaEvent): void {
    if (event.type === "kill") {
      this.kills.set(event.podUid, { podUid: event.podUid, killedAt: event.at });
    } else {
      this.kills.set(event.podUid, {
        podUid: event.podUid,
        killedAt: event.killedAt,
        repairedMs: event.repairedMs,
      });
      this.gate.recovered(gameShipKey(event.namespace, event.ship), event.podUid);
    }
    this.announce({ type: "sea", event });
    this.announceScoreboard();
  }

  /** The scoreboard changed: told now, or once `scoreboardEveryMs` has passed since it was last told. */
  private announceScoreboard(): void {
    if (this.listeners.size === 0 || this.scoreboardDue) return;
    const waitMs = this.scoreboardSentAt + scoreboardEveryMs - this.clock.now();
    if (waitMs <= 0) {
      this.sendScoreboard();
      return;
    }
    this.scoreboardDue = true;
    void this.clock.sleep(waitMs).then(() => {
      this.scoreboardDue = false;
      this.sendScoreboard();
    });
  }

  private sendScoreboard(): void {
    this.scoreboardSentAt = this.clock.now();
    if (this.listeners.size > 0) this.announce({ type: "scoreboard", scoreboard: this.scoreboard() });
  }
}

type Aim = Omit<ShotInput, "weapon"> & {
  readonly weapon: BoardWeapon;
  /** When the gate admitted the shot: the shot's time, whatever the engine takes after. */
  readonly at: number;
};

/** The rules' weapons, with those the board has no engine path for disabled: "not yet". */
function boardWeaponRules(rules: Readonly<Record<Weapon, WeaponRule>>): Record<Weapon, WeaponRule> {
  const entries = (Object.entries(rules) as [Weapon, WeaponRule][]).map(
    ([weapon, rule]): [Weapon, WeaponRule] => {
      if (isBoardWeapon(weapon) || unavailableWeapons[weapon] !== undefined) return [weapon, rule];
      return [weapon, { allowed: false, reason: notYetReason }];
    },
  );
  return Object.fromEntries(entries) as Record<Weapon, WeaponRule>;
}

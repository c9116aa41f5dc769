import { randomUUID } from "node:crypto";
import type { DuelView } from "../core/board/duel-view.js";
import type { Clock } from "../core/clock.js";
import { usageError } from "../core/errors.js";
import { ShotGate, type ShotRefusal } from "../core/board/limits.js";
import type { GameRules, Weapon, WeaponRule } from "../core/board/rules.js";
import {
  computeScoreboard,
  type DriftRecord,
  type KillRecord,
  type RestartRecord,
  type Scoreboard,
  type ShotRecord,
} from "../core/board/scoreboard.js";
import { gameShipKey, SeaState, type GridView, type SeaEvent, type WorkloadRef } from "../core/board/sea.js";
import type { PlayerClaims } from "../core/board/tokens.js";
import { classifyManager, type HealerClass } from "../core/board/field-managers.js";
import {
  isDriftWeapon,
  type BoardEngine,
  type BoardShotResult,
  type BoardWeapon,
  type DriftEnd,
  type DriftHandle,
  type DriftWeapon,
  type RestartSample,
} from "./ports.js";

/**
 * One open game: the operator's rules, the sea kept from the cluster, the shot gate, and what happened
 * (shots, kills, repairs) for the scoreboard and the stream. A shot is resolved on the sea, admitted by
 * the gate (or refused at once, never queued), then fired through the engine; a repair on the sea gives
 * the pod back to its ship's cap.
 */

/** Weapons with an engine path on the board (the rules refuse net: it needs the node daemon's network faults). */
export const boardWeapons: Readonly<Record<BoardWeapon, true>> = {
  torpedo: true,
  mine: true,
  fog: true,
  anchor: true,
};

export function isBoardWeapon(weapon: Weapon): weapon is BoardWeapon {
  return weapon in boardWeapons;
}

/** Why a fog or an anchor at a ship that has one on already misses: one drift of each kind per ship at once. */
export const alreadyDriftingReasons: Readonly<Record<DriftWeapon, string>> = {
  fog: "that ship is already in fog",
  anchor: "that ship is already at anchor",
};

/** Everything the stream tells spectators, in order. */
export type BoardEvent =
  | { readonly type: "sea"; readonly event: SeaEvent }
  | { readonly type: "shot"; readonly shot: PublicShot }
  | { readonly type: "scoreboard"; readonly scoreboard: Scoreboard }
  | { readonly type: "game"; readonly state: "opened" | "closed" | "halted" }
  /** A namespace's grid as it is now, when its shape changed in a way no `sea` event tells. */
  | { readonly type: "grid"; readonly grid: GridView }
  /** A fog or an anchor drifted an object, or the object was restored (by whom). */
  | { readonly type: "drift"; readonly drift: PublicDrift }
  /** The duel running on the cluster changed (an attack, a restore, a duel begun or ended): its whole view. */
  | { readonly type: "duel"; readonly duel: DuelView };

/** A drift as everyone may see it: never the values, only what changed and who put it back. */
export interface PublicDrift {
  readonly state: "drifted" | "restored";
  readonly weapon: DriftWeapon;
  readonly nickname: string;
  readonly namespace: string;
  /** The ship, Kind/name. */
  readonly ship: string;
  /** What drifted: "ConfigMap app-settings /data/level", "Deployment web /spec/template/spec/containers/0/resources". */
  readonly object: string;
  /** Epoch ms: drifted at, or restored at. */
  readonly at: number;
  /** Restored: how long the drift persisted, and who restored it (the field manager and its class). */
  readonly persistedMs?: number;
  readonly restoredBy?: string;
  readonly healer?: HealerClass;
  /** Restored: the object was deleted, or recovery could not finish (the ledger keeps the record open). */
  readonly gone?: boolean;
  readonly leftOpen?: boolean;
}

/** A shot as everyone may see it: who (nickname), where, and what came of it. */
export interface PublicShot {
  readonly nickname: string;
  readonly namespace: string;
  readonly row: number;
  readonly col: number;
  readonly weapon: BoardWeapon;
  readonly result: ShotResultKind;
  readonly pod?: string;
  /** A fog's or an anchor's hit: what drifted (kind, name, field), never a value. */
  readonly object?: string;
  /** A mine deflected by the ship's shield: the PodDisruptionBudgets whose eviction refusal held. */
  readonly shield?: readonly string[];
  /** Epoch ms the limits admitted the shot at (before its DELETE): the budget can be checked from outside. */
  readonly at: number;
}

/**
 * hit: the API accepted the DELETE, the eviction, or the drift's patch; miss: water, a cell whose pod is
 * already going, a fog at a ship that carries no config, or a ship that has that drift on already;
 * deflected: the cluster refused (a PodDisruptionBudget's shield held, the pod was already gone, a rail,
 * the object changed meanwhile).
 */
export type ShotResultKind = "hit" | "miss" | "deflected";

export interface ShotInput {
  readonly namespace: string;
  readonly row: number;
  readonly col: number;
  readonly weapon: Weapon;
}

export type FireOutcome =
  | {
      readonly fired: true;
      readonly shot: PublicShot;
      readonly reason?: string;
      readonly ledgerId?: string;
    }
  | { readonly fired: false; readonly refusal: ShotRefusal };

export interface GameSummary {
  readonly namespaces: readonly string[];
  readonly weapons: Readonly<Record<Weapon, WeaponRule>>;
  readonly unsafe: boolean;
  /** How long a fog or an anchor lasts before Broadside reverts it, as "60s". */
  readonly revertAfter: string;
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
/** Drifts and pods with restarts kept for the scoreboard, bounded alike (the oldest forgotten first). */
const maxDriftRecords = 20_000;
const maxRestartRecords = 50_000;

/** Where the game's scoreboard reads the latencies of Broadside's API requests (ms, the latest kept). */
export type ApiLatencies = () => readonly number[];
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
  private readonly drifts = new Map<string, DriftRecord>();
  /** Ship key and weapon ("shop/Deployment/web|fog") of each drift on now: one of each kind per ship. */
  private readonly drifting = new Set<string>();
  private readonly restarts = new Map<string, RestartRecord>();
  private readonly listeners = new Set<(event: BoardEvent) => void>();
  private joined = 0;
  private scoreboardSentAt = Number.NEGATIVE_INFINITY;
  private scoreboardDue = false;

  constructor(
    readonly code: string,
    rules: GameRules,
    private readonly clock: Clock,
    private readonly apiLatencies: ApiLatencies = () => [],
  ) {
    this.rules = rules;
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
      revertAfter: this.rules.revertAfter.toString(),
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
    return computeScoreboard({
      shots: this.shots,
      kills: [...this.kills.values()],
      now: this.clock.now(),
      openedAt: this.openedAt,
      drifts: [...this.drifts.values()],
      apiLatenciesMs: this.apiLatencies(),
      restarts: [...this.restarts.values()],
    });
  }

  /**
   * A pod's container restarts as the sea feed saw them. A pod listed when the game opened starts from
   * the count it had then (`initial`); a pod created later from 0, so the scoreboard counts the game's.
   */
  observeRestarts(sample: RestartSample): void {
    const known = this.restarts.get(sample.podUid);
    if (known !== undefined) {
      if (sample.restarts <= known.latest) return;
      this.restarts.set(sample.podUid, { ...known, latest: sample.restarts });
      this.announceScoreboard();
      return;
    }
    // A pod first seen after the game opened restarted during it: every restart counts.
    const atStart = sample.initial ? sample.restarts : 0;
    if (sample.restarts === atStart && !sample.initial) return;
    forgetOldest(this.restarts, maxRestartRecords);
    const ship = gameShipKey(sample.namespace, sample.ship);
    this.restarts.set(sample.podUid, { ship, podUid: sample.podUid, atStart, latest: sample.restarts });
    if (sample.restarts > atStart) this.announceScoreboard();
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
    if (isDriftWeapon(weapon)) return this.fireDrift(player, { ...aim, weapon }, landed.ship, engine);
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
    const ship = { kind: landed.ship.kind, name: landed.ship.name };
    return this.shoot(player, { ...aim, at: admission.at }, target, ship, engine, admission.release);
  }

  /**
   * A fog or an anchor at the ship of the cell: one of each kind per ship at once (another is a miss that
   * costs the player's bucket only); an anchor holds a slot of the ship's cap until the squeeze is lifted,
   * a fog takes no pod down (ADR 0028).
   */
  private async fireDrift(
    player: PlayerClaims,
    aim: Omit<Aim, "at"> & { readonly weapon: DriftWeapon },
    ship: ShotShip,
    engine: BoardEngine,
  ): Promise<FireOutcome> {
    const shipKey = gameShipKey(aim.namespace, ship.key);
    const busy = `${shipKey}|${aim.weapon}`;
    if (this.drifting.has(busy)) return this.miss(player, aim, alreadyDriftingReasons[aim.weapon]);
    const admission = this.gate.admit({
      playerId: player.playerId,
      ship: {
        key: shipKey,
        readyPodUids: this.sea.readyPodUids(aim.namespace, ship),
        ...(aim.weapon === "anchor" ? { squeeze: true } : {}),
      },
    });
    if (!admission.admitted) return this.refused(player, admission);
    this.drifting.add(busy);
    const done = (): void => {
      this.drifting.delete(busy);
      admission.release();
    };
    try {
      const result = await engine.fire({
        namespace: aim.namespace,
        pod: { name: "", uid: "" },
        ship: { kind: ship.kind, name: ship.name },
        weapon: aim.weapon,
        revertAfter: this.rules.revertAfter,
        unsafe: this.rules.unsafe,
        playerId: player.playerId,
      });
      return this.drifted(player, { ...aim, at: admission.at }, ship, result, done);
    } catch (error: unknown) {
      done();
      throw error;
    }
  }

  /** What the engine made of a fog or an anchor: a hit kept until restored, or a miss or deflection. */
  private drifted(
    player: PlayerClaims,
    aim: Aim & { readonly weapon: DriftWeapon },
    ship: ShotShip,
    result: BoardShotResult,
    done: () => void,
  ): FireOutcome {
    if (!result.accepted || result.drift === undefined) {
      done();
      const reason = result.accepted ? undefined : result.reason;
      const kind = !result.accepted && result.missed === true ? "miss" : "deflected";
      const shot = this.record(player, aim, kind, undefined);
      return { fired: true, shot, ...(reason === undefined ? {} : { reason }) };
    }
    const object = result.drift.records.map((record) => record.object).join(", ");
    const shot = this.record(player, aim, "hit", undefined, object);
    this.keepDrift(player, { ...aim, ship }, result.drift, done);
    return { fired: true, shot, ledgerId: result.ledgerId };
  }

  /** Records each of the drift's changes and follows it until restored; `done` once all are. */
  private keepDrift(
    player: PlayerClaims,
    aim: { readonly namespace: string; readonly weapon: DriftWeapon; readonly ship: ShotShip },
    drift: DriftHandle,
    done: () => void,
  ): void {
    const ship = `${aim.ship.kind}/${aim.ship.name}`;
    const base = { weapon: aim.weapon, nickname: player.nickname, namespace: aim.namespace, ship };
    const restored = drift.records.map(async (handle) => {
      forgetOldest(this.drifts, maxDriftRecords);
      const record: DriftRecord = {
        id: handle.id,
        weapon: aim.weapon,
        ship: gameShipKey(aim.namespace, aim.ship.key),
        driftedAt: handle.driftedAt,
      };
      this.drifts.set(handle.id, record);
      this.announce({
        type: "drift",
        drift: { ...base, state: "drifted", object: handle.object, at: handle.driftedAt },
      });
      const end = await handle.restored;
      this.onRestored(record, end, { ...base, object: handle.object });
    });
    void Promise.all(restored).finally(done);
  }

  private onRestored(record: DriftRecord, end: DriftEnd, base: Omit<PublicDrift, "state" | "at">): void {
    const closed: DriftRecord = {
      ...record,
      ...(end.leftOpen === true ? {} : { restoredAt: end.restoredAt }),
      ...(end.restoredBy === undefined ? {} : { restoredBy: end.restoredBy }),
      ...(end.gone === true ? { gone: true } : {}),
    };
    if (this.drifts.has(record.id)) this.drifts.set(record.id, closed);
    this.announce({
      type: "drift",
      drift: {
        ...base,
        state: "restored",
        at: end.restoredAt,
        persistedMs: Math.max(0, end.restoredAt - record.driftedAt),
        ...(end.restoredBy === undefined
          ? {}
          : { restoredBy: end.restoredBy, healer: classifyManager(end.restoredBy) }),
        ...(end.gone === true ? { gone: true } : {}),
        ...(end.leftOpen === true ? { leftOpen: true } : {}),
      },
    });
    this.announceScoreboard();
  }

  /** The admitted shot through the engine; the pod goes back to its ship's cap unless the cluster took it. */
  private async shoot(
    player: PlayerClaims,
    aim: Aim,
    target: { readonly name: string; readonly uid: string },
    ship: { readonly kind: WorkloadRef["kind"]; readonly name: string },
    engine: BoardEngine,
    release: () => void,
  ): Promise<FireOutcome> {
    try {
      const result = await engine.fire({
        namespace: aim.namespace,
        pod: { name: target.name, uid: target.uid },
        ship,
        weapon: aim.weapon,
        revertAfter: this.rules.revertAfter,
        unsafe: this.rules.unsafe,
        playerId: player.playerId,
      });
      if (!result.accepted) release();
      const shield = result.accepted ? undefined : result.shield;
      const shot = this.record(player, aim, result.accepted ? "hit" : "deflected", target, undefined, shield);
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
      const reason = rule.allowed ? "it has no engine path" : rule.reason;
      throw usageError("weapon", `${weapon} cannot be fired in this game: ${reason}`);
    }
    return weapon;
  }

  /** Nothing reaches the API: the player's bucket only is charged. `reason` says why, when not water. */
  private miss(player: PlayerClaims, aim: Omit<Aim, "at">, reason?: string): FireOutcome {
    const admission = this.gate.admit({ playerId: player.playerId });
    if (!admission.admitted) return this.refused(player, admission);
    const shot = this.record(player, { ...aim, at: admission.at }, "miss", undefined);
    return { fired: true, shot, ...(reason === undefined ? {} : { reason }) };
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
    object?: string,
    shield?: readonly string[],
  ): PublicShot {
    const at = aim.at;
    this.keep({
      playerId: player.playerId,
      nickname: player.nickname,
      at,
      result: result === "hit" ? "hit" : "miss",
      ...(result === "hit" && pod !== undefined ? { podUid: pod.uid } : {}),
    });
    const shot: PublicShot = {
      nickname: player.nickname,
      namespace: aim.namespace,
      row: aim.row,
      col: aim.col,
      weapon: aim.weapon,
      result,
      ...(pod === undefined ? {} : { pod: pod.name }),
      ...(object === undefined ? {} : { object }),
      ...(shield === undefined ? {} : { shield }),
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

/** The ship a shot landed on: its workload and its key within the namespace (Kind/name). */
type ShotShip = WorkloadRef & { readonly key: string };

/** Makes room for one more entry by forgetting the oldest (a Map iterates in insertion order). */
function forgetOldest<Value>(map: Map<string, Value>, max: number): void {
  if (map.size < max) return;
  const oldest = map.keys().next();
  if (oldest.done !== true) map.delete(oldest.value);
}

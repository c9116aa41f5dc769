import { optional } from "../objects.js";
import { nearestRank } from "../percentile.js";
import { classifyManager, healerClasses, type HealerClass } from "./field-managers.js";

/**
 * The scoreboard, from the game's records: how fast the cluster heals (MTTR from kill to Ready, from
 * watch events), how often it heals itself at all, how often the fleet drifted (fog, anchor) and who put
 * it back, how fast Broadside's own API requests were answered, how often containers restarted, and each
 * player's shots, hits and best kill. A pure function of the records and the time, so the server can
 * recompute it on each change and a test can check every figure against the records.
 */

/** A shot that was fired or refused, as the audit log keeps it. */
export interface ShotRecord {
  readonly playerId: string;
  readonly nickname: string;
  /** Epoch ms. */
  readonly at: number;
  readonly result: "hit" | "miss" | "refused";
  /** The pod a hit killed: links the hit to its repair. */
  readonly podUid?: string;
}

/** A kill seen on the sea: a cell's pod terminated or vanished; repairedMs once the cell is Ready again. */
export interface KillRecord {
  /** The pod that was killed. */
  readonly podUid: string;
  /** Epoch ms of the watch event that opened the kill. */
  readonly killedAt: number;
  readonly repairedMs?: number;
}

/**
 * A drift a fog or an anchor made: one ledger record's field (a ConfigMap's key, a container's resources),
 * from the moment the API server accepted the change to the watch event that showed it restored.
 */
export interface DriftRecord {
  /** The ledger record's id. */
  readonly id: string;
  readonly weapon: "fog" | "anchor";
  /** The ship (namespace/Kind/name) the shot aimed at. */
  readonly ship: string;
  /** Epoch ms the change was accepted. */
  readonly driftedAt: number;
  /** Epoch ms of the watch event that showed the field no longer holding Broadside's value. */
  readonly restoredAt?: number;
  /** The field manager of the update that restored it (its managedFields entry); "broadside" for the revert. */
  readonly restoredBy?: string;
  /** The object was deleted while drifted: restored by no one, counted apart. */
  readonly gone?: boolean;
}

/** A pod's container restarts on the sea: the sum of its containerStatuses' restartCount. */
export interface RestartRecord {
  /** The ship (namespace/Kind/name). */
  readonly ship: string;
  readonly podUid: string;
  /** The pod's restarts when the game first saw it (0 for a pod created during the game). */
  readonly atStart: number;
  /** Its restarts when last seen. */
  readonly latest: number;
}

export interface DriftFigures {
  readonly total: number;
  /** Not restored yet. */
  readonly open: number;
  readonly restored: number;
  /** Drifts per minute since the game opened; undefined in its first millisecond. */
  readonly perMinute?: number;
  /** How long restored drifts persisted (drifted at to restored at), nearest-rank. */
  readonly persistP50Ms?: number;
  readonly persistP95Ms?: number;
  readonly persistMaxMs?: number;
  /** Restored by anyone but Broadside's own revert, over all restored: 0..1; undefined before the first. */
  readonly selfHealRate?: number;
  /** Restored drifts by the class of the manager that restored them. */
  readonly heals: Readonly<Record<HealerClass, number>>;
  /** The managers themselves, most heals first. */
  readonly managers: readonly {
    readonly manager: string;
    readonly class: HealerClass;
    readonly heals: number;
  }[];
}

export interface ApiLatencyFigures {
  /** Requests measured (watch streams excluded). */
  readonly requests: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

export interface RestartFigures {
  /** Container restarts on the sea since the game opened. */
  readonly total: number;
  /** Ships with restarts, most first. */
  readonly ships: readonly { readonly ship: string; readonly restarts: number }[];
}

export interface PlayerScore {
  readonly playerId: string;
  readonly nickname: string;
  /** Shots fired (hits and misses); refused shots are counted apart. */
  readonly shots: number;
  readonly hits: number;
  readonly refused: number;
  /** The fastest repair of a pod this player hit, in ms; undefined until one is repaired. */
  readonly bestKillToRepairedMs?: number;
}

export interface Scoreboard {
  /** Kill to Ready, nearest-rank percentiles over the repaired kills; undefined before the first. */
  readonly mttrP50Ms?: number;
  readonly mttrP95Ms?: number;
  readonly repaired: number;
  /** Kills not repaired within the heal deadline: the cluster did not heal itself. */
  readonly unhealed: number;
  /** Kills younger than the deadline and not repaired yet: not counted either way. */
  readonly healing: number;
  /** repaired / (repaired + unhealed), 0..1; undefined while nothing is decided. */
  readonly selfHealRate?: number;
  readonly drifts: DriftFigures;
  /** Broadside's own API requests (this process's), from send to the answer's headers. */
  readonly api: ApiLatencyFigures;
  readonly restarts: RestartFigures;
  /** Players by hits, then by best kill-to-repaired, then by nickname. */
  readonly players: readonly PlayerScore[];
}

export interface ScoreboardInput {
  readonly shots: readonly ShotRecord[];
  readonly kills: readonly KillRecord[];
  readonly now: number;
  readonly healDeadlineMs?: number;
  /** Epoch ms the game opened: drift frequency is counted from it. */
  readonly openedAt?: number;
  readonly drifts?: readonly DriftRecord[];
  /** The latencies of Broadside's API requests, in ms (the latest ones the board kept). */
  readonly apiLatenciesMs?: readonly number[];
  readonly restarts?: readonly RestartRecord[];
}

/** How long a kill may stay open before it counts as not healed by the cluster itself. */
export const defaultHealDeadlineMs = 5 * 60_000;

export function computeScoreboard(input: ScoreboardInput): Scoreboard {
  const deadline = input.healDeadlineMs ?? defaultHealDeadlineMs;
  const repairs = input.kills.flatMap((kill) => (kill.repairedMs === undefined ? [] : [kill.repairedMs]));
  const open = input.kills.filter((kill) => kill.repairedMs === undefined);
  const unhealed = open.filter((kill) => input.now - kill.killedAt >= deadline).length;
  const sorted = [...repairs].sort((a, b) => a - b);
  const decided = repairs.length + unhealed;
  return {
    ...optional("mttrP50Ms", nearestRank(sorted, 50)),
    ...optional("mttrP95Ms", nearestRank(sorted, 95)),
    repaired: repairs.length,
    unhealed,
    healing: open.length - unhealed,
    ...optional("selfHealRate", decided === 0 ? undefined : repairs.length / decided),
    drifts: driftFigures(input.drifts ?? [], input.now, input.openedAt),
    api: apiLatencyFigures(input.apiLatenciesMs ?? []),
    restarts: restartFigures(input.restarts ?? []),
    players: playerScores(input.shots, input.kills),
  };
}

/** How often the fleet drifted, how long drifts lasted, and who put them back. */
export function driftFigures(
  drifts: readonly DriftRecord[],
  now: number,
  openedAt: number | undefined,
): DriftFigures {
  const restored = drifts.filter(
    (drift): drift is DriftRecord & { restoredAt: number } =>
      drift.restoredAt !== undefined && drift.gone !== true,
  );
  const persisted = restored
    .map((drift) => Math.max(0, drift.restoredAt - drift.driftedAt))
    .sort((a, b) => a - b);
  const heals = Object.fromEntries(healerClasses.map((healer) => [healer, 0])) as Record<HealerClass, number>;
  const managers = new Map<string, number>();
  for (const drift of restored) {
    heals[classifyManager(drift.restoredBy)] += 1;
    const manager = drift.restoredBy ?? "(unknown)";
    managers.set(manager, (managers.get(manager) ?? 0) + 1);
  }
  const elapsedMs = openedAt === undefined ? 0 : now - openedAt;
  const open = drifts.filter((drift) => drift.restoredAt === undefined).length;
  return {
    total: drifts.length,
    open,
    restored: restored.length,
    ...optional("perMinute", elapsedMs > 0 ? (drifts.length * 60_000) / elapsedMs : undefined),
    ...optional("persistP50Ms", nearestRank(persisted, 50)),
    ...optional("persistP95Ms", nearestRank(persisted, 95)),
    ...optional("persistMaxMs", persisted.at(-1)),
    ...optional("selfHealRate", restored.length === 0 ? undefined : 1 - heals.broadside / restored.length),
    heals,
    managers: [...managers]
      .map(([manager, count]) => ({ manager, class: classifyManager(manager), heals: count }))
      .sort((a, b) => b.heals - a.heals || compareText(a.manager, b.manager)),
  };
}

/** p50 and p99 (nearest-rank) of the request latencies kept. */
export function apiLatencyFigures(latenciesMs: readonly number[]): ApiLatencyFigures {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    requests: sorted.length,
    ...optional("p50Ms", nearestRank(sorted, 50)),
    ...optional("p99Ms", nearestRank(sorted, 99)),
  };
}

/** Restarts since the game opened, per ship and overall; a pod's count never goes below its start. */
export function restartFigures(restarts: readonly RestartRecord[]): RestartFigures {
  const perShip = new Map<string, number>();
  for (const pod of restarts) {
    const more = Math.max(0, pod.latest - pod.atStart);
    if (more > 0) perShip.set(pod.ship, (perShip.get(pod.ship) ?? 0) + more);
  }
  const ships = [...perShip]
    .map(([ship, count]) => ({ ship, restarts: count }))
    .sort((a, b) => b.restarts - a.restarts || compareText(a.ship, b.ship));
  return { total: ships.reduce((sum, ship) => sum + ship.restarts, 0), ships };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function playerScores(shots: readonly ShotRecord[], kills: readonly KillRecord[]): PlayerScore[] {
  // A pod is killed at most once (a new pod has a new uid), so its uid finds its repair.
  const repairedMs = new Map(
    kills.flatMap((kill) => (kill.repairedMs === undefined ? [] : [[kill.podUid, kill.repairedMs]])),
  );
  const scores = new Map<string, Tally>();
  for (const shot of shots) {
    const tally = scores.get(shot.playerId) ?? newTally(shot);
    tally.nickname = shot.nickname;
    tally[shot.result === "hit" ? "hits" : shot.result] += 1;
    const ms = shot.result === "hit" ? repairedMs.get(shot.podUid ?? "") : undefined;
    if (ms !== undefined) tally.best = Math.min(tally.best ?? ms, ms);
    scores.set(shot.playerId, tally);
  }
  return [...scores.values()].map(scoreOf).sort(byRank);
}

interface Tally {
  readonly playerId: string;
  nickname: string;
  hits: number;
  miss: number;
  refused: number;
  best: number | undefined;
}

function newTally(shot: ShotRecord): Tally {
  return { playerId: shot.playerId, nickname: shot.nickname, hits: 0, miss: 0, refused: 0, best: undefined };
}

function scoreOf(tally: Tally): PlayerScore {
  return {
    playerId: tally.playerId,
    nickname: tally.nickname,
    shots: tally.hits + tally.miss,
    hits: tally.hits,
    refused: tally.refused,
    ...optional("bestKillToRepairedMs", tally.best),
  };
}

function byRank(a: PlayerScore, b: PlayerScore): number {
  const best = (score: PlayerScore): number => score.bestKillToRepairedMs ?? Number.POSITIVE_INFINITY;
  return b.hits - a.hits || best(a) - best(b) || compareText(a.nickname, b.nickname);
}

/** The scoreboard of a game with no records yet. */
export const emptyScoreboard: Scoreboard = computeScoreboard({ shots: [], kills: [], now: 0 });

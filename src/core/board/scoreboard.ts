import { optional } from "../objects.js";
import { nearestRank } from "../percentile.js";

/**
 * The scoreboard, from the game's records: how fast the cluster heals (MTTR from kill to Ready, from
 * watch events), how often it heals itself at all, and each player's shots, hits and best kill. A pure
 * function of the records and the time, so the server can recompute it on each change and a test can
 * check every figure against the records.
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
  /** Players by hits, then by best kill-to-repaired, then by nickname. */
  readonly players: readonly PlayerScore[];
}

/** How long a kill may stay open before it counts as not healed by the cluster itself. */
export const defaultHealDeadlineMs = 5 * 60_000;

export function computeScoreboard(input: {
  readonly shots: readonly ShotRecord[];
  readonly kills: readonly KillRecord[];
  readonly now: number;
  readonly healDeadlineMs?: number;
}): Scoreboard {
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
    players: playerScores(input.shots, input.kills),
  };
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
  return (
    b.hits - a.hits || best(a) - best(b) || (a.nickname < b.nickname ? -1 : a.nickname > b.nickname ? 1 : 0)
  );
}

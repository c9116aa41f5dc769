import type { Logger } from "pino";
import type { Clock } from "../core/clock.js";
import { BroadsideError, usageError } from "../core/errors.js";
import { checkGameRules, weapons as ruleWeapons } from "../core/board/rules.js";
import {
  newGameCode,
  newPlayerId,
  parseGameCode,
  sanitizeNickname,
  type PlayerClaims,
  type PlayerTokens,
} from "../core/board/tokens.js";
import { defaultJoinLimits, JoinGate, type JoinLimits, type JoinRefusal } from "../core/board/join-limits.js";
import type { Scoreboard } from "../core/board/scoreboard.js";
import { noDuel, type DuelView } from "../core/board/duel-view.js";
import type { GridView } from "../core/board/sea.js";
import {
  Game,
  type ApiLatencies,
  type BoardEvent,
  type FireOutcome,
  type GameSummary,
  type ShotInput,
} from "./game.js";
import type { BoardEngine, DuelSource, FollowedSea, HaltResult, SeaFeed } from "./ports.js";

/**
 * The board's state across games: at most one game open at a time (a GameDay has one audience), the
 * players' tokens, and the stream every spectator follows whatever game is on. Each operation that acts
 * writes an audit line with who did it: the operator's Kubernetes user name, or the player's id, never a
 * token.
 */

export interface BoardDependencies {
  readonly engine: BoardEngine;
  readonly seaFeed: SeaFeed;
  readonly tokens: PlayerTokens;
  readonly clock: Clock;
  /** One JSON line per action (docs/board.md, "Audit log"). */
  readonly audit: Logger;
  /** Protected on top of the system namespaces, when Broadside runs in a namespace of another name. */
  readonly broadsideNamespace?: string;
  /** Draws game codes; tests pass a fixed one. */
  readonly newCode?: () => string;
  /** Joins per client address (default 5 per 10 s). */
  readonly joinLimits?: JoinLimits;
  /** The latencies of the board's API requests, for the scoreboard (none when not measured). */
  readonly apiLatencies?: ApiLatencies;
  /** The duel running on the cluster, shown beside any game (none: the board shows no duel). */
  readonly duel?: DuelSource;
}

/** What a spectator reads: the sea, the scoreboard and the rules, never the game's code. */
export interface BoardState {
  readonly game: GameSummary | null;
  readonly grids: readonly GridView[];
  readonly scoreboard: Scoreboard | null;
  /** The duel running on the cluster (docs/duel.md, "On the board"): `noDuel` when none runs. */
  readonly duel: DuelView;
}

export interface JoinedPlayer {
  readonly token: string;
  readonly playerId: string;
  readonly nickname: string;
  readonly expiresAt: number;
}

export type JoinOutcome =
  | { readonly joined: true; readonly player: JoinedPlayer }
  | { readonly joined: false; readonly refusal: JoinRefusal };

export class Board {
  private readonly joinGate: JoinGate;
  private current:
    { readonly game: Game; readonly feed: FollowedSea; readonly unsubscribe: () => void } | undefined;
  private opening = false;
  private readonly listeners = new Set<(event: BoardEvent) => void>();
  private readonly unsubscribeDuel: () => void;

  constructor(private readonly deps: BoardDependencies) {
    this.joinGate = new JoinGate(deps.joinLimits ?? defaultJoinLimits, deps.clock);
    this.unsubscribeDuel =
      deps.duel?.subscribe((duel) => {
        this.announce({ type: "duel", duel });
      }) ?? (() => undefined);
  }

  get game(): Game | undefined {
    return this.current?.game;
  }

  subscribe(listener: (event: BoardEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  state(): BoardState {
    const game = this.current?.game;
    const duel = this.deps.duel?.view() ?? noDuel;
    if (game === undefined) return { game: null, grids: [], scoreboard: null, duel };
    return { game: game.summary(), grids: game.grids(), scoreboard: game.scoreboard(), duel };
  }

  /**
   * Opens a game from the operator's rules (an untrusted JSON body): every field checked, each namespace
   * asked of the cluster (it exists and opted in), and only then the sea listed and followed. Returns the
   * game's code for the players.
   */
  async open(body: unknown, operator: string): Promise<Game> {
    if (this.current !== undefined || this.opening) {
      throw new BroadsideError("BRD_BOARD_GAME_STATE", "a game is open already: close it first");
    }
    this.opening = true;
    try {
      const rules = this.checkedRules(body);
      const refusals = await this.deps.engine.refuseNamespaces(rules.namespaces);
      if (refusals.length > 0)
        throw new BroadsideError("BRD_REFUSED_BY_RAIL", `namespaces: ${refusals.join("; ")}`);
      const game = new Game(
        (this.deps.newCode ?? newGameCode)(),
        rules,
        this.deps.clock,
        this.deps.apiLatencies,
      );
      const unsubscribe = game.subscribe((event) => {
        this.announce(event);
      });
      const feed = await this.deps.seaFeed.follow(rules.namespaces, game.sea, (sample) => {
        game.observeRestarts(sample);
      });
      this.current = { game, feed, unsubscribe };
      this.deps.audit.info(
        {
          action: "open",
          operator,
          namespaces: rules.namespaces,
          weapons: allowedWeapons(game),
          unsafe: rules.unsafe,
          revertAfter: rules.revertAfter.toString(),
        },
        "game opened",
      );
      this.announce({ type: "game", state: "opened" });
      // A spectator who came before the game sees its sea now, not at the next reload.
      for (const namespace of game.sea.namespaces()) game.announceGrid(namespace);
      return game;
    } finally {
      this.opening = false;
    }
  }

  private checkedRules(body: unknown): Game["rules"] {
    const checked = checkGameRules(body, {
      ...(this.deps.broadsideNamespace === undefined
        ? {}
        : { broadsideNamespace: this.deps.broadsideNamespace }),
    });
    if (checked.ok) return checked.rules;
    throw new BroadsideError(
      "BRD_USAGE",
      checked.problems.map(({ field, problem }) => `${field}: ${problem}`).join("; "),
    );
  }

  /** Closes the open game: its sea stops following the cluster, its tokens stop working. */
  async close(operator: string, state: "closed" | "halted" = "closed"): Promise<boolean> {
    const current = this.current;
    if (current === undefined) return false;
    this.current = undefined;
    current.unsubscribe();
    await current.feed.stop();
    this.deps.audit.info({ action: state === "closed" ? "close" : "halt-close", operator }, "game closed");
    this.announce({ type: "game", state });
    return true;
  }

  /** The halt button: the kill switch held, every open ledger record reverted, the game closed. */
  async halt(operator: string): Promise<HaltResult> {
    const result = await this.deps.engine.halt(operator, "halt pressed on the board");
    this.deps.audit.info({ action: "halt", operator, reverted: result.reverted }, "halt");
    await this.close(operator, "halted");
    return result;
  }

  /**
   * A player joins with the game's code and a nickname; both are checked, the nickname as everyone will
   * see it. Every attempt from `address` is charged to its join bucket first, so guessing codes is slow;
   * a refused one is returned (429), a full game is refused (409).
   */
  join(body: unknown, address: string): JoinOutcome {
    const admission = this.joinGate.admit(address);
    if (!admission.admitted) {
      this.deps.audit.info({ action: "join", result: "refused", detail: admission.detail }, "join refused");
      return { joined: false, refusal: admission };
    }
    const { code, nickname } = joinFields(body);
    const game = this.current?.game;
    const typed = parseGameCode(code, "code");
    if (game === undefined || typed !== game.code) {
      throw new BroadsideError("BRD_BOARD_FORBIDDEN", "code: no open game has that code");
    }
    const name = sanitizeNickname(nickname);
    if (!game.admitPlayer()) {
      throw new BroadsideError(
        "BRD_BOARD_GAME_STATE",
        `the game is full: ${game.rules.maxPlayers} players have joined`,
      );
    }
    const playerId = newPlayerId();
    const token = this.deps.tokens.issue({ gameId: game.id, playerId, nickname: name });
    const check = this.deps.tokens.verify(token, game.id);
    const expiresAt = check.valid ? check.claims.expiresAt : this.deps.clock.now();
    this.deps.audit.info({ action: "join", playerId, nickname: name }, "player joined");
    return { joined: true, player: { token, playerId, nickname: name, expiresAt } };
  }

  /** Who the bearer of a player token is, in the open game; refused as 401 (or 403 for another game). */
  player(token: string): PlayerClaims {
    const game = this.current?.game;
    if (game === undefined) {
      throw new BroadsideError("BRD_BOARD_UNAUTHENTICATED", "no game is open, so no player token is valid");
    }
    const check = this.deps.tokens.verify(token, game.id);
    if (check.valid) return check.claims;
    const code = check.reason === "wrong-game" ? "BRD_BOARD_FORBIDDEN" : "BRD_BOARD_UNAUTHENTICATED";
    throw new BroadsideError(code, `player token ${check.reason}: ${check.message}`);
  }

  /** A shot by `player` (from `player(token)`): resolved, admitted or refused, fired, audited. */
  async fire(player: PlayerClaims, input: ShotInput): Promise<FireOutcome> {
    const game = this.current?.game;
    if (game?.id !== player.gameId) {
      throw new BroadsideError("BRD_BOARD_FORBIDDEN", "the player's game is no longer open: join again");
    }
    const outcome = await game.fire(player, input, this.deps.engine).catch((error: unknown) => {
      this.deps.audit.warn(
        { action: "shot", playerId: player.playerId, ...input, failed: errorText(error) },
        "shot failed",
      );
      throw error;
    });
    this.auditShot(player.playerId, player.nickname, input, outcome);
    return outcome;
  }

  private auditShot(playerId: string, nickname: string, input: ShotInput, outcome: FireOutcome): void {
    const where = { namespace: input.namespace, row: input.row, col: input.col, weapon: input.weapon };
    if (!outcome.fired) {
      const { limit, detail, at } = outcome.refusal;
      this.deps.audit.info(
        { action: "shot", playerId, nickname, ...where, result: "refused", limit, detail, at },
        "shot",
      );
      return;
    }
    const { result, pod, at } = outcome.shot;
    this.deps.audit.info(
      {
        action: "shot",
        playerId,
        nickname,
        ...where,
        result,
        at,
        ...(pod === undefined ? {} : { pod }),
        ...(outcome.ledgerId === undefined ? {} : { ledgerId: outcome.ledgerId }),
        ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
      },
      "shot",
    );
  }

  /** Reverts the game's fogs and anchors still on, and stops following the sea; the process is going. */
  async stop(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    this.unsubscribeDuel();
    await this.deps.engine.stop();
    current?.unsubscribe();
    await current?.feed.stop();
  }

  private announce(event: BoardEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

function allowedWeapons(game: Game): string[] {
  return ruleWeapons.filter((weapon) => game.rules.weapons[weapon].allowed);
}

function joinFields(body: unknown): { code: string; nickname: unknown } {
  if (!isObject(body)) throw usageError("(body)", "must be a JSON object with code and nickname");
  const code = body["code"];
  if (typeof code !== "string") throw usageError("code", "must be the game's code, a string");
  return { code, nickname: body["nickname"] };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function errorText(error: unknown): string {
  return error instanceof BroadsideError
    ? `[${error.code}] ${error.message}`
    : error instanceof Error
      ? error.message
      : String(error);
}

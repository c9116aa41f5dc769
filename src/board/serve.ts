import type { Logger } from "pino";
import { newTokenSecret, PlayerTokens } from "../core/board/tokens.js";
import { describeError } from "../core/errors.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import { recoverExpired, type RecoverySummary } from "../core/ledger/recovery.js";
import type { EngineContext } from "../engine/context.js";
import type { AccessReviewer } from "../kube/access-review.js";
import type { ApiLatencyRing } from "./api-latencies.js";
import { Board } from "./board.js";
import { recoverBoardLeftovers } from "./engine-drifts.js";
import { engineShots } from "./engine-shots.js";
import { kubeDuelFeed } from "./kube-duel-feed.js";
import { kubeSeaFeed } from "./kube-sea-feed.js";
import { startBoardServer, type BoardServer } from "./server.js";

/**
 * The board over an engine a process already has: what `broadside board` serves standalone
 * (cli/board-command.ts) and what the agent's leader serves (`broadside agent --board-listen`,
 * board/leader-board.ts), one function for both. The caller owns the engine's context (its informer
 * cache of pods, its clients and their rate limiter) and keeps it running after the board stops.
 */

export interface BoardServiceOptions {
  readonly listen: { readonly host: string; readonly port: number; readonly field: string };
  /** The namespace the operator's `operate boards.broadside.dev` is asked in for every operator route. */
  readonly operatorNamespace: string;
  /** TokenReview and SubjectAccessReview, as the board's identity (kube/access-review.ts). */
  readonly reviewer: AccessReviewer;
  /** The audit log (and the board's own log). */
  readonly audit: Logger;
  /** The latencies of the process's API requests, for the scoreboard (its ApiRequestObserver). */
  readonly latencies: ApiLatencyRing;
  /** Told each fog or anchor a board that is gone left on, once it is reverted. */
  readonly onLeftoverRecovered: (summary: RecoverySummary) => void;
}

export interface BoardService {
  readonly server: BoardServer;
  readonly board: Board;
  /**
   * Reverts the board's fogs and anchors, then every open ledger record (of `namespaces` when given), as
   * halt does, without holding the kill switch; returns how many it closed.
   */
  revertAll(namespaces?: readonly string[]): Promise<number>;
  /**
   * Stops listening first (so no shot is accepted after it began), then closes the game and reverts
   * the fogs and anchors this board keeps, and stops following the sea.
   */
  stop(): Promise<void>;
}

/**
 * Reverts the fogs and anchors a board that is gone left on (it keeps no game across a restart, so it
 * ends them), then serves a new board: the engine's shots, a sea over informers, fresh player tokens.
 */
export async function startBoardService(
  ctx: EngineContext,
  options: BoardServiceOptions,
): Promise<BoardService> {
  const { audit } = options;
  for (const summary of await recoverBoardLeftovers(ctx)) options.onLeftoverRecovered(summary);
  const engine = engineShots(ctx);
  // The duel view: read only, from the ledger; a board that may not read the ledger shows no duel and
  // says why in its log (the informer retries with backoff).
  const duel = kubeDuelFeed({
    watches: ctx.watches,
    clock: ctx.clock,
    onError: (error) => {
      audit.warn({ err: describeError(error) }, "duel view");
    },
  });
  const following = duel.start().catch(() => undefined);
  const board = new Board({
    engine,
    seaFeed: kubeSeaFeed({
      watches: ctx.watches,
      clock: ctx.clock,
      onError: (error) => {
        audit.warn({ err: describeError(error) }, "sea");
      },
    }),
    tokens: new PlayerTokens({ secret: newTokenSecret(), clock: ctx.clock }),
    clock: ctx.clock,
    audit,
    apiLatencies: () => options.latencies.values(),
    duel,
  });
  const server = await startBoardServer(options.listen, {
    board,
    reviewer: options.reviewer,
    operatorNamespace: options.operatorNamespace,
    log: audit,
  }).catch(async (error: unknown) => {
    await duel.stop();
    await following;
    throw error;
  });
  return {
    server,
    board,
    revertAll: async (namespaces) => {
      // The fogs and anchors this board keeps first, as halt does: each then knows the revert was
      // Broadside's, rather than seeing it as a heal by someone else. (Only the game's namespaces hold them.)
      const ours = await engine.stop();
      const inScope = (record: LedgerRecord): boolean =>
        namespaces === undefined || namespaces.includes(record.target.namespace);
      const reverted = await recoverExpired(ctx.ledger, ctx.targets, ctx.clock, {
        includeUnexpired: true,
        inScope,
      });
      return ours + reverted.length;
    },
    stop: async () => {
      await server.close();
      await board.stop();
      await duel.stop();
      await following;
    },
  };
}

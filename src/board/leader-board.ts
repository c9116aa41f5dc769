import type { Clock } from "../core/clock.js";
import { describeError } from "../core/errors.js";
import type { LeaderMark } from "./leader-pod-label.js";
import type { BoardService } from "./serve.js";
import { startStandbyServer, type BoardServer } from "./server.js";

/**
 * The board as the agent serves it (`broadside agent --board-listen`, docs/board.md "In the cluster"):
 * only the leader serves games that act. Every replica holds the board's port; a standby answers every
 * route but /healthz with 503 `BRD_BOARD_STANDBY`, naming the leader. When a replica starts leading it
 * swaps the standby for a board of its own (board/serve.ts: the agent's engine and cache, fresh player
 * tokens, the fogs and anchors a board that is gone left on reverted first); when it stops leading it
 * does what `broadside board` does when it stops: stops listening (so no shot is accepted any more),
 * closes the game, reverts the fogs and anchors it keeps, and stands by again. With a `mark` (the pod label
 * that the chart's Service selects, board/leader-pod-label.ts), the leader's board marks its replica once
 * it serves and removes the mark as it stops, so the Service reaches the leader only.
 */

export interface LeaderBoardLog {
  info(context: object, message: string): void;
  error(context: object, message: string): void;
}

export interface LeaderBoardOptions {
  readonly listen: { readonly host: string; readonly port: number; readonly field: string };
  /** A board over the agent's engine, listening on `listen` (startBoardService with the agent's parts). */
  readonly serve: () => Promise<BoardService>;
  readonly clock: Clock;
  readonly log: LeaderBoardLog;
  /** ms between tries when the leader's board could not start (the API server unreachable, say). */
  readonly retryMs?: number;
  /** How the replica serving the board is found (its pod's label); none for an agent outside a pod. */
  readonly mark?: LeaderMark;
}

export class LeaderBoard {
  private standby: BoardServer | undefined;
  private leader: string | undefined;
  private closed = false;
  /** The term being served or wound down: a new one starts only after the last one has stopped. */
  private turn: Promise<void> = Promise.resolve();

  constructor(private readonly options: LeaderBoardOptions) {}

  /** Listens as a standby (before the election): a port that cannot be bound fails the start. */
  async start(): Promise<void> {
    this.standby = await startStandbyServer(this.options.listen, {
      leader: () => this.leader,
      log: this.options.log,
    });
    this.options.log.info({ board: this.standby.url }, "board standing by");
  }

  /** The Lease's holder, as the elector observed it: a standby names it. */
  leaderIs(identity: string): void {
    this.leader = identity;
  }

  /** Serves the board while `leading` holds; resolves once it has stopped and reverted what it kept. */
  lead(leading: AbortSignal): Promise<void> {
    const term = this.turn.then(() => this.serveTerm(leading));
    this.turn = term;
    return term;
  }

  /** Stops listening (the agent is stopping): after the last term, if one is winding down. */
  async close(): Promise<void> {
    this.closed = true;
    await this.turn;
    await this.standby?.close();
    this.standby = undefined;
  }

  private async serveTerm(leading: AbortSignal): Promise<void> {
    if (leading.aborted || this.closed) return;
    await this.standby?.close();
    this.standby = undefined;
    const service = await this.startService(leading);
    if (service !== undefined) {
      this.options.log.info({ board: service.server.url }, "board serving: leading");
      const marked = this.options.mark?.claim(leading);
      await this.options.clock.sleep(Number.POSITIVE_INFINITY, leading);
      // stop() starts closing the listener before its first await, so no shot is taken from here on; the
      // mark goes meanwhile (after a claim still in flight), so the Service stops sending players here.
      await Promise.all([
        service.stop().catch((error: unknown) => {
          this.options.log.error({ err: describeError(error) }, "the board did not stop cleanly");
        }),
        this.unmark(marked),
      ]);
      this.options.log.info({}, "board stopped: no longer leading");
    }
    await this.standByAgain();
  }

  /** The mark off this replica, once its claim has settled (a claim never rejects). */
  private async unmark(marked: Promise<void> | undefined): Promise<void> {
    if (marked === undefined) return;
    await marked;
    await this.options.mark?.release();
  }

  /** Back to standing by, unless the agent is stopping meanwhile. */
  private async standByAgain(): Promise<void> {
    if (this.closed) return;
    await this.start().catch((error: unknown) => {
      this.options.log.error({ err: describeError(error) }, "the board could not stand by");
    });
  }

  /** The leader's board, tried again every retryMs while leading; undefined when leadership ended first. */
  private async startService(leading: AbortSignal): Promise<BoardService | undefined> {
    while (!leading.aborted) {
      try {
        return await this.options.serve();
      } catch (error: unknown) {
        this.options.log.error({ err: describeError(error) }, "the leader's board could not start; retrying");
        await this.options.clock.sleep(this.options.retryMs ?? 5_000, leading);
      }
    }
    return undefined;
  }
}

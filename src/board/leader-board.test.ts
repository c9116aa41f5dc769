import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../core/clock.js";
import type { Board } from "./board.js";
import { LeaderBoard } from "./leader-board.js";
import type { BoardService } from "./serve.js";

/**
 * The agent's board (board/leader-board.ts) across leadership: a standby on the board's port that serves
 * no game, the leader's board for as long as it leads, stopped (no shot taken, drifts reverted) when the
 * leadership ends, then standing by again. The leader's board is an in-memory stand-in that records what
 * is done to it; the standby is the real server on loopback.
 */

const listen = { host: "127.0.0.1", port: 0, field: "--board-listen" };
const lines: string[] = [];
const contexts: object[] = [];
const log = {
  info: (context: object, message: string) => {
    lines.push(message);
    contexts.push(context);
  },
  error: (context: object, message: string) => {
    lines.push(message);
    contexts.push(context);
  },
};
const boards: LeaderBoard[] = [];

afterEach(async () => {
  await Promise.all(boards.splice(0).map((board) => board.close()));
  lines.length = 0;
  contexts.length = 0;
});

/** A leader's board that records being served and stopped. */
function fakeService(events: string[]): BoardService {
  return {
    server: { url: "http://leader.invalid", port: 1, routes: [], close: () => Promise.resolve() },
    board: {} as Board,
    revertAll: () => Promise.resolve(0),
    stop: () => {
      events.push("stopped");
      return Promise.resolve();
    },
  };
}

/** Where the latest standby listens, as it logged. */
function standbyUrl(): string {
  const at = lines.lastIndexOf("board standing by");
  const url = (contexts[at] as { board?: unknown } | undefined)?.board;
  if (typeof url !== "string") throw new Error("no standby logged");
  return url;
}

describe("LeaderBoard", () => {
  it("stands by with 503 BRD_BOARD_STANDBY naming the leader, and answers /healthz", async () => {
    const board = new LeaderBoard({
      listen,
      clock: systemClock,
      log,
      serve: () => Promise.reject(new Error("not leading")),
    });
    boards.push(board);
    await board.start();
    const url = standbyUrl();
    const unknown = await fetch(`${url}/api/shots`, { method: "POST" });
    expect(unknown.status).toBe(503);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain(
      "no leader is known yet",
    );
    board.leaderIs("broadside-agent-7d9f_a1b2c3");
    const named = await fetch(`${url}/api/board`);
    expect(named.status).toBe(503);
    expect(named.headers.get("retry-after")).toBe("5");
    expect(named.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(await named.json()).toEqual({
      error: {
        code: "BRD_BOARD_STANDBY",
        message: expect.stringContaining("broadside-agent-7d9f_a1b2c3") as string,
      },
    });
    expect(await (await fetch(`${url}/healthz`)).text()).toBe("ok\n");
  });

  it("serves the leader's board while leading, stops it when leadership ends, then stands by again", async () => {
    const events: string[] = [];
    const board = new LeaderBoard({
      listen,
      clock: systemClock,
      log,
      serve: () => {
        events.push("served");
        return Promise.resolve(fakeService(events));
      },
    });
    boards.push(board);
    await board.start();
    const before = standbyUrl();
    const leading = new AbortController();
    const term = board.lead(leading.signal);
    await expect.poll(() => events).toEqual(["served"]);
    // The standby let go of the port for the leader's board.
    await expect(fetch(`${before}/healthz`)).rejects.toThrow();
    leading.abort();
    await term;
    expect(events).toEqual(["served", "stopped"]);
    expect(lines).toEqual([
      "board standing by",
      "board serving: leading",
      "board stopped: no longer leading",
      "board standing by",
    ]);
    expect((await fetch(`${standbyUrl()}/api/shots`, { method: "POST" })).status).toBe(503);
  });

  it("tries again while leading when the leader's board cannot start, and stops trying when leadership ends", async () => {
    let tries = 0;
    const board = new LeaderBoard({
      listen,
      clock: systemClock,
      log,
      retryMs: 5,
      serve: () => {
        tries += 1;
        return Promise.reject(new Error("the API server is unreachable"));
      },
    });
    boards.push(board);
    await board.start();
    const leading = new AbortController();
    const term = board.lead(leading.signal);
    await expect.poll(() => tries).toBeGreaterThanOrEqual(3);
    leading.abort();
    await term;
    const settled = tries;
    await systemClock.sleep(30);
    expect(tries).toBe(settled);
    expect(lines).not.toContain("board serving: leading");
    expect(lines.at(-1)).toBe("board standing by");
  });

  it("serves a term only after the last one stopped, and none once closed", async () => {
    const events: string[] = [];
    const board = new LeaderBoard({
      listen,
      clock: systemClock,
      log,
      serve: () => {
        events.push("served");
        return Promise.resolve(fakeService(events));
      },
    });
    await board.start();
    const first = new AbortController();
    const second = new AbortController();
    const firstTerm = board.lead(first.signal);
    const secondTerm = board.lead(second.signal);
    await expect.poll(() => events).toEqual(["served"]);
    first.abort();
    await firstTerm;
    await expect.poll(() => events).toEqual(["served", "stopped", "served"]);
    const closing = board.close();
    second.abort();
    await Promise.all([secondTerm, closing]);
    expect(events).toEqual(["served", "stopped", "served", "stopped"]);
    expect(lines.at(-1)).toBe("board stopped: no longer leading");
    const third = new AbortController();
    await board.lead(third.signal);
    expect(events).toHaveLength(4);
  });
  it("marks its replica once the leader's board serves, and unmarks it after the claim, as the board stops", async () => {
    const events: string[] = [];
    let finishClaim = (): void => undefined;
    const mark = {
      claim: (leading: AbortSignal) => {
        events.push(`claim (leading: ${String(!leading.aborted)})`);
        // A claim still in flight when leadership ends: the release waits for it.
        return new Promise<void>((resolve) => {
          finishClaim = () => {
            events.push("claimed");
            resolve();
          };
        });
      },
      release: () => {
        events.push("released");
        return Promise.resolve();
      },
    };
    const board = new LeaderBoard({
      listen,
      clock: systemClock,
      log,
      mark,
      serve: () => {
        events.push("served");
        return Promise.resolve(fakeService(events));
      },
    });
    boards.push(board);
    await board.start();
    const leading = new AbortController();
    const term = board.lead(leading.signal);
    await expect.poll(() => events).toEqual(["served", "claim (leading: true)"]);
    leading.abort();
    // The board stops taking shots at once, whatever the label's state.
    await expect.poll(() => events).toEqual(["served", "claim (leading: true)", "stopped"]);
    finishClaim();
    await term;
    expect(events).toEqual(["served", "claim (leading: true)", "stopped", "claimed", "released"]);
  });

  it("marks nothing when the leader's board never served", async () => {
    const events: string[] = [];
    const board = new LeaderBoard({
      listen,
      clock: systemClock,
      log,
      retryMs: 5,
      mark: {
        claim: () => {
          events.push("claim");
          return Promise.resolve();
        },
        release: () => {
          events.push("release");
          return Promise.resolve();
        },
      },
      serve: () => Promise.reject(new Error("the API server is unreachable")),
    });
    boards.push(board);
    await board.start();
    const leading = new AbortController();
    const term = board.lead(leading.signal);
    await systemClock.sleep(20);
    leading.abort();
    await term;
    expect(events).toEqual([]);
  });
});

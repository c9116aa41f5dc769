import { describe, expect, it } from "vitest";
import { noDuel, type DuelView } from "../core/board/duel-view.js";
import type { BoardState } from "./board.js";
import {
  boardFixture,
  cellsOf,
  operatorNamespace,
  operatorToken,
  strangerToken,
  webPods,
  type BoardFixture,
} from "./board-fixture.js";
import { contentSecurityPolicy, startBoardServer } from "./server.js";

/*
 * The board's HTTP surface, told as a GameDay: the operator logs in with a Kubernetes token and opens a
 * game, players join with the code and fire, the limits refuse with 429 and Retry-After, and the operator
 * presses halt. Around it, the guarantees: no route that acts answers without a valid token, tokens never
 * reach a log, every answer carries a strict CSP.
 */

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function openGame(fixture: BoardFixture, body: object = { namespaces: ["shop"] }): Promise<string> {
  const opened = await fixture.app.inject({
    method: "POST",
    url: "/api/operator/game",
    headers: bearer(operatorToken),
    payload: body,
  });
  expect(opened.statusCode, opened.body).toBe(201);
  return opened.json<{ code: string }>().code;
}

/** Each join from an address of its own unless told, so only the tests of the join limit meet it. */
let addresses = 0;
function nextAddress(): string {
  addresses += 1;
  return `10.0.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
}

async function join(fixture: BoardFixture, nickname: string, code = "ABC234", address = nextAddress()) {
  return fixture.app.inject({
    method: "POST",
    url: "/api/join",
    payload: { code, nickname },
    remoteAddress: address,
  });
}

async function playerToken(fixture: BoardFixture, nickname: string): Promise<string> {
  const joined = await join(fixture, nickname);
  expect(joined.statusCode, joined.body).toBe(200);
  return joined.json<{ token: string }>().token;
}

async function board(fixture: BoardFixture): Promise<BoardState> {
  return (await fixture.app.inject({ method: "GET", url: "/api/board" })).json<BoardState>();
}

function fire(fixture: BoardFixture, token: string, at: { row: number; col: number }, weapon = "torpedo") {
  return fixture.app.inject({
    method: "POST",
    url: "/api/shots",
    headers: bearer(token),
    payload: { namespace: "shop", row: at.row, col: at.col, weapon },
  });
}

describe("every route that acts needs a valid token", () => {
  it("answers each operator and player route 401 without a token or with a wrong one, 403 for a stranger", async () => {
    const fixture = boardFixture();
    await openGame(fixture);
    // A token for another game: same secret, another game id.
    const other = boardFixture();
    await openGame(other);
    const otherGames = await playerToken(other, "Eve");
    const acting = fixture.routes.filter((route) => route.access === "operator" || route.access === "player");
    expect(acting.map((route) => `${route.method} ${route.url}`).sort()).toEqual([
      "DELETE /api/operator/game",
      "GET /api/operator/game",
      "HEAD /api/operator/game",
      "POST /api/operator/game",
      "POST /api/operator/halt",
      "POST /api/operator/login",
      "POST /api/shots",
    ]);
    for (const route of acting) {
      const call = (headers: Record<string, string>) =>
        fixture.app.inject({
          method: route.method as "GET",
          url: route.url,
          headers,
          ...(route.method === "POST" ? { payload: { namespaces: ["shop"] } } : {}),
        });
      const name = `${route.method} ${route.url}`;
      const none = await call({});
      expect(none.statusCode, name).toBe(401);
      expect(none.headers["www-authenticate"], name).toContain("Bearer");
      expect((await call(bearer("not-a-token"))).statusCode, name).toBe(401);
      expect((await call({ authorization: `Basic ${operatorToken}` })).statusCode, name).toBe(401);
      // A valid token of the other kind, or of the other game, is no key either.
      if (route.access === "operator") {
        expect((await call(bearer(strangerToken))).statusCode, name).toBe(403);
        expect((await call(bearer(otherGames))).statusCode, name).toBe(401);
      } else {
        expect((await call(bearer(operatorToken))).statusCode, name).toBe(401);
        expect((await call(bearer(otherGames))).statusCode, name).toBe(403);
      }
    }
    // Nothing was fired, opened again or halted by any of it.
    expect(fixture.engine.fired).toEqual([]);
    expect(fixture.engine.halts).toBe(0);
    expect(fixture.board.game?.code).toBe("ABC234");
  });

  it("lets the rest only read, except joining, which needs the game's code", async () => {
    const fixture = boardFixture();
    await openGame(fixture);
    const others = fixture.routes.filter((route) => route.access === "public" || route.access === "code");
    for (const route of others) {
      if (route.access === "public") expect(["GET", "HEAD"], route.url).toContain(route.method);
      else expect(`${route.method} ${route.url}`).toBe("POST /api/join");
    }
    expect((await join(fixture, "Ada", "ZZZ999")).statusCode).toBe(403);
    expect(
      (await fixture.app.inject({ method: "POST", url: "/api/join", payload: { nickname: "Ada" } }))
        .statusCode,
    ).toBe(400);
  });

  it("refuses a token in a URL: the board takes no query parameters", async () => {
    const fixture = boardFixture();
    const response = await fixture.app.inject({ method: "GET", url: `/api/board?token=${operatorToken}` });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: "BRD_USAGE" } });
  });
});

describe("the operator", () => {
  it("logs in with a Kubernetes token, asked of TokenReview and SubjectAccessReview", async () => {
    const fixture = boardFixture();
    const login = await fixture.app.inject({
      method: "POST",
      url: "/api/operator/login",
      headers: bearer(operatorToken),
    });
    expect(login.json()).toEqual({ user: "alice", may: "operate boards.broadside.dev" });
    expect(fixture.reviewer.asked).toEqual([
      { group: "broadside.dev", resource: "boards", verb: "operate", namespace: "broadside-system" },
    ]);
    const refused = await fixture.app.inject({
      method: "POST",
      url: "/api/operator/login",
      headers: bearer(strangerToken),
    });
    expect(refused.json()).toEqual({
      error: { code: "BRD_BOARD_FORBIDDEN", message: "mallory may not operate boards in broadside-system" },
    });
  });

  it("opens a game only on namespaces it may operate in, that opted in, with weapons that have an engine path", async () => {
    const fixture = boardFixture();
    const open = (body: object) =>
      fixture.app.inject({
        method: "POST",
        url: "/api/operator/game",
        headers: bearer(operatorToken),
        payload: body,
      });

    const elsewhere = await open({ namespaces: ["shop", "payments"] });
    expect(elsewhere.statusCode).toBe(403);
    expect(elsewhere.json<{ error: { message: string } }>().error.message).toContain("payments");

    const slow = await open({ namespaces: ["shop"], weapons: ["torpedo", "fog"], revertAfter: "1s" });
    expect(slow.statusCode).toBe(400);
    expect(slow.json<{ error: { message: string } }>().error.message).toBe(
      'revertAfter: must be at least 10s, got "1s"',
    );
    const net = await open({ namespaces: ["shop"], weapons: ["net"] });
    expect(net.json<{ error: { message: string } }>().error.message).toContain(
      "needs the node daemon's network faults",
    );
    expect((await open({ namespaces: ["kube-system"] })).statusCode).toBe(403);

    fixture.engine.refused.add("shop");
    const notOptedIn = await open({ namespaces: ["shop"] });
    expect(notOptedIn.statusCode).toBe(400);
    expect(notOptedIn.json()).toMatchObject({ error: { code: "BRD_REFUSED_BY_RAIL" } });
    fixture.engine.refused.clear();

    const opened = await open({
      namespaces: ["shop"],
      weapons: ["torpedo", "mine", "anchor"],
      revertAfter: "2m",
      limits: { player: { shots: 2, per: "5s" } },
    });
    expect(opened.statusCode).toBe(201);
    expect(opened.json()).toMatchObject({
      code: "ABC234",
      game: {
        namespaces: ["shop"],
        weapons: {
          torpedo: { allowed: true },
          mine: { allowed: true },
          fog: { allowed: false, reason: "not allowed in this game" },
          anchor: { allowed: true },
          net: { allowed: false, reason: "needs the node daemon's network faults" },
        },
        revertAfter: "2m",
        limits: { player: { shots: 2, per: "5s" }, game: { shots: 3, per: "1s" } },
      },
    });
    expect((await open({ namespaces: ["shop"] })).statusCode).toBe(409);
    // Spectators see the game, never its code.
    const state = await board(fixture);
    expect(JSON.stringify(state)).not.toContain("ABC234");
    expect(state.grids.map((grid) => grid.namespace)).toEqual(["shop"]);
  });

  it("presses halt: the engine reverts everything, the game closes, the players' tokens stop working", async () => {
    const fixture = boardFixture();
    await openGame(fixture);
    const token = await playerToken(fixture, "Ada");
    const halted = await fixture.app.inject({
      method: "POST",
      url: "/api/operator/halt",
      headers: bearer(operatorToken),
    });
    expect(halted.json()).toMatchObject({ halted: true, reverted: 2, hold: { by: "alice" } });
    expect(fixture.engine.halts).toBe(1);
    expect(fixture.seaFeed.stopped).toBe(1);
    expect((await board(fixture)).game).toBeNull();
    expect((await fire(fixture, token, { row: 0, col: 0 })).statusCode).toBe(401);
  });
});

describe("players", () => {
  it("join with the code and a nickname shown as everyone will see it", async () => {
    const fixture = boardFixture();
    await openGame(fixture);
    const joined = await join(fixture, "  Ada Lovelace ");
    expect(joined.json()).toMatchObject({ nickname: "Ada Lovelace", expiresAt: 1_000_000 + 2 * 3_600_000 });
    for (const [nickname, problem] of [
      ["evil\u202Egnp.exe", "bidirectional text controls"],
      ["<b>x</b>", "may hold only letters"],
      ["a\u0007b", "control characters"],
      ["x".repeat(25), "at most 24 characters"],
      ["", "must not be empty"],
    ] as const) {
      const refused = await join(fixture, nickname);
      expect(refused.statusCode, nickname).toBe(400);
      expect(refused.json<{ error: { message: string } }>().error.message, nickname).toContain(`nickname: `);
      expect(refused.json<{ error: { message: string } }>().error.message, nickname).toContain(problem);
    }
    // Typed on a phone: lower case, a dash.
    expect((await join(fixture, "Grace", "abc-234")).statusCode).toBe(200);
  });

  it("fire: a hit goes through the engine, water costs the cluster nothing, the limits answer 429 with Retry-After", async () => {
    const fixture = boardFixture();
    await openGame(fixture);
    const grid = (await board(fixture)).grids[0];
    const { ship, water } = cellsOf(grid);
    const [ada, grace, linus] = [
      await playerToken(fixture, "Ada"),
      await playerToken(fixture, "Grace"),
      await playerToken(fixture, "Linus"),
    ];
    const [bow, second, third] = ship;
    if (bow === undefined || second === undefined || third === undefined) throw new Error("ship too short");

    const hit = await fire(fixture, ada, bow);
    expect(hit.json()).toMatchObject({ result: "hit", shot: { nickname: "Ada", pod: bow.pod } });
    expect(fixture.engine.fired).toEqual([
      {
        namespace: "shop",
        pod: { name: bow.pod, uid: bow.pod.replace("web-", "web-uid-") },
        ship: { kind: "Deployment", name: "web" },
        weapon: "torpedo",
        revertAfter: expect.objectContaining({ milliseconds: 60_000 }) as unknown,
        unsafe: false,
        playerId: expect.any(String) as unknown,
      },
    ]);

    // Ada again at once: reloading, for 3 s.
    const reloading = await fire(fixture, ada, second);
    expect(reloading.statusCode).toBe(429);
    expect(reloading.headers["retry-after"]).toBe("3");
    expect(reloading.json()).toMatchObject({
      error: { code: "BRD_BOARD_LIMIT" },
      limit: "player",
      reason: "reloading",
    });

    // Grace takes the second pod of four; Linus finds the ship listing.
    expect((await fire(fixture, grace, second)).json()).toMatchObject({ result: "hit" });
    const listing = await fire(fixture, linus, third);
    expect(listing.statusCode).toBe(429);
    expect(listing.headers["retry-after"]).toBe("1");
    expect(listing.json()).toMatchObject({ limit: "ship", reason: "that ship is already listing" });

    // Water: a miss that reaches no engine, though it costs Linus his shot.
    const miss = await fire(fixture, linus, water);
    expect(miss.json()).toMatchObject({ result: "miss" });
    expect(fixture.engine.fired).toHaveLength(2);

    const scores = (await board(fixture)).scoreboard?.players.map((p) => [
      p.nickname,
      p.shots,
      p.hits,
      p.refused,
    ]);
    expect(scores).toEqual([
      ["Ada", 1, 1, 1],
      ["Grace", 1, 1, 0],
      ["Linus", 1, 0, 1],
    ]);
  });

  it("finds the fleet's budget spent after 3 shots in a second, whoever fires", async () => {
    const fixture = boardFixture({ replicas: 10 });
    await openGame(fixture);
    const { ship } = cellsOf((await board(fixture)).grids[0]);
    const tokens = await Promise.all(["A", "B", "C", "D"].map((nickname) => playerToken(fixture, nickname)));
    const answers = [];
    for (const [index, token] of tokens.entries())
      answers.push(await fire(fixture, token, ship[index] ?? { row: 0, col: 0 }));
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 429]);
    expect(answers[3]?.json()).toMatchObject({ limit: "game", reason: "the fleet's budget is spent" });
    expect(answers[3]?.headers["retry-after"]).toBe("1");
    await fixture.clock.advance(1_000);
    expect((await fire(fixture, tokens[3] ?? "", ship[3] ?? { row: 0, col: 0 })).statusCode).toBe(200);
    expect(fixture.engine.fired).toHaveLength(4);
  });

  it("sees a shot the cluster refused as deflected, and the pod stays a target", async () => {
    const fixture = boardFixture();
    await openGame(fixture, { namespaces: ["shop"], weapons: ["mine"] });
    const { ship } = cellsOf((await board(fixture)).grids[0]);
    const [ada, grace] = [await playerToken(fixture, "Ada"), await playerToken(fixture, "Grace")];
    fixture.engine.answer = () => ({
      accepted: false,
      reason: "Cannot evict pod as it would violate the pod's disruption budget.",
    });
    const mined = await fire(fixture, ada, ship[0] ?? { row: 0, col: 0 }, "mine");
    expect(mined.json()).toMatchObject({
      result: "deflected",
      reason: expect.stringContaining("disruption budget") as unknown,
    });
    const torpedo = await fire(fixture, grace, ship[0] ?? { row: 0, col: 0 }, "torpedo");
    expect(torpedo.statusCode).toBe(400);
    expect(torpedo.json<{ error: { message: string } }>().error.message).toBe(
      "weapon: torpedo cannot be fired in this game: not allowed in this game",
    );
    fixture.engine.answer = () => ({ accepted: true, ledgerId: "l" });
    expect((await fire(fixture, grace, ship[0] ?? { row: 0, col: 0 }, "mine")).json()).toMatchObject({
      result: "hit",
    });
  });

  it("names the field of a bad shot and fires nothing", async () => {
    const fixture = boardFixture();
    await openGame(fixture);
    const token = await playerToken(fixture, "Ada");
    const shoot = (payload: object) =>
      fixture.app.inject({ method: "POST", url: "/api/shots", headers: bearer(token), payload });
    expect(
      (await shoot({ namespace: "shop", row: -1, col: 0, weapon: "torpedo" })).json<{
        error: { message: string };
      }>().error.message,
    ).toContain("row");
    expect(
      (await shoot({ namespace: "shop", row: 999, col: 0, weapon: "torpedo" })).json<{
        error: { message: string };
      }>().error.message,
    ).toContain("off the grid");
    expect(
      (await shoot({ namespace: "other", row: 0, col: 0, weapon: "torpedo" })).json<{
        error: { message: string };
      }>().error.message,
    ).toContain("not on the board");
    expect(
      (await shoot({ namespace: "shop", row: 0, col: 0, weapon: "laser" })).json<{
        error: { message: string };
      }>().error.message,
    ).toContain("weapon");
    expect(fixture.engine.fired).toEqual([]);
  });
});

describe("what the board says and writes", () => {
  it("sends a strict Content-Security-Policy with no inline script on every answer", async () => {
    const fixture = boardFixture();
    expect(contentSecurityPolicy).not.toContain("unsafe-inline");
    for (const url of ["/", "/api/board", "/healthz", "/nowhere", "/api/operator/game"]) {
      const response = await fixture.app.inject({ method: "GET", url });
      expect(response.headers["content-security-policy"], url).toBe(contentSecurityPolicy);
      expect(response.headers["x-content-type-options"], url).toBe("nosniff");
    }
    expect(contentSecurityPolicy).toContain("script-src 'self'");
  });

  it("writes every shot to the audit log with the player's id, and no token anywhere", async () => {
    const fixture = boardFixture();
    await openGame(fixture);
    const { ship, water } = cellsOf((await board(fixture)).grids[0]);
    const joined = (await join(fixture, "Ada")).json<{ token: string; playerId: string }>();
    await fire(fixture, joined.token, ship[0] ?? { row: 0, col: 0 });
    await fire(fixture, joined.token, water);
    await fixture.app.inject({ method: "POST", url: "/api/operator/halt", headers: bearer(operatorToken) });
    await fixture.app.inject({ method: "POST", url: "/api/operator/login", headers: bearer(strangerToken) });

    const lines = fixture.logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const shots = lines.filter((line) => line["action"] === "shot");
    expect(shots.map((line) => [line["playerId"], line["result"]])).toEqual([
      [joined.playerId, "hit"],
      [joined.playerId, "refused"],
    ]);
    expect(lines.map((line) => line["action"])).toEqual([
      "open",
      "join",
      "shot",
      "shot",
      "halt",
      "halt-close",
    ]);
    const everything = fixture.logLines.join("\n");
    for (const token of [joined.token, operatorToken, strangerToken]) expect(everything).not.toContain(token);
  });
});

describe("joining, the one action without a token, is bounded", () => {
  it("lets an address join 5 times in 10 s, then answers 429 with Retry-After; other addresses are unaffected", async () => {
    const fixture = boardFixture();
    await openGame(fixture);
    const phone = "192.0.2.7";
    const answers = [];
    // Wrong codes count too: that is what makes walking the codes slow.
    answers.push(await join(fixture, "Ada", "ZZZ999", phone));
    for (const nickname of ["Ada", "Grace", "Linus", "Barbara"])
      answers.push(await join(fixture, nickname, "ABC234", phone));
    await fixture.clock.advance(1_000);
    const refused = await join(fixture, "Edsger", "ABC234", phone);
    expect(answers.map((answer) => answer.statusCode)).toEqual([403, 200, 200, 200, 200]);
    expect(refused.statusCode).toBe(429);
    // The bucket gets a join back every 2 s; one second of it has passed.
    expect(refused.headers["retry-after"]).toBe("1");
    expect(refused.json()).toEqual({
      error: { code: "BRD_BOARD_LIMIT", message: "too many joins from your address: wait a moment" },
      limit: "join",
      reason: "too many joins from your address: wait a moment",
      retryAfterSeconds: 1,
    });
    // Another phone joins at once; the first one again once its bucket has a join.
    expect((await join(fixture, "Edsger", "ABC234", "192.0.2.8")).statusCode).toBe(200);
    await fixture.clock.advance(999);
    expect((await join(fixture, "Edsger", "ABC234", phone)).statusCode).toBe(429);
    await fixture.clock.advance(1);
    expect((await join(fixture, "Edsger", "ABC234", phone)).statusCode).toBe(200);
    const refusals = fixture.logLines.filter((line) => line.includes('"result":"refused"'));
    expect(refusals).toHaveLength(2);
  });

  it("refuses a player past the game's cap (limits.players) with 409, and the cap is the rules'", async () => {
    const fixture = boardFixture();
    await openGame(fixture, { namespaces: ["shop"], limits: { players: 2 } });
    expect((await board(fixture)).game?.limits.players).toBe(2);
    expect((await join(fixture, "Ada")).statusCode).toBe(200);
    expect((await join(fixture, "Grace")).statusCode).toBe(200);
    const full = await join(fixture, "Linus");
    expect(full.statusCode).toBe(409);
    expect(full.json()).toEqual({
      error: { code: "BRD_BOARD_GAME_STATE", message: "the game is full: 2 players have joined" },
    });
    // A game opened with no cap takes 500.
    const other = boardFixture();
    await openGame(other);
    expect((await board(other)).game?.limits.players).toBe(500);
  });

  it("names limits.players when it is out of bounds", async () => {
    const fixture = boardFixture();
    const opened = await fixture.app.inject({
      method: "POST",
      url: "/api/operator/game",
      headers: bearer(operatorToken),
      payload: { namespaces: ["shop"], limits: { players: 0 } },
    });
    expect(opened.statusCode).toBe(400);
    expect(opened.json<{ error: { message: string } }>().error.message).toBe(
      "limits.players: must be at least 1",
    );
  });
});

interface StreamGrid {
  readonly side: number;
  readonly ships: readonly { readonly key: string; readonly cells: readonly unknown[] }[];
}

interface StreamEvent {
  readonly event: string;
  readonly data: { readonly grid?: StreamGrid; readonly duel?: DuelView };
}

/** The events of complete server-sent event blocks (a comment is none). */
function sseEvents(blocks: readonly string[]): StreamEvent[] {
  return blocks.flatMap((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    return event === undefined || data === undefined
      ? []
      : [{ event, data: JSON.parse(data) as StreamEvent["data"] }];
  });
}

/**
 * Follows the stream of a listening board: `connected` once its first event (the state) came, `done`
 * with every event up to the first that `last` picks.
 */
function follow(url: string, last: (event: StreamEvent) => boolean) {
  const stop = new AbortController();
  let connected: () => void = () => undefined;
  const connecting = new Promise<void>((resolve) => {
    connected = resolve;
  });
  const done = (async () => {
    const response = await fetch(`${url}/api/board/events`, { signal: stop.signal });
    const reader = response.body?.getReader();
    if (reader === undefined) throw new Error("no stream");
    const decoder = new TextDecoder();
    const events: StreamEvent[] = [];
    let buffer = "";
    while (!events.some(last)) {
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`the stream ended after ${JSON.stringify(events)}`);
      buffer += decoder.decode(chunk.value as Uint8Array, { stream: true });
      const blocks = buffer.split("\n\n");
      buffer = blocks.pop() ?? "";
      events.push(...sseEvents(blocks));
      if (events.length > 0) connected();
    }
    stop.abort();
    return events.slice(0, events.findIndex(last) + 1);
  })();
  return { connected: connecting, done };
}

/** The fixture's board listening on a free port of 127.0.0.1 while `body` runs. */
async function listening(fixture: BoardFixture, body: (url: string) => Promise<void>): Promise<void> {
  const server = await startBoardServer(
    { host: "127.0.0.1", port: 0, field: "--listen" },
    { board: fixture.board, reviewer: fixture.reviewer, operatorNamespace, log: fixture.audit },
  );
  try {
    await body(server.url);
  } finally {
    await server.close();
  }
}

function webShip(grid: StreamGrid | undefined) {
  const ship = grid?.ships.find((candidate) => candidate.key === "Deployment/web");
  if (ship === undefined) throw new Error("no web ship on the grid");
  return ship;
}

function followedSea(fixture: BoardFixture) {
  const sea = fixture.seaFeed.seas[0];
  if (sea === undefined) throw new Error("no sea followed");
  return sea;
}

describe("the spectators' stream", () => {
  it("sends the game's grids when it opens, to a spectator who came before the game", async () => {
    const fixture = boardFixture();
    await listening(fixture, async (url) => {
      const early = follow(url, (event) => event.event === "grid");
      await early.connected;
      await openGame(fixture);
      const events = await early.done;
      expect(events.map((event) => event.event)).toEqual(["state", "game", "grid"]);
      expect(webShip(events[2]?.data.grid).cells).toHaveLength(4);
    });
  });

  it("sends a grid event with the new shape when a ship grows or the grid widens, and none for a kill", async () => {
    const fixture = boardFixture();
    await openGame(fixture);
    const side = (await board(fixture)).grids[0]?.side ?? 0;
    const sea = followedSea(fixture);
    await listening(fixture, async (url) => {
      const growing = follow(url, (event) => (event.data.grid?.side ?? 0) > side);
      await growing.connected;
      // web grows from 4 to 6 cells; then ships arrive, more than the grid holds, and it widens.
      sea.upsertWorkload("shop", { kind: "Deployment", name: "web", replicas: 6 });
      for (let index = 0; index < 20; index += 1) {
        sea.upsertWorkload("shop", { kind: "Deployment", name: `late-${index}`, replicas: 5 });
      }
      const grids = (await growing.done).flatMap((event) => event.data.grid ?? []);
      const [grown] = grids;
      const widest = grids.at(-1);
      expect(grown?.side).toBe(side);
      expect(webShip(grown).cells).toHaveLength(6);
      expect(widest?.side).toBeGreaterThan(side);
      expect(widest?.ships.map((ship) => ship.key)).toContain("Deployment/late-0");
      // web kept its bow where it was.
      expect(webShip(widest).cells[0]).toEqual(webShip(grown).cells[0]);

      const killed = follow(url, (event) => event.event === "sea");
      await killed.connected;
      const [victim] = webPods(1);
      if (victim === undefined) throw new Error("no pod");
      sea.upsertPod("shop", { ...victim, deleting: true });
      expect((await killed.done).map((event) => event.event)).toEqual(["state", "sea"]);
    });
  });
});

describe("the duel on the board", () => {
  const running: DuelView = {
    running: true,
    since: 1_000,
    attacks: [
      {
        id: "20261207t200501-aaaaaa",
        kind: "config-drift",
        target: "configmap demo-payments/checkout-config data.payment\\.timeout",
        restorer: "gitops",
        restoredBy: "kustomize-controller",
        healMs: 2_269,
      },
    ],
    tally: { healsByGitOps: 1, healsByKubernetes: 0, misses: 0 },
  };

  it("is in GET /api/board, game or not, read by anyone like the rest of the board", async () => {
    const fixture = boardFixture();
    expect((await board(fixture)).duel).toEqual(noDuel);
    fixture.duel.set(running);
    expect((await board(fixture)).duel).toEqual(running);
    await openGame(fixture);
    expect((await board(fixture)).duel).toEqual(running);
  });

  it("streams each new view as a duel event, and the view in the first state event", async () => {
    const fixture = boardFixture();
    fixture.duel.set(running);
    await listening(fixture, async (url) => {
      const watching = follow(url, (event) => event.event === "duel");
      await watching.connected;
      fixture.duel.set(noDuel);
      const events = await watching.done;
      expect(events.map((event) => event.event)).toEqual(["state", "duel"]);
      expect(events[0]?.data.duel).toEqual(running);
      expect(events[1]?.data.duel).toEqual(noDuel);
    });
  });

  it("adds no route: the duel is read only", () => {
    const fixture = boardFixture();
    expect(fixture.routes.filter((route) => route.url.includes("duel"))).toEqual([]);
  });
});

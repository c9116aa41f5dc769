import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { weapons } from "../core/board/rules.js";
import type { PlayerClaims } from "../core/board/tokens.js";
import { BroadsideError, describeError, usageError, type ErrorCode } from "../core/errors.js";
import { formatPath } from "../core/field-path.js";
import type { AccessAttributes, AccessReviewer } from "../kube/access-review.js";
import type { Board } from "./board.js";
import type { BoardEvent } from "./game.js";
import { defaultUiDirectory, uiAssets, uiFiles, uiNotBuilt } from "./ui-assets.js";

/**
 * The board's HTTP API (docs/board.md, "HTTP API"): the operator's routes behind a Kubernetes bearer
 * token (TokenReview, then a SubjectAccessReview for `operate` on boards.broadside.dev), the players'
 * behind their game token, and read-only routes for spectators. Tokens are read from the Authorization
 * header only; a URL with a query string is refused outright, so a token pasted into one never reaches a
 * handler, and nothing about a request is logged: the audit log (board.ts) says who did what.
 */

/** Who may call a route: the test that enumerates every route checks each against this. */
export type RouteAccess = "operator" | "player" | "code" | "public";

export interface BoardRoute {
  readonly method: string;
  readonly url: string;
  readonly access: RouteAccess;
}

export interface BoardServerOptions {
  readonly board: Board;
  readonly reviewer: AccessReviewer;
  /** The namespace the operator's `operate boards` is asked in for every operator route. */
  readonly operatorNamespace: string;
  /** Where failures that are Broadside's bugs are told (never a request's headers or body). */
  readonly log: { error(object: object, message: string): void };
  /** Spectator streams open at once; more are refused with 503. */
  readonly maxStreams?: number;
  /** ms between SSE comments that keep a stream alive through proxies and port-forwards. */
  readonly heartbeatMs?: number;
  /** Where the built page is (ui-assets.ts); default dist/board-ui/. */
  readonly uiDirectory?: string;
}

/** The verb and resource an operator must be allowed, asked of the API server as a SubjectAccessReview. */
export const operatorAccess = { group: "broadside.dev", resource: "boards", verb: "operate" } as const;

/** No inline script or style, nothing from elsewhere, no framing, no form posts, no plugins. */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const securityHeaders = {
  "content-security-policy": contentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-store",
} as const;

export const boardHttpLimits = {
  /** Bytes of a request body: the largest is a game's rules, well under this. */
  bodyLimit: 16 * 1024,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  /** A socket idle this long is closed; streams send a heartbeat well within it. */
  connectionTimeoutMs: 60_000,
  maxStreams: 1_000,
  heartbeatMs: 15_000,
} as const;

const shotSchema = z.strictObject({
  namespace: z.string({ error: "must be a namespace name" }).min(1).max(63),
  row: z.number({ error: "must be a number" }).int({ error: "must be a whole number" }).min(0).max(100_000),
  col: z.number({ error: "must be a number" }).int({ error: "must be a whole number" }).min(0).max(100_000),
  weapon: z.enum(weapons, { error: `must be one of ${weapons.join(", ")}` }),
});

/** A fastify instance with the board's limits, for the board and for a standby replica alike. */
function boardFastify(): FastifyInstance {
  return Fastify({
    // No logger: nothing about a request, its headers (tokens) or its body is ever written by fastify.
    logger: false,
    bodyLimit: boardHttpLimits.bodyLimit,
    requestTimeout: boardHttpLimits.requestTimeoutMs,
    keepAliveTimeout: boardHttpLimits.keepAliveTimeoutMs,
    connectionTimeout: boardHttpLimits.connectionTimeoutMs,
    forceCloseConnections: true,
    return503OnClosing: true,
  });
}

/** The fastify app with every route, not listening: tests call it through inject. */
export function buildBoardApp(options: BoardServerOptions): { app: FastifyInstance; routes: BoardRoute[] } {
  const app = boardFastify();
  const routes: BoardRoute[] = [];
  const access = new Map<string, RouteAccess>();
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const kind = access.get(route.url) ?? "public";
    for (const method of methods) routes.push({ method, url: route.url, access: kind });
  });
  app.addHook("onRequest", async (request, reply) => {
    void reply.headers(securityHeaders);
    if (request.url.includes("?")) {
      throw usageError(
        "(url)",
        "the board takes no query parameters; a token goes in the Authorization header",
      );
    }
  });
  app.setErrorHandler(async (error, _request, reply) => sendError(reply, error, options.log));
  app.setNotFoundHandler(async (_request, reply) =>
    reply.code(404).send({ error: { code: "BRD_USAGE", message: "no such route" } }),
  );
  const route = (kind: RouteAccess, url: string): string => {
    access.set(url, kind);
    return url;
  };
  registerPublic(app, options, route);
  registerOperator(app, options, route);
  registerPlayer(app, options, route);
  return { app, routes };
}

type Mark = (kind: RouteAccess, url: string) => string;

/** `compute` run as a promise: a throw becomes a rejection, which fastify answers through sendError. */
function later<T>(compute: () => T): Promise<T> {
  return Promise.resolve().then(compute);
}

function registerPublic(app: FastifyInstance, options: BoardServerOptions, route: Mark): void {
  // The page: a fixed map of URLs to built files; nothing in a request becomes a path.
  const files = uiFiles(options.uiDirectory ?? defaultUiDirectory);
  for (const [url, asset] of Object.entries(uiAssets)) {
    app.get(route("public", url), async (_request, reply) => {
      const file = await files(asset);
      if (file.found) return reply.type(asset.type).send(file.body);
      return reply.code(503).type("text/html; charset=utf-8").send(uiNotBuilt);
    });
  }
  app.get(route("public", "/healthz"), async (_request, reply) => reply.type("text/plain").send("ok\n"));
  app.get(route("public", "/api/board"), () => later(() => options.board.state()));
  app.get(route("public", "/api/board/events"), (request, reply) =>
    later(() => {
      stream(request, reply, options);
    }),
  );
  // Unauthenticated, so bounded: per client address (the socket's; no forwarding header is trusted) and
  // per game (`limits.players`). A join over the address's limit is answered at once: 429, Retry-After.
  app.post(route("code", "/api/join"), async (request, reply) => {
    const outcome = await later(() => options.board.join(request.body, request.ip));
    return outcome.joined ? outcome.player : sendRefusal(reply, outcome.refusal);
  });
}

/** A limit's refusal: 429 at once, with Retry-After, the limit's name and the reason the player sees. */
function sendRefusal(
  reply: FastifyReply,
  refusal: { readonly limit: string; readonly reason: string; readonly retryAfterSeconds: number },
): FastifyReply {
  return reply
    .code(429)
    .header("retry-after", String(refusal.retryAfterSeconds))
    .send({
      error: { code: "BRD_BOARD_LIMIT", message: refusal.reason },
      limit: refusal.limit,
      reason: refusal.reason,
      retryAfterSeconds: refusal.retryAfterSeconds,
    });
}

function registerOperator(app: FastifyInstance, options: BoardServerOptions, route: Mark): void {
  const { board } = options;
  const operators = new WeakMap<FastifyRequest, Operator>();
  // onRequest: the token is checked before any body is read, so a stranger's body is never parsed.
  const onRequest = async (request: FastifyRequest): Promise<void> => {
    operators.set(request, await operatorOf(request, options.reviewer, options.operatorNamespace));
  };
  const who = (request: FastifyRequest): Operator => {
    const operator = operators.get(request);
    if (operator === undefined) throw new BroadsideError("BRD_INTERNAL", "operator route without its check");
    return operator;
  };
  app.post(route("operator", "/api/operator/login"), { onRequest }, (request) =>
    later(() => ({
      user: who(request).username,
      may: `${operatorAccess.verb} ${operatorAccess.resource}.${operatorAccess.group}`,
    })),
  );
  app.get(route("operator", "/api/operator/game"), { onRequest }, () =>
    later(() => {
      const game = board.game;
      return game === undefined ? { game: null } : { code: game.code, game: game.summary() };
    }),
  );
  app.post(route("operator", "/api/operator/game"), { onRequest }, async (request, reply) => {
    const operator = who(request);
    await operator.mayOperateIn(namespacesOf(request.body));
    const game = await board.open(request.body, operator.username);
    return reply.code(201).send({ code: game.code, game: game.summary() });
  });
  app.delete(route("operator", "/api/operator/game"), { onRequest }, async (request) => {
    const closed = await board.close(who(request).username);
    if (!closed) throw new BroadsideError("BRD_BOARD_GAME_STATE", "no game is open");
    return { closed: true };
  });
  app.post(route("operator", "/api/operator/halt"), { onRequest }, async (request) => {
    const result = await board.halt(who(request).username);
    return { halted: true, reverted: result.reverted, hold: result.hold };
  });
}

function registerPlayer(app: FastifyInstance, options: BoardServerOptions, route: Mark): void {
  const players = new WeakMap<FastifyRequest, PlayerClaims>();
  const onRequest = (request: FastifyRequest): Promise<void> =>
    later(() => {
      players.set(request, options.board.player(bearerToken(request, "a player token from POST /api/join")));
    });
  app.post(route("player", "/api/shots"), { onRequest }, async (request, reply) => {
    const player = players.get(request);
    if (player === undefined) throw new BroadsideError("BRD_INTERNAL", "player route without its check");
    const outcome = await options.board.fire(player, shotOf(request.body));
    if (outcome.fired) {
      return {
        result: outcome.shot.result,
        shot: outcome.shot,
        ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
      };
    }
    return sendRefusal(reply, outcome.refusal);
  });
}

interface Operator {
  readonly username: string;
  /** Refuses (403) unless the operator may operate boards in every one of `namespaces`. */
  mayOperateIn(namespaces: readonly string[]): Promise<void>;
}

async function operatorOf(
  request: FastifyRequest,
  reviewer: AccessReviewer,
  namespace: string,
): Promise<Operator> {
  const token = bearerToken(request, "a Kubernetes bearer token (kubectl create token ...)");
  const verdict = await reviewer.authenticate(token);
  if (!verdict.authenticated) {
    throw new BroadsideError(
      "BRD_BOARD_UNAUTHENTICATED",
      `the API server did not accept the token: ${verdict.reason}`,
    );
  }
  const user = verdict.user;
  const may = async (where: string): Promise<void> => {
    const attributes: AccessAttributes = { ...operatorAccess, namespace: where };
    const decision = await reviewer.authorize(user, attributes);
    if (!decision.allowed) throw new BroadsideError("BRD_BOARD_FORBIDDEN", decision.reason);
  };
  await may(namespace);
  return {
    username: user.username,
    mayOperateIn: async (namespaces) => {
      for (const where of namespaces) if (where !== namespace) await may(where);
    },
  };
}

/** The namespaces a game's body names, as far as they are strings: each must be the operator's to open. */
function namespacesOf(body: unknown): string[] {
  const listed =
    typeof body === "object" && body !== null ? (body as { namespaces?: unknown }).namespaces : undefined;
  if (!Array.isArray(listed)) return [];
  return [
    ...new Set(
      listed.filter((name): name is string => typeof name === "string" && /^[a-z0-9-]{1,63}$/.test(name)),
    ),
  ];
}

/** The bearer token of the Authorization header, or a 401 saying what to send. */
function bearerToken(request: FastifyRequest, what: string): string {
  const header = request.headers.authorization ?? "";
  const match = /^Bearer ([^\s]+)$/i.exec(header);
  const token = match?.[1];
  if (token === undefined) {
    throw new BroadsideError("BRD_BOARD_UNAUTHENTICATED", `send Authorization: Bearer with ${what}`);
  }
  return token;
}

function shotOf(body: unknown): z.infer<typeof shotSchema> {
  const parsed = shotSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${formatPath(issue.path, "(body)")}: ${issue.message}`,
  );
  throw new BroadsideError("BRD_USAGE", problems.join("; "));
}

/** HTTP status per error code; anything else is a 500 whose detail goes to the log, not the client. */
const statusOf: Partial<Record<ErrorCode, number>> = {
  BRD_USAGE: 400,
  BRD_REFUSED_BY_RAIL: 400,
  BRD_BOARD_UNAUTHENTICATED: 401,
  BRD_BOARD_FORBIDDEN: 403,
  BRD_BOARD_GAME_STATE: 409,
  BRD_HALTED: 409,
  BRD_CONFLICT: 409,
  BRD_SHOT_REFUSED: 409,
  BRD_BOARD_LIMIT: 429,
  BRD_BOARD_STANDBY: 503,
  BRD_KUBE_FORBIDDEN: 502,
  BRD_KUBE_API: 502,
  BRD_KUBE_UNREACHABLE: 502,
  BRD_TIMEOUT: 504,
};

async function sendError(
  reply: FastifyReply,
  error: unknown,
  log: BoardServerOptions["log"],
): Promise<FastifyReply> {
  if (error instanceof BroadsideError && statusOf[error.code] !== undefined) {
    const status = statusOf[error.code] ?? 500;
    if (status === 401) void reply.header("www-authenticate", 'Bearer realm="broadside-board"');
    return reply.code(status).send({ error: { code: error.code, message: error.message } });
  }
  const status = clientStatus(error);
  if (status !== undefined) {
    // fastify's own refusals: a body that is not JSON, too large, of another content type.
    return reply
      .code(status)
      .send({ error: { code: "BRD_USAGE", message: `(body): ${describeError(error)}` } });
  }
  log.error({ err: describeError(error) }, "board request failed");
  return reply.code(500).send({ error: { code: "BRD_INTERNAL", message: "the board failed; see its log" } });
}

function clientStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" && status >= 400 && status < 500 ? status : undefined;
}

/**
 * The spectators' stream (server-sent events): a `state` event with the whole board first, then every
 * sea event, shot, scoreboard and game change as it happens, and a comment every heartbeat.
 */
function stream(request: FastifyRequest, reply: FastifyReply, options: BoardServerOptions): void {
  const open = openStreams.get(options.board) ?? 0;
  if (open >= (options.maxStreams ?? boardHttpLimits.maxStreams)) {
    throw new BroadsideError("BRD_BOARD_GAME_STATE", "too many spectators' streams open; read /api/board");
  }
  openStreams.set(options.board, open + 1);
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...securityHeaders,
    "content-type": "text/event-stream; charset=utf-8",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  const send = (event: string, data: unknown): void => {
    raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  send("state", options.board.state());
  const unsubscribe = options.board.subscribe((event: BoardEvent) => {
    send(event.type, event);
  });
  const heartbeat = setInterval(
    () => raw.write(": keep-alive\n\n"),
    options.heartbeatMs ?? boardHttpLimits.heartbeatMs,
  );
  heartbeat.unref();
  request.raw.once("close", () => {
    clearInterval(heartbeat);
    unsubscribe();
    openStreams.set(options.board, (openStreams.get(options.board) ?? 1) - 1);
  });
}

/** Streams open per board: a WeakMap, so no module state outlives its board. */
const openStreams = new WeakMap<Board, number>();

export interface BoardServer {
  /** "http://127.0.0.1:8090" as bound (port 0 becomes the one the system chose). */
  readonly url: string;
  readonly port: number;
  readonly routes: readonly BoardRoute[];
  close(): Promise<void>;
}

/** Listens on `address`: a usage error naming `field` when it cannot. */
export async function startBoardServer(
  address: { readonly host: string; readonly port: number; readonly field: string },
  options: BoardServerOptions,
): Promise<BoardServer> {
  const { app, routes } = buildBoardApp(options);
  return listening(app, address, routes);
}

async function listening(
  app: FastifyInstance,
  address: { readonly host: string; readonly port: number; readonly field: string },
  routes: readonly BoardRoute[],
): Promise<BoardServer> {
  try {
    await app.listen({ host: address.host, port: address.port });
  } catch (error: unknown) {
    await app.close();
    throw usageError(
      address.field,
      `cannot listen on ${address.host}:${address.port}: ${describeError(error)}`,
    );
  }
  const info = app.server.address() as AddressInfo;
  const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${info.port}`,
    port: info.port,
    routes,
    close: () => (closing ??= app.close().then(() => undefined)),
  };
}

export interface StandbyServerOptions {
  /** Who leads now (the Lease's holder), when known: the answer names it. */
  readonly leader: () => string | undefined;
  /** Where failures that are Broadside's bugs are told. */
  readonly log: BoardServerOptions["log"];
}

/**
 * A replica of the agent that does not lead (docs/board.md, "In the cluster"): it holds the board's port
 * so a Service's connection is answered, but serves no game and accepts no shot. Every route but /healthz
 * is answered 503 `BRD_BOARD_STANDBY` with Retry-After, naming the leader; nothing is read or acted on.
 */
export async function startStandbyServer(
  address: { readonly host: string; readonly port: number; readonly field: string },
  options: StandbyServerOptions,
): Promise<BoardServer> {
  const app = boardFastify();
  const routes: BoardRoute[] = [{ method: "GET", url: "/healthz", access: "public" }];
  app.addHook("onRequest", async (_request, reply) => {
    void reply.headers(securityHeaders);
  });
  app.setErrorHandler(async (error, _request, reply) => sendError(reply, error, options.log));
  app.get("/healthz", async (_request, reply) => reply.type("text/plain").send("ok\n"));
  app.setNotFoundHandler(async (_request, reply) => {
    const leader = options.leader();
    const message =
      "this replica of the agent is not the leader, so it serves no game and accepts no shot: " +
      (leader === undefined ? "no leader is known yet" : `reach the board through the leader, ${leader}`);
    return reply
      .code(statusOf.BRD_BOARD_STANDBY ?? 503)
      .header("retry-after", "5")
      .send({ error: { code: "BRD_BOARD_STANDBY", message } });
  });
  return listening(app, address, routes);
}

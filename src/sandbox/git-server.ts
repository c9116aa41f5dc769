import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isAbsolute } from "node:path";
import { parseArgs } from "node:util";
import type { Logger } from "pino";
import type { Clock } from "../core/clock.js";
import { BroadsideError, describeError, usageError } from "../core/errors.js";

/*
 * The sandbox's Git server (`--with flux`): git's own smart-HTTP backend, `git http-backend`, run as a CGI
 * program per request behind node:http on 127.0.0.1 (ADR 0031). Read-only: it answers the two requests a
 * fetch makes (the ref advertisement and upload-pack) for the one repository it serves and refuses
 * everything else before any process starts, so no path a client sends reaches git. Commits go into the
 * repository by path, from the sandbox's work tree (flux-repo.ts).
 */

/** A repository name: becomes `<root>/<name>.git`, so only these characters. */
const repositoryPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function checkRepositoryName(name: string, field: string): string {
  if (!repositoryPattern.test(name)) {
    throw usageError(field, `must be 1-63 lowercase letters, digits or '-', starting with a letter or digit`);
  }
  return name;
}

export type GitRoute =
  | { readonly kind: "health" }
  /** A request for git http-backend: the CGI PATH_INFO and QUERY_STRING it gets, made here, not copied. */
  | { readonly kind: "git"; readonly pathInfo: string; readonly query: string }
  | { readonly kind: "refused"; readonly status: 403 | 404 | 405; readonly reason: string };

const readOnly = "this server is read-only: commit into the sandbox's work tree and push by path";

/** What a request is: one of the two steps of a smart-HTTP fetch of `repository`, the health check, or refused. */
export function routeGitRequest(method: string, rawUrl: string, repository: string): GitRoute {
  const url = new URL(rawUrl, "http://127.0.0.1");
  const base = `/${repository}.git`;
  const only = (allowed: string, route: GitRoute): GitRoute =>
    method === allowed ? route : { kind: "refused", status: 405, reason: `only ${allowed} is served here` };
  switch (url.pathname) {
    case "/healthz":
      return only("GET", { kind: "health" });
    case `${base}/info/refs`:
      return only("GET", advertisement(url.searchParams.get("service"), base));
    case `${base}/git-upload-pack`:
      return only("POST", { kind: "git", pathInfo: `${base}/git-upload-pack`, query: "" });
    case `${base}/git-receive-pack`:
      return { kind: "refused", status: 403, reason: readOnly };
    default:
      return { kind: "refused", status: 404, reason: `not found: this server serves ${base} only` };
  }
}

function advertisement(service: string | null, base: string): GitRoute {
  if (service === "git-upload-pack")
    return { kind: "git", pathInfo: `${base}/info/refs`, query: "service=git-upload-pack" };
  if (service === "git-receive-pack") return { kind: "refused", status: 403, reason: readOnly };
  return { kind: "refused", status: 404, reason: "only git's smart HTTP protocol is served" };
}

export interface GitServerSettings {
  /** The directory holding `<repository>.git` (GIT_PROJECT_ROOT). */
  readonly root: string;
  readonly repository: string;
  /** The git binary, and the PATH its helpers are found on. */
  readonly git: string;
  readonly path: string;
}

/** The request's parts the CGI program sees. */
export interface CgiRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly remoteAddress: string | undefined;
}

/**
 * http-backend's whole environment, nothing inherited: no user's or system's git configuration (no
 * hooks, no credential helpers), the repository exported without a marker file, and of the request only
 * what the protocol needs, each header checked for its shape.
 */
export function cgiEnvironment(
  route: Extract<GitRoute, { kind: "git" }>,
  request: CgiRequest,
  settings: GitServerSettings,
): Record<string, string> {
  const header = (name: string, pattern: RegExp): Record<string, string> => {
    const value = request.headers[name];
    return typeof value === "string" && pattern.test(value) ? { [cgiName(name)]: value } : {};
  };
  return {
    PATH: settings.path,
    HOME: settings.root,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_PROJECT_ROOT: settings.root,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: route.pathInfo,
    QUERY_STRING: route.query,
    REQUEST_METHOD: request.method,
    REMOTE_ADDR: request.remoteAddress ?? "",
    ...header("content-type", /^application\/x-git-upload-pack-request$/),
    ...header("content-length", /^\d{1,12}$/),
    ...header("content-encoding", /^(gzip|identity)$/),
    // Protocol v2 ("version=2"), as go-git and git send it.
    ...header("git-protocol", /^[a-z0-9=:.]{1,64}$/),
  };
}

/** CONTENT_TYPE and CONTENT_LENGTH are CGI's own names; other headers are HTTP_<NAME>, GIT_PROTOCOL git's. */
function cgiName(header: string): string {
  if (header === "content-type" || header === "content-length") return header.toUpperCase().replace("-", "_");
  if (header === "git-protocol") return "GIT_PROTOCOL";
  return `HTTP_${header.toUpperCase().replaceAll("-", "_")}`;
}

export interface GitServerArgs {
  readonly root: string;
  readonly repository: string;
  readonly port: number;
}

/** `--root=DIR --repository=NAME --port=N`, each checked: an absolute root, a plain name, a port. */
export function parseGitServerArgs(argv: readonly string[]): GitServerArgs {
  let values: Partial<Record<"root" | "repository" | "port", string>>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { root: { type: "string" }, repository: { type: "string" }, port: { type: "string" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error: unknown) {
    throw new BroadsideError("BRD_USAGE", describeError(error));
  }
  const root = values.root ?? "";
  if (!isAbsolute(root)) throw usageError("--root", "must be an absolute path");
  const repository = checkRepositoryName(values.repository ?? "", "--repository");
  const text = values.port ?? "";
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65_535))
    throw usageError("--port", `must be a port from 1 to 65535, got ${JSON.stringify(text)}`);
  return { root, repository, port };
}

export interface CgiHead {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  /** Where the body starts in the bytes read so far. */
  readonly bodyStart: number;
}

/** The longest head accepted from http-backend: its heads are a few lines. */
const maxHeadBytes = 16_384;

/**
 * The CGI response's head (`Status:` and headers, then a blank line), or undefined while it is not
 * complete. A head that never ends, or a malformed Status, is an error.
 */
export function parseCgiHead(bytes: Buffer): CgiHead | undefined {
  const [end, separator] = headEnd(bytes);
  if (end < 0) {
    if (bytes.length > maxHeadBytes) throw new Error("git http-backend sent a head longer than 16 KiB");
    return undefined;
  }
  let status = 200;
  const headers: [string, string][] = [];
  for (const line of bytes.subarray(0, end).toString("latin1").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = statusOf(value);
    else headers.push([name, value]);
  }
  return { status, headers, bodyStart: end + separator };
}

function headEnd(bytes: Buffer): [number, number] {
  const crlf = bytes.indexOf("\r\n\r\n");
  const lf = bytes.indexOf("\n\n");
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return [crlf, 4];
  return [lf, 2];
}

function statusOf(value: string): number {
  const status = Number.parseInt(value, 10);
  if (!Number.isInteger(status) || status < 100 || status > 599)
    throw new Error(`git http-backend sent an invalid Status: ${value}`);
  return status;
}

export interface GitServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0: any free port) and serves the repository until closed. */
export async function startGitServer(
  settings: GitServerSettings,
  port: number,
  log: Logger,
  clock: Clock,
): Promise<GitServer> {
  const server = createServer((request, response) => {
    const started = clock.now();
    response.on("finish", () => {
      log.info(
        { method: request.method, path: request.url, status: response.statusCode, ms: clock.now() - started },
        "request",
      );
    });
    handle(request, response, settings, log);
  });
  await listen(server, port);
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new BroadsideError(
          "BRD_SANDBOX_START_FAILED",
          `the git server cannot listen on 127.0.0.1:${port} (${error.code ?? error.message})`,
          { cause: error },
        ),
      );
    });
    server.listen(port, "127.0.0.1", () => {
      resolve();
    });
  });
}

function handle(
  request: IncomingMessage,
  response: ServerResponse,
  settings: GitServerSettings,
  log: Logger,
): void {
  const route = routeGitRequest(request.method ?? "", request.url ?? "/", settings.repository);
  if (route.kind === "health") {
    response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
  } else if (route.kind === "refused") {
    request.resume();
    response.writeHead(route.status, { "content-type": "text/plain" }).end(`${route.reason}\n`);
  } else {
    const environment = cgiEnvironment(
      route,
      { method: request.method ?? "", headers: request.headers, remoteAddress: request.socket.remoteAddress },
      settings,
    );
    runBackend(request, response, settings.git, environment, log);
  }
}

/** Runs `git http-backend` for one request: the request body on its stdin, its stdout as the response. */
function runBackend(
  request: IncomingMessage,
  response: ServerResponse,
  git: string,
  environment: Record<string, string>,
  log: Logger,
): void {
  const child = spawn(git, ["http-backend"], { env: environment, stdio: ["pipe", "pipe", "pipe"] });
  const fail = (reason: string): void => {
    log.error({ path: request.url, reason }, "git http-backend failed");
    if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain" });
    response.end();
    child.kill();
  };
  child.on("error", (error) => {
    fail(error.message);
  });
  // A client that hangs up mid-request leaves nothing running.
  response.on("close", () => {
    if (!response.writableFinished) child.kill();
  });
  child.stdin.on("error", () => undefined);
  request.pipe(child.stdin);
  child.stderr.on("data", (chunk: Buffer) => {
    log.warn({ stderr: chunk.toString("utf8").trim() }, "git");
  });
  let head = Buffer.alloc(0);
  let headDone = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (headDone) {
      response.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    try {
      const parsed = parseCgiHead(head);
      if (parsed === undefined) return;
      headDone = true;
      for (const [name, value] of parsed.headers) response.setHeader(name, value);
      response.writeHead(parsed.status);
      response.write(head.subarray(parsed.bodyStart));
    } catch (error: unknown) {
      fail(error instanceof Error ? error.message : String(error));
    }
  });
  child.on("close", (code) => {
    if (!headDone) fail(`exited with ${code ?? "a signal"} before answering`);
    else response.end();
  });
}

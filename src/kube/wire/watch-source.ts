import http from "node:http";
import https from "node:https";
import { createInterface } from "node:readline";
import { systemClock } from "../../core/clock.js";
import { optional } from "../../core/objects.js";
import type { ApiRequestObserver } from "../api-request-observer.js";
import type { RequestCounter } from "../rate-limits.js";
import { getText, httpError, parseList } from "../watch/raw-list.js";
import type {
  CollectionQuery,
  ListPage,
  ListResult,
  WatchHandle,
  WatchSource,
  WatchSources,
} from "../watch/source.js";
import type { WireConnection } from "./transport.js";

/**
 * The watch sources of the one-shot verbs over the wire client's connection (ADR 0024), so a waiting
 * `kill` times its recovery without loading client-node either. LIST as client-node-source.ts sends it;
 * WATCH as client-node's Watch does: `?watch=true` from a resourceVersion with bookmarks, one JSON event
 * per line, `onDone(null)` when the stream ends, an error carrying `statusCode` when the server answers
 * anything but 200.
 */
export function wireWatchSources(
  connection: WireConnection,
  counter: RequestCounter,
  observer?: ApiRequestObserver,
): WatchSources {
  return (collection) => new WireWatchSource(connection, collection, counter, observer);
}

/** A watch renewed by the server within 5 to 10 minutes, as ClientNodeWatchSource asks. */
const watchTimeoutSeconds = (): number => 300 + Math.floor(Math.random() * 300);

class WireWatchSource implements WatchSource {
  constructor(
    private readonly connection: WireConnection,
    private readonly collection: CollectionQuery,
    private readonly counter: RequestCounter,
    private readonly observer: ApiRequestObserver | undefined,
  ) {}

  async list(signal: AbortSignal, page?: ListPage): Promise<ListResult> {
    const query = this.query({
      ...optional("limit", page === undefined ? undefined : String(page.limit)),
      ...optional("continue", page?.continue),
    });
    const options = { ...this.connection.options("GET", `${this.collection.path}${query}`), signal };
    this.counter.requests += 1;
    const sentAt = systemClock.now();
    const response = await getText(urlOf(options), options, (code) => {
      this.observer?.requestEnded({ verb: "list", code, seconds: (systemClock.now() - sentAt) / 1000 });
    });
    if (response.status !== 200) throw httpError("LIST", response.status, response.body);
    return parseList(response.body);
  }

  watch(
    resourceVersion: string,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<WatchHandle> {
    const query = this.query({
      watch: "true",
      resourceVersion,
      allowWatchBookmarks: "true",
      timeoutSeconds: String(watchTimeoutSeconds()),
    });
    let done = false;
    const finish = (error: unknown): void => {
      if (done) return;
      done = true;
      onDone(error);
    };
    return new Promise<WatchHandle>((resolve) => {
      const options = this.connection.options("GET", `${this.collection.path}${query}`);
      const request = send(options, (response) => {
        resolve(handle);
        if (response.statusCode !== 200) {
          response.resume();
          finish(statusError(response.statusCode ?? 0));
          return;
        }
        const lines = createInterface({ input: response, crlfDelay: Infinity });
        lines.on("line", (line) => {
          deliver(line, onEvent);
        });
        lines.on("close", () => {
          finish(null);
        });
        // readline passes an error of its input on (a connection cut, an abort) to its own listeners.
        lines.on("error", finish);
        response.on("error", finish);
      });
      const handle: WatchHandle = {
        abort: () => {
          request.destroy();
        },
      };
      request.on("error", (error) => {
        resolve(handle);
        finish(error);
      });
      request.end();
    });
  }

  private query(extra: Readonly<Record<string, string>>): string {
    const search = new URLSearchParams();
    if (this.collection.labelSelector !== undefined)
      search.set("labelSelector", this.collection.labelSelector);
    if (this.collection.fieldSelector !== undefined)
      search.set("fieldSelector", this.collection.fieldSelector);
    for (const [key, value] of Object.entries(extra)) search.set(key, value);
    const text = search.toString();
    return text === "" ? "" : `?${text}`;
  }
}

/** One line of a watch stream: `{"type": ..., "object": ...}`. A line that is not one is skipped, as client-node does. */
function deliver(line: string, onEvent: (type: string, object: unknown) => void): void {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return;
  }
  if (typeof event !== "object" || event === null) return;
  const { type, object } = event as { type?: unknown; object?: unknown };
  if (typeof type === "string") onEvent(type, object);
}

/** A watch the server refused, as client-node's Watch reports it: an Error with `statusCode`. */
function statusError(statusCode: number): Error & { statusCode: number } {
  return Object.assign(new Error(http.STATUS_CODES[statusCode] ?? `HTTP ${String(statusCode)}`), {
    statusCode,
  });
}

function send(
  options: https.RequestOptions,
  onResponse: (response: http.IncomingMessage) => void,
): http.ClientRequest {
  return options.protocol === "http:"
    ? http.request(options, onResponse)
    : https.request(options, onResponse);
}

/** The URL getText is given (it reads the protocol from it; every other option comes from `options`). */
function urlOf(options: https.RequestOptions): URL {
  return new URL(
    `${options.protocol ?? "https:"}//${options.hostname ?? "localhost"}:${String(options.port ?? 443)}${options.path ?? "/"}`,
  );
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { deferred } from "../../core/deferred.js";
import { statusOf } from "../watch/source.js";
import type { WireConnection } from "./transport.js";
import { wireWatchSources } from "./watch-source.js";

/*
 * The wire client's watch sources against a small HTTP server on 127.0.0.1 playing the API server's part:
 * what they ask for (the query a LIST and a WATCH carry) and how they hand over what comes back (the
 * items of a LIST, each event of a stream, the end of a stream, a refused watch).
 */

let server: Server | undefined;

afterEach(async () => {
  const closing = server;
  server = undefined;
  if (closing === undefined) return;
  closing.closeAllConnections();
  await new Promise<void>((resolve) => {
    closing.close(() => {
      resolve();
    });
  });
});

/** A server answering with `handler`, and a connection to it as the wire client makes one (plain HTTP here). */
async function serve(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<WireConnection> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    options: (method, path, headers = {}) => ({
      protocol: "http:",
      hostname: "127.0.0.1",
      port,
      path,
      method,
      headers: { Accept: "application/json", Authorization: "Bearer t", ...headers },
    }),
  };
}

const collection = { path: "/api/v1/namespaces/shop/pods", labelSelector: "app=web" };

describe("wireWatchSources", () => {
  it("lists with the selectors and a page, and fills in each item's kind as a watch event has it", async () => {
    const asked: string[] = [];
    const connection = await serve((request, response) => {
      asked.push(`${request.url ?? ""} ${request.headers.authorization ?? ""}`);
      response.end(
        JSON.stringify({
          kind: "PodList",
          apiVersion: "v1",
          metadata: { resourceVersion: "42", continue: "next" },
          items: [{ metadata: { name: "web-1" } }],
        }),
      );
    });
    const counter = { requests: 0 };
    const listed = await wireWatchSources(
      connection,
      counter,
    )(collection).list(new AbortController().signal, {
      limit: 500,
    });
    expect(asked).toEqual(["/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb&limit=500 Bearer t"]);
    expect(listed).toEqual({
      items: [{ kind: "Pod", apiVersion: "v1", metadata: { name: "web-1" } }],
      resourceVersion: "42",
      continue: "next",
    });
    expect(counter.requests).toBe(1);
  });

  it("watches from a resourceVersion with bookmarks, hands over each event, and says when the stream ends", async () => {
    let query: URLSearchParams | undefined;
    const connection = await serve((request, response) => {
      query = new URL(request.url ?? "/", "http://x").searchParams;
      response.write(`${JSON.stringify({ type: "ADDED", object: { metadata: { name: "web-2" } } })}\n`);
      response.write("not json\n");
      response.end(
        `${JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "50" } } })}\n`,
      );
    });
    const events: [string, unknown][] = [];
    const ended = deferred<unknown>();
    await wireWatchSources(connection, { requests: 0 })(collection).watch(
      "42",
      (type, object) => events.push([type, object]),
      (error) => {
        ended.resolve(error);
      },
    );
    expect(await ended.promise).toBeNull();
    expect(query?.get("watch")).toBe("true");
    expect(query?.get("resourceVersion")).toBe("42");
    expect(query?.get("allowWatchBookmarks")).toBe("true");
    expect(query?.get("labelSelector")).toBe("app=web");
    expect(Number(query?.get("timeoutSeconds"))).toBeGreaterThanOrEqual(300);
    expect(events).toEqual([
      ["ADDED", { metadata: { name: "web-2" } }],
      ["BOOKMARK", { metadata: { resourceVersion: "50" } }],
    ]);
  });

  it("reports a refused watch with its status, as client-node's Watch does (410: list again)", async () => {
    const connection = await serve((_request, response) => {
      response.statusCode = 410;
      response.end(JSON.stringify({ kind: "Status", code: 410, reason: "Expired" }));
    });
    const ended = deferred<unknown>();
    await wireWatchSources(connection, { requests: 0 })(collection).watch(
      "1",
      () => undefined,
      (error) => {
        ended.resolve(error);
      },
    );
    expect(statusOf(await ended.promise)).toBe(410);
  });

  it("stops a watch when aborted", async () => {
    const closed = deferred<true>();
    const connection = await serve((request, response) => {
      response.write(`${JSON.stringify({ type: "ADDED", object: {} })}\n`);
      // The server's side of a connection the client cut: an "aborted" error, expected here.
      request.on("error", () => undefined);
      request.on("close", () => {
        closed.resolve(true);
      });
    });
    const handle = await wireWatchSources(connection, { requests: 0 })(collection).watch(
      "1",
      () => undefined,
      () => undefined,
    );
    handle.abort();
    expect(await closed.promise).toBe(true);
  });
});

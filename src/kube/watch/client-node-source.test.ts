import { KubeConfig } from "@kubernetes/client-node";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { deferred } from "../../core/deferred.js";
import { FakeClock } from "../../core/fake-clock.js";
import type { ApiRequestObservation } from "../api-request-observer.js";
import { ClientNodeWatchSource } from "./client-node-source.js";
import { parseList } from "./raw-list.js";
import { collectionPath } from "./source.js";
import { KubeStatusError, statusOf } from "./source.js";

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A stand-in API server on 127.0.0.1 over plain HTTP, which client-node allows with skipTLSVerify. */
async function fakeApiServer(handler: Handler): Promise<{ config: KubeConfig; requests: URL[] }> {
  const requests: URL[] = [];
  const server = createServer((request, response) => {
    requests.push(new URL(request.url ?? "/", "http://127.0.0.1"));
    handler(request, response);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "fake", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "nobody" }],
    contexts: [{ name: "fake", cluster: "fake", user: "nobody" }],
    currentContext: "fake",
  });
  return { config, requests };
}

const podList = {
  kind: "PodList",
  apiVersion: "v1",
  metadata: { resourceVersion: "4711" },
  items: [{ metadata: { name: "web-1", namespace: "shop", resourceVersion: "4700" } }],
};

describe("collectionPath", () => {
  it("builds core and group paths, namespaced or not", () => {
    expect(collectionPath("v1", "pods", "shop")).toBe("/api/v1/namespaces/shop/pods");
    expect(collectionPath("apps/v1", "deployments", "shop")).toBe(
      "/apis/apps/v1/namespaces/shop/deployments",
    );
    expect(collectionPath("v1", "nodes")).toBe("/api/v1/nodes");
  });
});

describe("parseList", () => {
  it("takes the items and resourceVersion, filling in the kind and apiVersion that list items lack", () => {
    expect(parseList(JSON.stringify(podList))).toEqual({
      resourceVersion: "4711",
      items: [{ kind: "Pod", apiVersion: "v1", metadata: podList.items[0]?.metadata }],
    });
  });

  it("refuses an answer that is not a list", () => {
    expect(() => parseList('{"kind":"Status"}')).toThrow("no items array");
    expect(() => parseList('{"items":[]}')).toThrow("no resourceVersion");
  });
});

describe("statusOf", () => {
  it("reads the status from our errors and from client-node Watch's plain errors", () => {
    expect(statusOf(new KubeStatusError(403, "forbidden"))).toBe(403);
    expect(statusOf(Object.assign(new Error("Gone"), { statusCode: 410 }))).toBe(410);
    expect(statusOf(new Error("read ECONNRESET"))).toBeUndefined();
  });
});

describe("ClientNodeWatchSource", () => {
  it("lists the collection with its selectors and no resourceVersion, for a consistent read", async () => {
    const { config, requests } = await fakeApiServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(podList));
    });
    const source = new ClientNodeWatchSource({
      config,
      path: collectionPath("v1", "pods", "shop"),
      labelSelector: "app=web",
      fieldSelector: "status.phase=Running",
    });
    const result = await source.list(new AbortController().signal);
    expect(result.resourceVersion).toBe("4711");
    expect(result.items).toHaveLength(1);
    expect(requests[0]?.pathname).toBe("/api/v1/namespaces/shop/pods");
    expect(Object.fromEntries(requests[0]?.searchParams ?? [])).toEqual({
      labelSelector: "app=web",
      fieldSelector: "status.phase=Running",
    });
  });

  it("asks for one page with limit and continue, and hands back the next page's token", async () => {
    const firstPage = { ...podList, metadata: { resourceVersion: "4711", continue: "page-2" } };
    const lastPage = { ...podList, metadata: { resourceVersion: "4711", continue: "" } };
    const { config, requests } = await fakeApiServer((request, response) => {
      const body = request.url?.includes("continue=") === true ? lastPage : firstPage;
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
    const source = new ClientNodeWatchSource({ config, path: collectionPath("v1", "pods", "shop") });

    const first = await source.list(new AbortController().signal, { limit: 500 });
    const last = await source.list(new AbortController().signal, { limit: 500, continue: "page-2" });

    expect(first.continue).toBe("page-2");
    expect(last).not.toHaveProperty("continue");
    expect(requests.map((url) => Object.fromEntries(url.searchParams))).toEqual([
      { limit: "500" },
      { limit: "500", continue: "page-2" },
    ]);
  });

  it("turns an expired continue token's 410 into a KubeStatusError the informer restarts its LIST on", async () => {
    const { config } = await fakeApiServer((_request, response) => {
      const status = {
        kind: "Status",
        code: 410,
        reason: "Expired",
        message: "The provided continue parameter is too old",
      };
      response.writeHead(410, { "content-type": "application/json" }).end(JSON.stringify(status));
    });
    const source = new ClientNodeWatchSource({ config, path: "/api/v1/namespaces/shop/pods" });
    const failure = await source
      .list(new AbortController().signal, { limit: 500, continue: "stale" })
      .catch((error: unknown) => error);
    expect(statusOf(failure)).toBe(410);
  });

  it("turns a refused LIST into a KubeStatusError with the server's message", async () => {
    const { config } = await fakeApiServer((_request, response) => {
      const status = { kind: "Status", code: 403, message: 'pods is forbidden: User "nobody" cannot list' };
      response.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify(status));
    });
    const source = new ClientNodeWatchSource({ config, path: "/api/v1/namespaces/shop/pods" });
    const failure = await source.list(new AbortController().signal).catch((error: unknown) => error);
    expect(statusOf(failure)).toBe(403);
    expect(failure).toMatchObject({
      message: 'LIST answered HTTP 403: pods is forbidden: User "nobody" cannot list',
    });
  });

  it("reports each LIST to its observer: verb, status code, and the time to the answer on its clock", async () => {
    const clock = new FakeClock(5_000);
    let answer = 200;
    const { config } = await fakeApiServer((_request, response) => {
      void clock.advance(120).then(() => {
        response.writeHead(answer, { "content-type": "application/json" }).end(JSON.stringify(podList));
      });
    });
    const seen: ApiRequestObservation[] = [];
    const observer = { requestEnded: (observation: ApiRequestObservation) => seen.push(observation) };
    const source = new ClientNodeWatchSource({
      config,
      path: "/api/v1/namespaces/shop/pods",
      observer,
      clock,
    });

    await source.list(new AbortController().signal);
    answer = 403;
    await source.list(new AbortController().signal).catch(() => undefined);

    expect(seen).toEqual([
      { verb: "list", code: 200, seconds: 0.12 },
      { verb: "list", code: 403, seconds: 0.12 },
    ]);
  });

  it("reports a LIST that got no answer once, without a code", async () => {
    const { config } = await fakeApiServer(() => undefined);
    const seen: ApiRequestObservation[] = [];
    const observer = { requestEnded: (observation: ApiRequestObservation) => seen.push(observation) };
    const source = new ClientNodeWatchSource({ config, path: "/api/v1/namespaces/shop/pods", observer });
    const controller = new AbortController();
    const listing = source.list(controller.signal);
    controller.abort();
    await expect(listing).rejects.toThrow(/abort/i);
    expect(seen.map(({ verb, code }) => ({ verb, code }))).toEqual([{ verb: "list", code: undefined }]);
  });

  it("aborts a LIST when its signal fires", async () => {
    const { config } = await fakeApiServer(() => undefined);
    const source = new ClientNodeWatchSource({ config, path: "/api/v1/namespaces/shop/pods" });
    const controller = new AbortController();
    const listing = source.list(controller.signal);
    controller.abort();
    await expect(listing).rejects.toThrow(/abort/i);
  });

  it("watches from a resourceVersion with bookmarks and a server-side timeout, passing events through", async () => {
    const { config, requests } = await fakeApiServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write(`${JSON.stringify({ type: "ADDED", object: podList.items[0] })}\n`);
      response.end(
        `${JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "4720" } } })}\n`,
      );
    });
    const source = new ClientNodeWatchSource({
      config,
      path: "/api/v1/namespaces/shop/pods",
      labelSelector: "app=web",
      random: () => 0.5,
    });
    const events: [string, unknown][] = [];
    const done = deferred<unknown>();
    await source.watch("4711", (type, object) => events.push([type, object]), done.resolve);
    expect(await done.promise).toBeNull();
    expect(events).toEqual([
      ["ADDED", podList.items[0]],
      ["BOOKMARK", { metadata: { resourceVersion: "4720" } }],
    ]);
    expect(Object.fromEntries(requests[0]?.searchParams ?? [])).toEqual({
      watch: "true",
      labelSelector: "app=web",
      resourceVersion: "4711",
      allowWatchBookmarks: "true",
      timeoutSeconds: "450",
    });
  });

  it("reports an HTTP 410 on opening the watch with its status, which the informer takes for Gone", async () => {
    const { config } = await fakeApiServer((_request, response) => {
      response.writeHead(410).end();
    });
    const source = new ClientNodeWatchSource({ config, path: "/api/v1/namespaces/shop/pods" });
    const done = deferred<unknown>();
    await source.watch("1", () => undefined, done.resolve);
    expect(statusOf(await done.promise)).toBe(410);
  });
});

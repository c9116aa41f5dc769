import { HttpMethod, RequestContext } from "@kubernetes/client-node";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock, type Clock } from "../core/clock.js";
import { FakeClock } from "../core/fake-clock.js";
import type { ApiRequestObservation, ApiRequestObserver } from "./api-request-observer.js";
import { inFlow } from "./request-flow.js";
import { throttledHttpLibrary, type RequestCounter } from "./throttled-http.js";

/** An observer that keeps what it is told: the fake the agent's metrics stand in for. */
class KeptObservations implements ApiRequestObserver {
  readonly seen: ApiRequestObservation[] = [];
  requestEnded(observation: ApiRequestObservation): void {
    this.seen.push(observation);
  }
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

let server: Server | undefined;

async function apiServer(handler: Handler): Promise<string> {
  const started = createServer((request, response) => void handler(request, response));
  server = started;
  await new Promise<void>((resolve) => started.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(started.address() as AddressInfo).port}`;
}

afterEach(async () => {
  const running = server;
  server = undefined;
  if (running !== undefined) await new Promise((resolve) => running.close(resolve));
});

function send(clock: Clock, observer: ApiRequestObserver, url: string, method: HttpMethod) {
  const counter: RequestCounter = { requests: 0 };
  const library = throttledHttpLibrary({ qps: 50, burst: 300, maxRetries: 3 }, clock, counter, observer);
  return library.send(new RequestContext(url, method)).toPromise();
}

describe("throttledHttpLibrary reports every exchange to its observer", () => {
  it("names the verb and the status code, and times the exchange on the injected clock", async () => {
    const clock = new FakeClock(1_000);
    const base = await apiServer(async (_request, response) => {
      await clock.advance(250); // the API server takes a quarter of a second to answer
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    const observer = new KeptObservations();

    const response = await send(clock, observer, `${base}/api/v1/namespaces/shop/pods`, HttpMethod.GET);

    expect(response.httpStatusCode).toBe(200);
    expect(observer.seen).toEqual([{ verb: "list", code: 200, seconds: 0.25 }]);
  });

  it("reports each attempt of a request retried after 429, with its own code", async () => {
    let answered = 0;
    const base = await apiServer((_request, response) => {
      answered += 1;
      if (answered === 1) response.writeHead(429, { "retry-after": "0" }).end();
      else response.writeHead(200).end("{}");
    });
    const observer = new KeptObservations();

    await send(systemClock, observer, `${base}/api/v1/namespaces/shop/pods/web-1`, HttpMethod.DELETE);

    expect(observer.seen.map(({ verb, code }) => ({ verb, code }))).toEqual([
      { verb: "delete", code: 429 },
      { verb: "delete", code: 200 },
    ]);
    expect(observer.seen.every(({ seconds }) => seconds >= 0)).toBe(true);
  });

  it("reports a request that got no answer without a code, and still fails it", async () => {
    // A port that was just free: nothing listens there once the server is closed.
    const base = await apiServer((_request, response) => {
      response.end();
    });
    const closing = server;
    server = undefined;
    await new Promise((resolve) => closing?.close(resolve));
    const observer = new KeptObservations();

    const sent = send(
      systemClock,
      observer,
      `${base}/api/v1/namespaces/shop/configmaps/app`,
      HttpMethod.PATCH,
    );

    await expect(sent).rejects.toThrow();
    expect(observer.seen.map(({ verb, code }) => ({ verb, code }))).toEqual([
      { verb: "patch", code: undefined },
    ]);
  });
});

describe("throttledHttpLibrary takes each request's flow from the reconcile it runs in", () => {
  it("lets a request of another flow through before the rest of a busy flow's queue", async () => {
    const clock = new FakeClock();
    const arrived: string[] = [];
    const base = await apiServer((request, response) => {
      arrived.push(request.url ?? "");
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    const counter: RequestCounter = { requests: 0 };
    const library = throttledHttpLibrary({ qps: 10, burst: 1, maxRetries: 0 }, clock, counter);
    const get = (path: string) =>
      library.send(new RequestContext(`${base}${path}`, HttpMethod.GET)).toPromise();

    // The fan-out asks for four pods at once; then another resource's reconcile asks for one.
    const fanOut = inFlow("PodChaos/shop/all", () =>
      Promise.all([1, 2, 3, 4].map((n) => get(`/api/v1/namespaces/shop/pods/web-${String(n)}`))),
    );
    await clock.advance(0);
    const other = inFlow("PodChaos/other/one", () => get("/api/v1/namespaces/other/pods/db-1"));
    for (let step = 0; step < 10 && counter.requests < 5; step += 1) {
      await clock.advance(100);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all([fanOut, other]);

    expect(arrived).toEqual([
      "/api/v1/namespaces/shop/pods/web-1",
      "/api/v1/namespaces/shop/pods/web-2",
      "/api/v1/namespaces/other/pods/db-1",
      "/api/v1/namespaces/shop/pods/web-3",
      "/api/v1/namespaces/shop/pods/web-4",
    ]);
  });
});

import { HttpMethod, RequestContext } from "@kubernetes/client-node";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { keptAliveHttpLibrary } from "./kept-alive-http.js";

/**
 * A loopback API server that counts the connections it accepted and the requests it read. `answer` says,
 * per request (numbered from 1), whether to answer or to drop the connection without a word, as a
 * kube-apiserver that restarts does to the connections it had.
 */
class LoopbackServer {
  connections = 0;
  requests = 0;
  private server: Server | undefined;

  constructor(private readonly answer: (request: number) => "answer" | "drop") {}

  async start(): Promise<string> {
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      this.requests += 1;
      if (this.answer(this.requests) === "drop") request.socket.destroy();
      else response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    server.on("connection", () => {
      this.connections += 1;
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

let running: LoopbackServer | undefined;

async function serve(answer: (request: number) => "answer" | "drop"): Promise<[LoopbackServer, string]> {
  running = new LoopbackServer(answer);
  return [running, await running.start()];
}

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe("keptAliveHttpLibrary keeps connections to the API server alive", () => {
  it("sends one request after another over one connection", async () => {
    const [server, base] = await serve(() => "answer");
    const library = keptAliveHttpLibrary();

    for (let i = 0; i < 3; i += 1) {
      const response = await library
        .send(new RequestContext(`${base}/api/v1/namespaces/shop/pods`, HttpMethod.GET))
        .toPromise();
      expect(response.httpStatusCode).toBe(200);
    }

    expect(server.requests).toBe(3);
    expect(server.connections).toBe(1);
  });
});

describe("a request whose kept-alive connection the server dropped", () => {
  it("is sent once more on a fresh connection when it is idempotent (a DELETE)", async () => {
    // The second request finds the connection dead, as after an API server restart.
    const [server, base] = await serve((request) => (request === 2 ? "drop" : "answer"));
    const library = keptAliveHttpLibrary();
    const url = `${base}/api/v1/namespaces/shop/pods/web-1`;
    await library.send(new RequestContext(url, HttpMethod.GET)).toPromise();

    const response = await library.send(new RequestContext(url, HttpMethod.DELETE)).toPromise();

    expect(response.httpStatusCode).toBe(200);
    expect(server.requests).toBe(3);
    expect(server.connections).toBe(2);
  });

  it("is not replayed when it is a POST: the server may have acted on it", async () => {
    const [server, base] = await serve((request) => (request === 2 ? "drop" : "answer"));
    const library = keptAliveHttpLibrary();
    const url = `${base}/api/v1/namespaces/shop/configmaps`;
    await library.send(new RequestContext(url, HttpMethod.GET)).toPromise();

    const sent = library.send(new RequestContext(url, HttpMethod.POST)).toPromise();

    await expect(sent).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(server.requests).toBe(2);
  });

  it("fails without a retry when the connection was fresh: nothing suggests a stale one", async () => {
    const [server, base] = await serve((request) => (request === 1 ? "drop" : "answer"));
    const library = keptAliveHttpLibrary();

    const sent = library
      .send(new RequestContext(`${base}/api/v1/namespaces/shop/pods`, HttpMethod.GET))
      .toPromise();

    await expect(sent).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(server.requests).toBe(1);
  });
});

import { request } from "node:http";
import { afterEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../core/clock.js";
import { FakeClock } from "../../core/fake-clock.js";
import { endToEndHeaders, FrontDoor } from "./front-door.js";
import type { Upstream, Upstreams } from "./front-door.js";
import { PodServer } from "./pod-server.js";

/** A pod's loopback listener as a front door's upstream. */
function at(port: number | undefined): Upstream | undefined {
  return port === undefined ? undefined : { host: "127.0.0.1", port };
}

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** One GET to 127.0.0.1 on its own connection; resolves with the answer or rejects with the socket error. */
function get(port: number): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const sent = request({ host: "127.0.0.1", port, path: "/", agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        resolve({ status: response.statusCode ?? 0, body, headers: response.headers });
      });
      response.on("error", reject);
    });
    sent.on("error", reject);
    sent.end();
  });
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function podServer(name: string, latencyMs = 0, errorRate = 0, random = Math.random): PodServer {
  const server = new PodServer(
    { pod: name, namespace: "shop", uid: `uid-${name}` },
    { latencyMs, errorRate },
    random,
  );
  closers.push(() => server.close());
  return server;
}

async function frontDoor(upstreams: Upstreams): Promise<number> {
  const door = new FrontDoor({ namespace: "shop", name: "web" }, upstreams, systemClock);
  closers.push(() => door.close());
  return door.listen(0);
}

describe("PodServer", () => {
  it("answers with the pod's identity on loopback, and refuses connections once closed", async () => {
    const server = podServer("web-1");
    const port = await server.listening;
    expect(server.port).toBe(port);
    const reply = await get(port);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ pod: "web-1", namespace: "shop", uid: "uid-web-1" });
    await server.close();
    expect(server.port).toBeUndefined();
    await expect(get(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("fails the injected share of requests and delays answers", async () => {
    const draws = [0.1, 0.9, 0.2, 0.8];
    const server = podServer("web-2", 0, 0.5, () => draws.shift() ?? 0);
    const port = await server.listening;
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await get(port)).status);
    expect(statuses).toEqual([500, 200, 500, 200]);
    server.behaviour = { latencyMs: 120, errorRate: 0 };
    const started = performance.now();
    expect((await get(port)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
  });

  it("cuts a request still in its latency wait when closed", async () => {
    const server = podServer("web-3", 5_000);
    const port = await server.listening;
    const pending = get(port);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.close();
    await expect(pending).rejects.toMatchObject({ code: "ECONNRESET" });
  });

  it("closes cleanly when closed before it got to listen", async () => {
    const server = podServer("web-4");
    await server.close();
    expect(server.isClosed).toBe(true);
    expect(server.port).toBeUndefined();
  });
});

describe("FrontDoor", () => {
  it("routes each request to the chosen endpoint's loopback listener", async () => {
    const one = podServer("web-1");
    const two = podServer("web-2");
    const ports = new Map([
      ["uid-web-1", await one.listening],
      ["uid-web-2", await two.listening],
    ]);
    const order = ["uid-web-1", "uid-web-2", "uid-web-2"];
    const port = await frontDoor({
      choose: () => order.shift(),
      dial: (uid) => Promise.resolve(at(ports.get(uid))),
    });
    const pods = [];
    for (let i = 0; i < 3; i += 1) {
      const reply = await get(port);
      expect(reply.status).toBe(200);
      pods.push((JSON.parse(reply.body) as { pod: string }).pod);
    }
    expect(pods).toEqual(["web-1", "web-2", "web-2"]);
    // No endpoint left: 503.
    expect((await get(port)).status).toBe(503);
  });

  it("answers 502 without retrying when the endpoint's listener is gone or refuses", async () => {
    const dead = podServer("web-1");
    const deadPort = await dead.listening;
    await dead.close();
    const port = await frontDoor({
      choose: () => "uid-web-1",
      dial: () => Promise.resolve(at(deadPort)),
    });
    const refused = await get(port);
    expect(refused.status).toBe(502);
    expect(refused.body).toContain("ECONNREFUSED");
    expect(refused.headers["x-broadside-endpoint"]).toBe("uid-web-1");

    const gone = await frontDoor({ choose: () => "uid-web-1", dial: () => Promise.resolve(at(undefined)) });
    expect((await get(gone)).status).toBe(502);
  });

  it("passes the app's own errors through unchanged", async () => {
    const failing = podServer("web-1", 0, 1);
    const listening = await failing.listening;
    const port = await frontDoor({ choose: () => "uid-web-1", dial: () => Promise.resolve(at(listening)) });
    const reply = await get(port);
    expect(reply.status).toBe(500);
    expect(reply.headers["x-broadside-pod"]).toBe("web-1");
  });
});

describe("endToEndHeaders", () => {
  it("drops the headers about one connection", () => {
    expect(
      endToEndHeaders({ connection: "keep-alive", "keep-alive": "timeout=5", accept: "*/*", host: "x" }),
    ).toEqual({
      accept: "*/*",
      host: "x",
    });
  });
});

describe("FrontDoor.refuse: an outage of an exact length", () => {
  it("refuses connections for the duration, then answers again on the same port", async () => {
    const server = podServer("web-1");
    const listening = await server.listening;
    const door = new FrontDoor(
      { namespace: "shop", name: "web" },
      { choose: () => "uid-web-1", dial: () => Promise.resolve(at(listening)) },
      systemClock,
    );
    closers.push(() => door.close());
    const port = await door.listen(0);
    expect((await get(port)).status).toBe(200);

    const outage = door.refuse(300);
    expect(door.refusing).toBe(true);
    expect(door.port).toBe(port);
    // A request already on its way is served (accepted before the socket closes), the next are refused.
    expect((await get(port)).status).toBe(200);
    await vi.waitFor(async () => {
      await expect(get(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    });
    await expect(door.refuse(10)).rejects.toThrow(/already refusing/);
    const { closedAt, reopenedAt } = await outage;
    expect(reopenedAt - closedAt).toBeGreaterThanOrEqual(300);
    expect(door.refusing).toBe(false);
    expect((await get(port)).status).toBe(200);
  });

  it("is timed by the door's clock: shut until the clock says the duration has passed", async () => {
    const clock = new FakeClock(1_000);
    const door = new FrontDoor(
      { namespace: "shop", name: "web" },
      { choose: () => undefined, dial: () => Promise.resolve(at(undefined)) },
      clock,
    );
    closers.push(() => door.close());
    const port = await door.listen(0);
    const outage = door.refuse(1_500);
    await vi.waitFor(async () => {
      await expect(get(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    });
    expect(clock.sleeps).toEqual([1_500]);
    // However long it takes for real, the door stays shut until its clock has moved the whole duration.
    await clock.advance(1_499);
    await expect(get(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await clock.advance(1);
    expect(await outage).toEqual({ closedAt: 1_000, reopenedAt: 2_500 });
    expect((await get(port)).status).toBe(503);
  });

  it("gives up the outage, and does not reopen, when the door is closed meanwhile", async () => {
    const door = new FrontDoor(
      { namespace: "shop", name: "web" },
      { choose: () => undefined, dial: () => Promise.resolve(at(undefined)) },
      systemClock,
    );
    const port = await door.listen(0);
    const outage = door.refuse(200);
    await door.close();
    await expect(outage).rejects.toThrow(/closed during its outage/);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await expect(get(port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await expect(door.refuse(10)).rejects.toThrow(/is not listening/);
  });
});

import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../core/clock.js";
import { FakeClock } from "../../core/fake-clock.js";
import { Duration } from "../../core/duration.js";
import type { HttpProbe } from "../files/model.js";
import { longestUnreachable } from "../report/samples.js";
import type { Sample } from "../report/samples.js";
import { guardLoopback, httpSample, startHttpProbe, statusExpected } from "./http-probe.js";

function probe(url: string, fields: Partial<HttpProbe> = {}): HttpProbe {
  return {
    type: "http",
    name: "web",
    tolerances: [],
    url,
    method: "GET",
    headers: {},
    expectStatus: [{ from: 200, to: 299 }],
    frequencyHz: 10,
    timeout: Duration.ofMilliseconds(1000),
    ...fields,
  };
}

const servers: Server[] = [];

/** A server on 127.0.0.1: /slow answers after 300 ms, /hang never, /teapot with 418, the rest with 200. */
function handler(): Parameters<typeof createServer>[1] {
  return (request, response) => {
    if (request.url === "/hang") return;
    const answer = (): void => {
      response.statusCode = request.url === "/teapot" ? 418 : 200;
      response.end("hello");
    };
    if (request.url === "/slow") setTimeout(answer, 300);
    else answer();
  };
}

function listen(port = 0): Promise<Server> {
  const server = createServer(handler());
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(port, "127.0.0.1", () => {
      resolve(server);
    }),
  );
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
    server.closeAllConnections();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

afterEach(async () => {
  await Promise.all(
    servers
      .splice(0)
      .filter((s) => s.listening)
      .map(close),
  );
});

describe("judging one request", () => {
  it("matches statuses against the expected ranges, ends included", () => {
    const expected = [
      { from: 200, to: 299 },
      { from: 404, to: 404 },
    ];
    expect([199, 200, 299, 300, 404, 405].map((s) => statusExpected(s, expected))).toEqual([
      false,
      true,
      true,
      false,
      true,
      false,
    ]);
  });

  it("fails an unexpected status, a slow answer and a socket error; keeps status and latency", () => {
    const slow = probe("http://127.0.0.1/", { latencyThreshold: Duration.ofMilliseconds(100) });
    expect(httpSample(slow, 5, { status: 200, body: "", latencyMs: 99.5 })).toEqual({
      probe: "web",
      sentAt: 5,
      latencyMs: 99.5,
      ok: true,
      status: 200,
    });
    expect(httpSample(slow, 5, { status: 200, body: "", latencyMs: 100.5 })).toMatchObject({
      ok: false,
      status: 200,
      error: "slow",
    });
    expect(httpSample(slow, 5, { status: 503, body: "", latencyMs: 1 })).toEqual({
      probe: "web",
      sentAt: 5,
      latencyMs: 1,
      ok: false,
      status: 503,
    });
    expect(httpSample(slow, 5, { error: "ECONNREFUSED", latencyMs: 0.3 })).toMatchObject({
      ok: false,
      error: "ECONNREFUSED",
    });
  });

  it("refuses a URL off this machine only when loopbackOnly is set", () => {
    expect(() => guardLoopback("web", "http://example.com/", true)).toThrow(/not a loopback address/);
    expect(guardLoopback("web", "http://example.com/", false).hostname).toBe("example.com");
    expect(guardLoopback("web", "http://127.0.0.1:8080/x", true).port).toBe("8080");
    expect(() => startHttpProbe(probe("http://10.0.0.1/"), { loopbackOnly: true })).toThrow(
      expect.objectContaining({ code: "BRD_REFUSED_BY_RAIL" }),
    );
  });
});

describe("the HTTP probe against a server on 127.0.0.1", () => {
  it("sends at 10 Hz on fixed instants, k * 100 ms after the first", async () => {
    const server = await listen();
    // Time is the test's (the instants are the schedule's promise); the requests are real.
    const clock = new FakeClock(1_000_000);
    const running = startHttpProbe(probe(`http://127.0.0.1:${portOf(server)}/`), {
      loopbackOnly: true,
      clock,
    });
    for (let step = 0; step < 20; step += 1) await clock.advance(100);
    const samples = await running.stop();
    expect(samples.every((s) => s.ok && s.status === 200 && s.latencyMs > 0)).toBe(true);
    const sent = samples.map((s) => s.sentAt).sort((a, b) => a - b);
    expect(sent).toEqual(Array.from({ length: sent.length }, (_, k) => 1_000_000 + k * 100));
    expect(sent.length).toBeGreaterThanOrEqual(20);
  });

  it("sees an outage of 1.5 s as one run of failures whose span is the outage to within one sampling gap", async () => {
    const server = await listen();
    const port = portOf(server);
    const samples: Sample[] = [];
    const running = startHttpProbe(probe(`http://127.0.0.1:${port}/`), {
      loopbackOnly: true,
      onSample: (sample) => samples.push(sample),
    });
    await sleep(500);
    // The probe samples on systemClock (its default), so the outage is timed on the same clock.
    const downAt = systemClock.now();
    await close(server);
    await sleep(1500 - (systemClock.now() - downAt));
    await listen(port);
    const upAt = systemClock.now();
    await sleep(500);
    const all = await running.stop();
    expect(all).toHaveLength(samples.length);

    const failed = all.filter((s) => !s.ok);
    expect(failed.length).toBeGreaterThan(10);
    // A request in flight when the server closed meets a reset; every later one is refused.
    expect(failed.filter((s) => s.error !== "ECONNREFUSED").length).toBeLessThanOrEqual(1);
    expect(failed.every((s) => s.error === "ECONNREFUSED" || s.error === "ECONNRESET")).toBe(true);
    // One run: nothing succeeds between the first and the last failure.
    const from = Math.min(...failed.map((s) => s.sentAt));
    const to = Math.max(...failed.map((s) => s.sentAt));
    expect(all.filter((s) => s.ok && s.sentAt > from && s.sentAt < to)).toEqual([]);
    const window = { start: 0, end: Number.MAX_SAFE_INTEGER };
    const stretch = longestUnreachable(all, window);
    expect(stretch?.stillFailing).toBe(false);
    // Each edge of the stretch is a sample's send time, so it is off by at most the gap between two samples
    // (100 ms at 10 Hz; longer on a loaded machine, whose gaps this measures rather than assumes).
    const sentAt = all.map((s) => s.sentAt).sort((a, b) => a - b);
    const widestGap = Math.max(...sentAt.slice(1).map((at, index) => at - (sentAt[index] ?? at)));
    expect(Math.abs((stretch?.ms ?? 0) - (upAt - downAt))).toBeLessThanOrEqual(widestGap + 10);
  });

  it("fails answers slower than the threshold and keeps their status and latency", async () => {
    const server = await listen();
    const base = `http://127.0.0.1:${portOf(server)}`;
    const threshold = { latencyThreshold: Duration.ofMilliseconds(100), frequencyHz: 5 };
    const slow = startHttpProbe(probe(`${base}/slow`, threshold), { loopbackOnly: true });
    const fast = startHttpProbe(probe(`${base}/`, threshold), { loopbackOnly: true });
    await sleep(1000);
    const [slowSamples, fastSamples] = await Promise.all([slow.stop(), fast.stop()]);
    expect(slowSamples.length).toBeGreaterThanOrEqual(4);
    for (const sample of slowSamples) {
      expect(sample).toMatchObject({ ok: false, status: 200, error: "slow" });
      expect(sample.latencyMs).toBeGreaterThanOrEqual(299);
    }
    expect(fastSamples.every((s) => s.ok)).toBe(true);
  });

  it("fails a hung request at its timeout, and an unexpected status", async () => {
    const server = await listen();
    const base = `http://127.0.0.1:${portOf(server)}`;
    const hang = startHttpProbe(probe(`${base}/hang`, { timeout: Duration.ofMilliseconds(200) }), {
      loopbackOnly: true,
    });
    const teapot = startHttpProbe(probe(`${base}/teapot`), { loopbackOnly: true });
    await sleep(500);
    const [hung, teapots] = await Promise.all([hang.stop(), teapot.stop()]);
    expect(hung.length).toBeGreaterThanOrEqual(3);
    for (const sample of hung) {
      expect(sample).toMatchObject({ ok: false, error: "timeout" });
      expect(sample.latencyMs).toBeGreaterThanOrEqual(199);
    }
    expect(teapots.every((s) => !s.ok && s.status === 418 && s.error === undefined)).toBe(true);
  });

  it("sends the method, headers and body, each request on its own connection", async () => {
    const seen: { method: string; header: string; body: string; connection: string }[] = [];
    const sockets = new Set<unknown>();
    const server = createServer((request, response) => {
      sockets.add(request.socket);
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        seen.push({
          method: request.method ?? "",
          header: String(request.headers["x-probe"]),
          body,
          connection: String(request.headers.connection),
        });
        response.end();
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const running = startHttpProbe(
      probe(`http://127.0.0.1:${portOf(server)}/`, {
        method: "POST",
        headers: { "x-probe": "yes" },
        body: "ping",
      }),
      { loopbackOnly: true },
    );
    await sleep(350);
    const samples = await running.stop();
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(seen.every((s) => s.method === "POST" && s.header === "yes" && s.body === "ping")).toBe(true);
    expect(seen.every((s) => s.connection === "close")).toBe(true);
    expect(sockets.size).toBe(seen.length);
  });
});

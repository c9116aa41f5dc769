import { createServer, connect } from "node:net";
import type { AddressInfo, Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../core/clock.js";
import { CorrelatedRandom, delaySampler, lossDecider, proxyConfigSchema, startProxy } from "./proxy.js";

/** A seeded generator (mulberry32), so the statistics below are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function draws<T>(n: number, next: () => T): T[] {
  return Array.from({ length: n }, next);
}

describe("the proxy's draws (ADR 0039)", () => {
  it("delay: latency ± jitter, evenly spread, never outside the range", () => {
    const sample = delaySampler({ latencyMs: 200, jitterMs: 50, correlation: 0 }, seeded(1));
    const values = draws(20_000, sample);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(150);
    expect(Math.max(...values)).toBeLessThanOrEqual(250);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    // Uniform on ±50: the mean's standard error is 28.9 / sqrt(20000) = 0.2 ms.
    expect(Math.abs(mean - 200)).toBeLessThan(1.5);
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(sd).toBeCloseTo(50 / Math.sqrt(3), 0);
  });

  it("delay without jitter is the latency exactly", () => {
    expect(draws(10, delaySampler({ latencyMs: 200, jitterMs: 0, correlation: 90 }, seeded(2)))).toEqual(
      Array.from({ length: 10 }, () => 200),
    );
  });

  it("correlation as netem's: successive draws lean on each other (lag-1 correlation about c, for c = 25%)", () => {
    const correlated = new CorrelatedRandom(25, seeded(3));
    const values = draws(50_000, () => correlated.next());
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    let cov = 0;
    let variance = 0;
    for (let i = 1; i < values.length; i += 1)
      cov += ((values[i] ?? 0) - mean) * ((values[i - 1] ?? 0) - mean);
    for (const value of values) variance += (value - mean) ** 2;
    // An AR(1) with weight c on the last value: lag-1 correlation c. Standard error ~ 1/sqrt(n) = 0.0045.
    expect(cov / variance).toBeGreaterThan(0.23);
    expect(cov / variance).toBeLessThan(0.27);
  });

  it("loss: the share dropped is the percentage, with and without correlation; correlation makes runs", () => {
    const plain = draws(40_000, lossDecider({ percent: 25, correlation: 0 }, seeded(4)));
    const share = plain.filter(Boolean).length / plain.length;
    // sd of the share: sqrt(.25 * .75 / 40000) = 0.0022.
    expect(Math.abs(share - 0.25)).toBeLessThan(0.01);
    const sticky = draws(40_000, lossDecider({ percent: 25, correlation: 75 }, seeded(5)));
    expect(Math.abs(sticky.filter(Boolean).length / sticky.length - 0.25)).toBeLessThan(0.03);
    const repeats = (xs: boolean[]) => xs.slice(1).filter((x, i) => x === xs[i]).length / (xs.length - 1);
    // Independent: P(same as before) = .25² + .75² = 0.625; with c = 0.75: .75 + .25 * .625 = 0.906.
    expect(repeats(plain)).toBeCloseTo(0.625, 1);
    expect(repeats(sticky)).toBeCloseTo(0.906, 1);
  });

  it("the config is checked: ports, percentages, an end", () => {
    expect(proxyConfigSchema.safeParse({ ports: [], untilMs: 1 }).success).toBe(false);
    expect(
      proxyConfigSchema.safeParse({ ports: [], upstreams: [{ host: "10.0.0.1", port: 80 }], untilMs: 1 })
        .success,
    ).toBe(true);
    expect(
      proxyConfigSchema.safeParse({ ports: [], upstreams: [{ host: "example.com", port: 80 }], untilMs: 1 })
        .success,
    ).toBe(false);
    expect(
      proxyConfigSchema.safeParse({ ports: [80], loss: { percent: 101, correlation: 0 }, untilMs: 1 })
        .success,
    ).toBe(false);
    expect(proxyConfigSchema.safeParse({ ports: [80], untilMs: 1 }).success).toBe(true);
  });
});

describe("the proxy on the loopback", () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  /** An echo-like upstream on 127.0.0.1: answers "pong" to anything. */
  async function upstream(): Promise<number> {
    const server = createServer((socket) => {
      socket.on("data", () => socket.end("pong"));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }

  function ask(port: number): Promise<{ answer: string; ms: number } | { error: string }> {
    return new Promise((resolve) => {
      const started = performance.now();
      let answer = "";
      const socket = connect({ host: "127.0.0.1", port }, () => socket.write("ping"));
      socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
      socket.on("end", () => {
        resolve({ answer, ms: performance.now() - started });
      });
      socket.on("error", (error: NodeJS.ErrnoException) => {
        resolve({ error: error.code ?? error.message });
      });
    });
  }

  it("relays to the same address and port it stands for, the pod's answer delayed by at least the latency", async () => {
    const port = await upstream();
    const { ready, servers: proxies } = await startProxy({
      ports: [port],
      delay: { latencyMs: 120, jitterMs: 0, correlation: 0 },
      untilMs: systemClock.now() + 60_000,
    });
    servers.push(...proxies);
    expect(ready.listeners.map((each) => each.port)).toEqual([port]);
    const reply = await ask(ready.listeners[0]?.proxyPort ?? 0);
    expect(reply).toMatchObject({ answer: "pong" });
    // A lower bound only: timers fire late, never early.
    expect("ms" in reply ? reply.ms : 0).toBeGreaterThanOrEqual(119);
  });

  it("a peer's listener (ADR 0041) connects on to the peer's address and port and delays what the pod sends it", async () => {
    const arrivals: number[] = [];
    const server = createServer((socket) => {
      const accepted = performance.now();
      socket.on("data", () => {
        arrivals.push(performance.now() - accepted);
        socket.end("pong");
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const { ready, servers: proxies } = await startProxy({
      ports: [],
      upstreams: [{ host: "127.0.0.1", port }],
      delay: { latencyMs: 120, jitterMs: 0, correlation: 0 },
      untilMs: systemClock.now() + 60_000,
    });
    servers.push(...proxies);
    expect(ready.listeners).toEqual([
      { port, proxyPort: expect.any(Number) as number, upstream: "127.0.0.1" },
    ]);
    const reply = await ask(ready.listeners[0]?.proxyPort ?? 0);
    expect(reply).toMatchObject({ answer: "pong" });
    // The pod's bytes reached the peer no sooner than the latency after the peer accepted the connection.
    expect(arrivals[0]).toBeGreaterThanOrEqual(115);
  });

  it("loss 100%: every connection is reset", async () => {
    const port = await upstream();
    const { ready, servers: proxies } = await startProxy({
      ports: [port],
      loss: { percent: 100, correlation: 0 },
      untilMs: systemClock.now() + 60_000,
    });
    servers.push(...proxies);
    const replies = await Promise.all(draws(5, () => ask(ready.listeners[0]?.proxyPort ?? 0)));
    expect(replies).toEqual(draws(5, () => ({ error: "ECONNRESET" })));
  });
});

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { Duration } from "../../core/duration.js";
import type { PrometheusProbe } from "../files/model.js";
import {
  compare,
  judge,
  parsePromNumber,
  parseQueryResponse,
  queryUrl,
  startPrometheusProbe,
} from "./prometheus-probe.js";

const vector = (...values: string[]): string =>
  JSON.stringify({
    status: "success",
    data: {
      resultType: "vector",
      result: values.map((value, i) => ({ metric: { pod: `p${i}` }, value: [1700000000.5, value] })),
    },
  });

describe("Prometheus answers", () => {
  it("compares with each comparator", () => {
    expect([">", ">=", "<", "<=", "==", "!="].map((c) => compare(1, c as never, 1))).toEqual([
      false,
      true,
      false,
      true,
      true,
      false,
    ]);
  });

  it("reads Go's spellings of sample values", () => {
    expect(parsePromNumber("0.99")).toBe(0.99);
    expect(parsePromNumber("+Inf")).toBe(Infinity);
    expect(parsePromNumber("-Inf")).toBe(-Infinity);
    expect(parsePromNumber("NaN")).toBeNaN();
    expect(parsePromNumber("1e3")).toBe(1000);
    expect(parsePromNumber("")).toBeUndefined();
    expect(parsePromNumber("x")).toBeUndefined();
    expect(parsePromNumber(3)).toBeUndefined();
  });

  it("parses vectors, scalars and error documents", () => {
    expect(parseQueryResponse(vector("1", "0.5"))).toEqual({ values: [1, 0.5] });
    expect(parseQueryResponse(vector())).toEqual({ values: [] });
    const scalar = { status: "success", data: { resultType: "scalar", result: [1.5, "42"] } };
    expect(parseQueryResponse(JSON.stringify(scalar))).toEqual({ values: [42] });
    const error = { status: "error", errorType: "bad_data", error: "parse error at char 3" };
    expect(parseQueryResponse(JSON.stringify(error))).toEqual({ error: "bad_data: parse error at char 3" });
    const matrix = { status: "success", data: { resultType: "matrix", result: [] } };
    expect(parseQueryResponse(JSON.stringify(matrix))).toEqual({ error: "unsupported result type matrix" });
    expect(parseQueryResponse("<html>")).toEqual({ error: "not JSON" });
    expect(parseQueryResponse("[]")).toEqual({ error: "not a Prometheus API answer" });
    const broken = { status: "success", data: { resultType: "vector", result: [{ value: [1] }] } };
    expect(parseQueryResponse(JSON.stringify(broken))).toEqual({ error: "malformed vector" });
  });

  it("passes only when every value passes; empty and NaN never do", () => {
    expect(judge({ values: [1, 0.995] }, ">=", 0.99)).toBeUndefined();
    expect(judge({ values: [1, 0.5] }, ">=", 0.99)).toBe("not >= 0.99");
    expect(judge({ values: [] }, ">=", 0.99)).toBe("empty result");
    expect(judge({ values: [Number.NaN] }, "!=", 0)).toBe("NaN value");
    expect(judge({ error: "bad_data: x" }, ">", 0)).toBe("bad_data: x");
  });

  it("builds the query URL under any path prefix", () => {
    const url = queryUrl(new URL("http://127.0.0.1:9090/prom/"), 'up{job="a b"}');
    expect(url.pathname).toBe("/prom/api/v1/query");
    expect(url.searchParams.get("query")).toBe('up{job="a b"}');
  });
});

describe("the Prometheus probe against a fake query API on 127.0.0.1", () => {
  it("queries on schedule and judges each answer, recording errors", async () => {
    const answers = [
      { status: 200, body: vector("1") },
      { status: 200, body: vector("0.2") },
      { status: 200, body: vector() },
      {
        status: 400,
        body: JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error" }),
      },
      { status: 503, body: "unavailable" },
    ];
    const queries: string[] = [];
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      queries.push(`${request.method ?? ""} ${url.pathname} ${url.searchParams.get("query") ?? ""}`);
      const answer = answers[(queries.length - 1) % answers.length] ?? { status: 500, body: "" };
      response.writeHead(answer.status, { "content-type": "application/json" });
      response.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const probe: PrometheusProbe = {
      type: "prometheus",
      name: "success-rate",
      tolerances: [],
      query: "sum(rate(ok[1m]))",
      comparator: ">=",
      threshold: 0.5,
      frequencyHz: 20,
      timeout: Duration.ofMilliseconds(500),
    };
    expect(() => startPrometheusProbe(probe, { loopbackOnly: true })).toThrow(/no Prometheus URL/);
    const running = startPrometheusProbe(probe, {
      loopbackOnly: true,
      defaultUrl: `http://127.0.0.1:${port}`,
    });
    // Until every answer was asked for, not a fixed 230 ms: a loaded machine sends fewer queries in that
    // time. stop() then waits for the answers in flight.
    await vi.waitFor(
      () => {
        expect(queries.length).toBeGreaterThanOrEqual(answers.length);
      },
      { timeout: 10_000 },
    );
    const samples = await running.stop();
    server.close();
    expect(queries[0]).toBe("GET /api/v1/query sum(rate(ok[1m]))");
    expect(samples.slice(0, 5).map(({ ok, status, error }) => ({ ok, status, error }))).toEqual([
      { ok: true, status: 200, error: undefined },
      { ok: false, status: 200, error: "not >= 0.5" },
      { ok: false, status: 200, error: "empty result" },
      { ok: false, status: 400, error: "bad_data: parse error" },
      { ok: false, status: 503, error: undefined },
    ]);
  });

  it("records a refused connection", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const running = startPrometheusProbe(
      {
        type: "prometheus",
        name: "p",
        tolerances: [],
        url: `http://127.0.0.1:${port}`,
        query: "up",
        comparator: "==",
        threshold: 1,
        frequencyHz: 1,
        timeout: Duration.ofMilliseconds(500),
      },
      { loopbackOnly: true },
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const samples = await running.stop();
    expect(samples).toEqual([expect.objectContaining({ ok: false, error: "ECONNREFUSED" })]);
  });
});

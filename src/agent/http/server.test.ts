import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { BroadsideError } from "../../core/errors.js";
import { AgentMetrics } from "../metrics/agent-metrics.js";
import { metricDefinitions } from "../metrics/catalogue.js";
import { parseListenAddress } from "./address.js";
import { startAgentHttp, type AgentHttpConfig, type AgentHttpServer, type ReadinessCheck } from "./server.js";

/** Real HTTP on loopback, on ports the system picks. */
const anyPort = parseListenAddress("127.0.0.1:0", "--test-address");
const oneListener: AgentHttpConfig = { healthAddress: anyPort, metricsAddress: anyPort };

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function call(base: string, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "content-length": Buffer.byteLength(body) };
    const sent = httpRequest(`${base}${path}`, { method, headers, agent: false }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text });
      });
    });
    sent.on("error", reject);
    sent.end(body);
  });
}

/** A readiness condition the test turns on, as an informer's sync would. */
class Switch implements ReadinessCheck {
  ready = false;
  constructor(readonly name: string) {}
  isReady(): boolean {
    return this.ready;
  }
}

const started: AgentHttpServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.close()));
});

async function serve(readiness: readonly ReadinessCheck[] = [], config = oneListener) {
  const metrics = new AgentMetrics({ version: "1.2.3-test", processMetrics: true, maxFieldManagers: 20 });
  const server = await startAgentHttp(config, { metrics, readiness });
  started.push(server);
  return { server, metrics, base: server.health.url };
}

describe("the agent's read-only HTTP server", () => {
  it("answers /healthz while the process runs", async () => {
    const { base } = await serve();
    const answer = await call(base, "GET", "/healthz");
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("ok\n");
  });

  it("reports not ready, naming the pending check, until every check passes", async () => {
    const caches = new Switch("informers-synced");
    const ledger = new Switch("ledger-read");
    ledger.ready = true;
    const { base } = await serve([caches, ledger]);

    const pending = await call(base, "GET", "/readyz");
    expect(pending.status).toBe(503);
    expect(pending.body).toBe("[-]informers-synced not ready\n[+]ledger-read ok\nreadyz check failed\n");

    caches.ready = true;
    const ready = await call(base, "GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toBe("ok\n");
  });

  it("counts a check that throws as not ready", async () => {
    const broken: ReadinessCheck = {
      name: "lease-held",
      isReady: () => {
        throw new Error("no lease yet");
      },
    };
    const { base } = await serve([broken]);
    const answer = await call(base, "GET", "/readyz");
    expect(answer.status).toBe(503);
    expect(answer.body).toContain("[-]lease-held not ready");
  });

  it("serves every catalogue metric with HELP and TYPE lines, build info and process metrics", async () => {
    const { base, metrics } = await serve();
    metrics.shotFired("pod-kill", { accepted: true, at: 0 });

    const answer = await call(base, "GET", "/metrics");

    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const { name, type, help } of metricDefinitions) {
      expect(answer.body).toContain(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
    }
    expect(answer.body).toContain('broadside_build_info{version="1.2.3-test"} 1');
    expect(answer.body).toContain('broadside_shots_total{fault="pod-kill",outcome="accepted"} 1');
    expect(answer.body).toMatch(/^process_cpu_user_seconds_total /m);
    expect(answer.body).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it("answers HEAD like GET, without a body", async () => {
    const { base } = await serve();
    const answer = await call(base, "HEAD", "/metrics");
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("");
  });

  it.each(["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])(
    "refuses %s on its endpoints with 405, before reading a body",
    async (method) => {
      const { base } = await serve([new Switch("informers-synced")]);
      const answer = await call(base, method, "/readyz", "{}");
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe("GET, HEAD");
    },
  );

  it("answers 404 for any other path, whatever the method", async () => {
    const { base } = await serve();
    expect((await call(base, "GET", "/")).status).toBe(404);
    expect((await call(base, "GET", "/metrics/../admin")).status).toBe(404);
    expect((await call(base, "POST", "/halt", "{}")).status).toBe(404);
  });

  it("refuses a large body by its method: 405, the body never read", async () => {
    const { base } = await serve();
    const answer = await call(base, "POST", "/metrics", "x".repeat(64 * 1024));
    expect(answer.status).toBe(405);
  });

  it("puts health and metrics on two listeners when their addresses differ, each serving only its own", async () => {
    const other = parseListenAddress("127.0.0.2:0", "--metrics-bind-address");
    const { server } = await serve([], { healthAddress: anyPort, metricsAddress: other });

    expect(server.metrics.host).toBe("127.0.0.2");
    expect((await call(server.health.url, "GET", "/healthz")).status).toBe(200);
    expect((await call(server.health.url, "GET", "/metrics")).status).toBe(404);
    expect((await call(server.metrics.url, "GET", "/metrics")).status).toBe(200);
    expect((await call(server.metrics.url, "GET", "/readyz")).status).toBe(404);
  });

  it("names the flag when its address cannot be bound, and closes cleanly after use", async () => {
    const { server } = await serve();
    const taken = { host: "127.0.0.1", port: server.health.port, field: "--health-probe-bind-address" };
    const second = startAgentHttp(
      { healthAddress: taken, metricsAddress: taken },
      {
        metrics: new AgentMetrics({ version: "x", processMetrics: false, maxFieldManagers: 1 }),
        readiness: [],
      },
    );
    await expect(second).rejects.toThrow(BroadsideError);
    await expect(second).rejects.toThrow(/^--health-probe-bind-address: cannot listen on 127\.0\.0\.1:\d+: /);

    await server.close();
    await server.close();
    await expect(call(server.health.url, "GET", "/healthz")).rejects.toThrow(/ECONNREFUSED/);
  });

  it("refuses readiness checks whose names it could not print or tell apart", async () => {
    const metrics = new AgentMetrics({ version: "x", processMetrics: false, maxFieldManagers: 1 });
    const twice = [new Switch("synced"), new Switch("synced")];
    await expect(startAgentHttp(oneListener, { metrics, readiness: twice })).rejects.toThrow(/"synced"/);
    const spaced = [new Switch("caches synced")];
    await expect(startAgentHttp(oneListener, { metrics, readiness: spaced })).rejects.toThrow(
      /"caches synced"/,
    );
  });
});

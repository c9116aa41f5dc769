import { afterEach, describe, expect, it } from "vitest";
import { observability, observabilityConfig } from "./observability.js";
import type { AgentHttpServer } from "./server.js";

const servers: AgentHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe("observability from one configuration", () => {
  it("refuses a bad address flag before anything listens", () => {
    expect(() => observabilityConfig({ version: "1", metricsAddress: "0.0.0.0:http" })).toThrow(
      /^--metrics-bind-address: /,
    );
  });

  it("makes the metrics first and serves them once the readiness checks exist", async () => {
    const config = observabilityConfig({
      version: "9.9.9",
      healthAddress: "127.0.0.1:0",
      metricsAddress: "127.0.0.1:0",
    });
    const { metrics, serve } = observability(config);
    metrics.requestEnded({ verb: "get", code: 200, seconds: 0.01 });

    const server = await serve([{ name: "ledger-read", isReady: () => true }]);
    servers.push(server);

    const scrape = await (await fetch(`${server.metrics.url}/metrics`)).text();
    expect(scrape).toContain('broadside_build_info{version="9.9.9"} 1');
    expect(scrape).toContain('broadside_api_request_duration_seconds_count{verb="get",code="200"} 1');
    expect((await fetch(`${server.health.url}/readyz`)).status).toBe(200);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Duration } from "../../src/core/duration.js";
import { systemClock } from "../../src/core/clock.js";
import type { BroadsideError } from "../../src/core/errors.js";
import { startHttpProbe } from "../../src/experiments/probes/http-probe.js";
import { buildRunReport } from "../../src/experiments/report/build.js";
import { startTraffic } from "../../src/sandbox/traffic/traffic.js";
import type { Traffic } from "../../src/sandbox/traffic/traffic.js";
import { adminClients, deployAndWait, eventually, testDeployment, useTestNamespace } from "./harness.js";

/**
 * The measuring instrument, checked against a known truth: the front door of a healthy 2-replica
 * Service refuses connections for exactly 1500 ms (its listening socket closed, then reopened on the
 * same port), while the http probe sends at 20 Hz. The report built from the probe's samples must find
 * that outage to within one probe interval plus 50 ms (see longestUnreachable in
 * src/experiments/report/samples.ts for why that is the bound), name its failures for what they were,
 * and count availability exactly.
 */

const app = "web";
const outageMs = 1500;
const frequencyHz = 20;
const intervalMs = 1000 / frequencyHz;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("probe fidelity: a known outage is measured to within one probe interval", () => {
  const namespace = useTestNamespace("it-fidelity");
  const errors: BroadsideError[] = [];
  let traffic: Traffic | undefined;

  beforeAll(async () => {
    const served = testDeployment(app, 2);
    const labels = served.spec?.template.metadata?.labels;
    if (labels !== undefined) labels["broadside.dev/serve"] = "http";
    await deployAndWait(namespace(), served);
    await adminClients().core.createNamespacedService({
      namespace: namespace(),
      body: {
        metadata: { name: app, labels: { "broadside.dev/serve": "http" } },
        spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    // In this process, on an ephemeral port: the outage is the library's, never the sandbox daemon's.
    traffic = await startTraffic(adminClients(), {
      clock: systemClock,
      namespaces: [namespace()],
      onError: (error) => errors.push(error),
    });
  });

  afterAll(async () => {
    await traffic?.stop();
  });

  function started(): Traffic {
    if (traffic === undefined) throw new Error("traffic did not start");
    return traffic;
  }

  /** The front door's port, once both pods are routed to and listening. */
  async function steadyFrontDoor(running: Traffic): Promise<number> {
    const port = await eventually("the front door", () => running.frontDoorPort(namespace(), app));
    await eventually("two ready endpoints with listeners", () => {
      const endpoints = running.readyEndpoints(namespace(), app);
      const listening = endpoints.every((uid) => running.podListener(uid)?.port !== undefined);
      return endpoints.length === 2 && listening ? true : undefined;
    });
    return port;
  }

  /** A steady second, the outage, a steady second after it, probed at 20 Hz throughout. */
  async function probeAcrossOutage(running: Traffic, port: number) {
    const startedAt = Date.now();
    const probe = startHttpProbe(
      {
        type: "http",
        name: "front-door",
        tolerances: [],
        url: `http://127.0.0.1:${port}/`,
        method: "GET",
        headers: {},
        expectStatus: [{ from: 200, to: 299 }],
        frequencyHz,
        timeout: Duration.ofMilliseconds(1000),
      },
      { loopbackOnly: true },
    );
    await sleep(1000);
    const outage = await running.refuse(namespace(), app, outageMs);
    await sleep(1000);
    const samples = await probe.stop();
    // The run window is [startedAt, endedAt): a sample sent in this very millisecond still belongs to it.
    return { startedAt, endedAt: Date.now() + 1, outage, samples };
  }

  it("finds a 1500 ms refusal of the front door as a 1500 ms unreachable stretch of ECONNREFUSED samples", async () => {
    const running = started();
    const { startedAt, endedAt, outage, samples } = await probeAcrossOutage(
      running,
      await steadyFrontDoor(running),
    );
    const report = buildRunReport({
      title: "front door refused for 1500 ms",
      startedAt,
      endedAt,
      probes: [{ name: "front-door", intervalMs, target: `GET / on the front door of ${app}` }],
      chaosWindows: [{ start: outage.closedAt, end: outage.reopenedAt, label: "front door refuses" }],
      samples,
      faults: [],
      checks: [],
    });
    const figures = report.overall.probes[0];
    if (figures === undefined) throw new Error("the report has no figures for the probe");
    const stretch = figures.longestUnreachable;
    const failed = samples.filter((sample) => !sample.ok);
    const successes = samples.length - failed.length;
    process.stderr.write(
      `[fidelity] outage ${outage.reopenedAt - outage.closedAt} ms (asked ${outageMs}); longest unreachable ${stretch?.ms ?? "none"} ms; ${failed.length} of ${samples.length} samples failed; availability ${figures.availability ?? "none"}\n`,
    );

    // The stretch: within one probe interval plus 50 ms of the outage, and over (not cut by the run's end).
    expect(stretch?.stillFailing).toBe(false);
    expect(stretch?.ms).toBeGreaterThanOrEqual(outageMs - intervalMs);
    expect(stretch?.ms).toBeLessThanOrEqual(outageMs + intervalMs + 50);

    // What failed was the connection being refused, nothing else.
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.map((sample) => sample.error)).toEqual(failed.map(() => "ECONNREFUSED"));
    expect(figures.errors).toEqual([{ kind: "ECONNREFUSED", count: failed.length }]);

    // Availability is successes / sent over every sample, to 4 decimals, counted here by hand.
    expect(figures.sent).toBe(samples.length);
    expect(figures.successes).toBe(successes);
    const availability = figures.availability ?? Number.NaN;
    expect(Math.abs(availability - successes / samples.length)).toBeLessThanOrEqual(0.00005);
    expect(availability).toBe(Math.round((successes / samples.length) * 10_000) / 10_000);

    expect(errors.map((error) => error.message)).toEqual([]);
  });
});

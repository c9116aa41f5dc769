import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../core/clock.js";
import { Duration } from "../../core/duration.js";
import type { EngineContext } from "../../engine/context.js";
import type { Hypothesis, HttpProbe } from "../files/model.js";
import { parseTolerance } from "../files/tolerance.js";
import type { RunPlan } from "./plan.js";
import { runExperiment } from "./runner.js";

/**
 * The runner's phases with wait steps only, against a real HTTP server on loopback whose health the
 * test switches: what a breach before, during, or a Ctrl-C does to the method and the verdict. Faults
 * against a real cluster are covered by the integration tier (test/integration/run.test.ts).
 */

let server: Server;
let healthy = true;
let port = 0;

beforeEach(async () => {
  healthy = true;
  server = createServer((_request, response) => {
    response.writeHead(healthy ? 200 : 503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function probe(): HttpProbe {
  const tolerance = parseTolerance("availability >= 100%");
  if (!tolerance.ok) throw new Error(tolerance.problem);
  return {
    type: "http",
    name: "web",
    tolerances: [tolerance.tolerance],
    url: `http://127.0.0.1:${String(port)}/`,
    method: "GET",
    headers: {},
    expectStatus: [{ from: 200, to: 299 }],
    frequencyHz: 40,
    timeout: Duration.ofMilliseconds(500),
  };
}

function plan(waitMs: number, hypothesis: Partial<Hypothesis> = {}): RunPlan {
  return {
    name: "waits",
    title: "a method of waits",
    hypothesis: {
      probes: [probe()],
      checks: ["before", "during", "after"],
      abortOnBreach: true,
      window: Duration.ofMilliseconds(300),
      ...hypothesis,
    },
    method: [{ type: "wait", name: "hold", duration: Duration.ofMilliseconds(waitMs) }],
    rollbacks: [{ type: "wait", name: "settle", duration: Duration.ofMilliseconds(100) }],
    warnings: [],
  };
}

function engine(progress: string[]): EngineContext {
  // Wait steps and http probes touch no cluster; a call into these would throw and fail the test.
  return { clock: systemClock, progress: (line: string) => progress.push(line) } as unknown as EngineContext;
}

describe("the runner's phases", () => {
  it("injects nothing when the steady state does not hold before the method", async () => {
    healthy = false;
    const progress: string[] = [];
    const report = await runExperiment({
      ctx: engine(progress),
      plan: plan(60_000),
      loopbackOnly: true,
      interrupt: new AbortController().signal,
    });
    expect(report.verdict).toMatchObject({ result: "aborted" });
    expect(report.verdict.result === "aborted" && report.verdict.reason).toMatch(
      /^the steady state did not hold before the method \(web: availability >= 100% \(before\): 0\.0000.*nothing was injected$/,
    );
    expect(progress.some((line) => line.startsWith("step 1"))).toBe(false);
    expect(report.samples.length).toBeGreaterThan(0);
  });

  it("stops the method at a breach during it, then still runs the rollbacks and the after check", async () => {
    const progress: string[] = [];
    const run = runExperiment({
      ctx: engine(progress),
      plan: plan(60_000),
      loopbackOnly: true,
      interrupt: new AbortController().signal,
    });
    // Break the server once the method has started; the 60 s wait must end at the breach.
    while (!progress.some((line) => line.startsWith("step 1"))) await systemClock.sleep(20);
    healthy = false;
    const report = await run;
    expect(report.verdict.result === "aborted" && report.verdict.reason).toMatch(
      /^a tolerance was breached during the method: web: availability >= 100% \(during\)/,
    );
    expect(progress).toContain("rollback: settle: wait 100ms");
    expect(progress.some((line) => line.startsWith("after check"))).toBe(true);
  });

  it("on Ctrl-C stops the method and skips the rollbacks and the after check", async () => {
    const progress: string[] = [];
    const interrupt = new AbortController();
    const run = runExperiment({
      ctx: engine(progress),
      plan: plan(60_000),
      loopbackOnly: true,
      interrupt: interrupt.signal,
    });
    while (!progress.some((line) => line.startsWith("step 1"))) await systemClock.sleep(20);
    interrupt.abort();
    const report = await run;
    expect(report.verdict).toEqual({
      result: "aborted",
      reason: "interrupted (Ctrl-C): the method was stopped and its faults reverted",
    });
    expect(progress.some((line) => line.startsWith("rollback"))).toBe(false);
    expect(progress.some((line) => line.startsWith("after check"))).toBe(false);
  });

  it("records a breach without stopping when abortOnBreach is off", async () => {
    const progress: string[] = [];
    const run = runExperiment({
      ctx: engine(progress),
      plan: plan(1500, { abortOnBreach: false }),
      loopbackOnly: true,
      interrupt: new AbortController().signal,
    });
    while (!progress.some((line) => line.startsWith("step 1"))) await systemClock.sleep(20);
    healthy = false;
    await systemClock.sleep(500);
    healthy = true;
    const report = await run;
    expect(progress.some((line) => line.includes("breach: web: availability >= 100% (during)"))).toBe(true);
    expect(report.verdict.result).not.toBe("aborted");
    expect(progress).toContain("rollback: settle: wait 100ms");
  });

  it("stops at a step that fails, and still reports why, after the rollbacks and the after check", async () => {
    const progress: string[] = [];
    const failing: RunPlan = {
      ...plan(0),
      method: [
        {
          type: "object-fault",
          fault: "scale",
          params: { namespace: "shop", kind: "deployment", name: "web", replicas: 1 },
          paramsPath: "spec.method[0].params",
          duration: Duration.ofMilliseconds(1000),
        },
        { type: "wait", name: "never reached", duration: Duration.ofMilliseconds(60_000) },
      ],
    };
    // The engine has no cluster here: planning the fault fails, as an unreachable API would.
    const report = await runExperiment({
      ctx: engine(progress),
      plan: failing,
      loopbackOnly: true,
      interrupt: new AbortController().signal,
    });
    expect(report.verdict.result === "aborted" && report.verdict.reason).toMatch(/^step 1 failed: /);
    expect(progress.some((line) => line.startsWith("step 2"))).toBe(false);
    expect(progress.some((line) => line.startsWith("after check"))).toBe(true);
  });
});

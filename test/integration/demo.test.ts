import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRunReport } from "../../src/experiments/report/json.js";
import { freePorts } from "../../src/sandbox/ports.js";
import { inspectReport } from "../browser/report-page.js";
import { broadside, holdPort } from "./harness.js";
import { integrationSandboxName } from "./names.js";

/*
 * The demo starts sandboxes of its own, named after the integration sandbox so that two checkouts
 * running their tiers side by side (BROADSIDE_IT_SANDBOX) never share one. Its front doors get ports
 * the test picks free, never the default 18080-18082, which anything on this machine may hold.
 */
const demoSandbox = `${integrationSandboxName}-demo`;

describe("broadside demo", () => {
  it("runs the first example on its own sandbox for about a minute, on the ports it is given, and writes a report a browser can read", async () => {
    const reportDir = await mkdtemp(join(tmpdir(), "broadside-demo-"));
    const [checkoutPort = 0, storefrontPort = 0, ledgerWriterPort = 0] = await freePorts(3);
    const ports = `${checkoutPort},${storefrontPort},${ledgerWriterPort}`;
    const demo = await broadside(
      "demo",
      "--name",
      demoSandbox,
      "--report-dir",
      reportDir,
      "--front-door-ports",
      ports,
    );
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toContain("Fleet deployed, Available and serving");
    // The doors are where they were asked to be, and the example's probe follows them.
    expect(demo.stdout).toContain(`demo-shop/storefront: 3/3 ready, http://127.0.0.1:${storefrontPort}/`);
    expect(demo.stdout).toContain(`demo-payments/checkout: 2/2 ready, http://127.0.0.1:${checkoutPort}/`);
    expect(demo.stdout).toContain(
      `demo-batch/ledger-writer: 1/1 ready, http://127.0.0.1:${ledgerWriterPort}/`,
    );
    expect(demo.stdout).toContain(
      `Running: broadside run examples/schedule-pod-kill-2-replicas.yaml --sandbox ${demoSandbox} --probe name=checkout,url=front-door://checkout.demo-payments/,frequency=5`,
    );
    expect(demo.stderr).toContain(
      `probe checkout: front-door://checkout.demo-payments/ is http://127.0.0.1:${checkoutPort}/`,
    );
    expect(demo.stdout).toContain("Verdict: PASSED");

    const html = /The HTML report, with its latency timeline: (\S+\.html)/.exec(demo.stdout)?.[1];
    expect(html).toBeDefined();
    const jsonPath = (html ?? "").replace(/\.html$/, ".json");
    const report = parseRunReport(await readFile(jsonPath, "utf8"), jsonPath);
    expect(report.probes.map((probe) => probe.target)).toEqual([`GET http://127.0.0.1:${checkoutPort}/`]);
    // About a minute: the windows before and after, and 50 s of schedule.
    expect(report.endedAt - report.startedAt).toBeGreaterThan(55_000);
    expect(report.endedAt - report.startedAt).toBeLessThan(120_000);

    // The page shows what the report holds: each chaos window shaded, each failed sample marked.
    const page = await inspectReport(html ?? "");
    expect(page.pageErrors).toEqual([]);
    expect(page.consoleErrors).toEqual([]);
    expect(page.chaosWindows.map((w) => [w.declared?.start, w.declared?.end])).toEqual(
      report.chaosWindows.map((w) => [w.start, w.end]),
    );
    expect(page.chaosWindows.length).toBeGreaterThanOrEqual(1);
    expect(page.chaosWindows.every((w) => w.shaded)).toBe(true);
    expect(page.failureMarkers).toHaveLength(report.samples.filter((s) => !s.ok).length);

    // The demo stops the sandbox it started.
    expect((await broadside("sandbox", "status", "--name", demoSandbox)).code).toBe(1);
  });

  it("fails at once when another process holds one of its ports, naming both, and starts nothing", async () => {
    const [checkoutPort = 0, held = 0, ledgerWriterPort = 0] = await freePorts(3);
    const holder = await holdPort(held);
    const busySandbox = `${integrationSandboxName}-busy`;
    try {
      const demo = await broadside(
        "demo",
        "--name",
        busySandbox,
        "--front-door-ports",
        `${checkoutPort},${held},${ledgerWriterPort}`,
      );
      expect(demo.code, demo.stderr).toBe(3);
      expect(demo.stderr).toContain(
        `error [BRD_PORT_IN_USE]: 127.0.0.1:${held} (the front door of demo-shop/storefront) is in use by pid ${holder.pid} (${holder.command}); ` +
          "stop it, or choose other ports: --front-door-ports BASE, P1,P2,P3 or auto (or BROADSIDE_FRONT_DOOR_PORTS)",
      );
      // Before anything: no sandbox was started, nothing was printed.
      expect(demo.stdout).toBe("");
      expect((await broadside("sandbox", "list")).stdout.split("\n")).not.toContain(busySandbox);
    } finally {
      await holder.release();
    }
  });

  it("refuses ports that are not ports, naming the flag", async () => {
    const demo = await broadside(
      "demo",
      "--name",
      `${integrationSandboxName}-bad`,
      "--front-door-ports",
      "80",
    );
    expect(demo.code).toBe(2);
    expect(demo.stderr).toContain(
      'error [BRD_USAGE]: --front-door-ports: "80" is not a port from 1024 to 65535',
    );
  });
});

import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRunReport } from "../../src/experiments/report/json.js";
import { inspectReport } from "../browser/report-page.js";
import { broadside } from "./harness.js";

describe("broadside demo", () => {
  it("runs the first example on its own sandbox for about a minute and writes a report a browser can read", async () => {
    const reportDir = await mkdtemp(join(tmpdir(), "broadside-demo-"));
    const demo = await broadside("demo", "--name", "it-demo", "--report-dir", reportDir);
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toContain("Fleet deployed, Available and serving");
    expect(demo.stdout).toMatch(
      /Running: broadside run examples\/schedule-pod-kill-2-replicas\.yaml --sandbox it-demo --probe name=checkout,url=http:\/\/127\.0\.0\.1:18080\/,frequency=5/,
    );
    expect(demo.stdout).toContain("Verdict: PASSED");

    const html = /The HTML report, with its latency timeline: (\S+\.html)/.exec(demo.stdout)?.[1];
    expect(html).toBeDefined();
    const jsonPath = (html ?? "").replace(/\.html$/, ".json");
    const report = parseRunReport(await readFile(jsonPath, "utf8"), jsonPath);
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
    expect((await broadside("sandbox", "status", "--name", "it-demo")).code).toBe(1);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHtml } from "../../src/experiments/report/html.js";
import { buildRunReport } from "../../src/experiments/report/build.js";
import type { RunInput, RunReport } from "../../src/experiments/report/run-report.js";
import { exampleRunInput } from "../../src/experiments/report/synthetic.js";
import { fitAxis, inspectReport, tickOffsetMs, type ReportInspection } from "./report-page.js";

/** "Within a pixel or two": screen positions must agree to this many CSS pixels (samples are ~6 px apart). */
const tolerancePx = 1.5;

const directory = mkdtempSync(join(tmpdir(), "broadside-browser-"));
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

function writeReport(name: string, html: string): string {
  const path = join(directory, `${name}.html`);
  writeFileSync(path, html);
  return path;
}

const pixelsApart = (page: ReportInspection, pixel: number, report: RunReport, at: number): number =>
  Math.abs(pixel - page.pixelOf(at - report.startedAt));

describe("the HTML run report in headless Chromium", () => {
  const report = buildRunReport(exampleRunInput());
  const failed = report.samples.filter((sample) => !sample.ok);
  let page: ReportInspection;

  beforeAll(async () => {
    page = await inspectReport(writeReport("example", renderHtml(report)));
  });

  it("is the run's report, with labelled, evenly spaced axes", () => {
    expect(page.title).toBe(`Broadside run: ${report.title}`);
    expect(page.run).toEqual({ start: report.startedAt, end: report.endedAt });
    expect(page.xAxis.title).toBe("time since start");
    expect(page.xAxis.ticks.map((tick) => tick.label)).toEqual([
      "+0s",
      "+5s",
      "+10s",
      "+15s",
      "+20s",
      "+25s",
      "+30s",
    ]);
    expect(page.xAxis.worstTickErrorPx).toBeLessThan(0.5);
    expect(page.xAxis.pixelsPerMs).toBeGreaterThan(0);
    expect(page.yAxisLabels[0]).toBe("failed");
    expect(page.yAxisLabels.at(-1)).toBe("0 ms");
  });

  it("shades exactly the report's chaos windows, where the x axis puts their start and end", () => {
    expect(report.chaosWindows).toHaveLength(2);
    expect(page.chaosWindows.map((shape) => shape.declared)).toEqual(
      report.chaosWindows.map(({ start, end }) => ({ start, end })),
    );
    report.chaosWindows.forEach((window, index) => {
      const shape = page.chaosWindows[index];
      expect(shape?.shaded).toBe(true);
      expect(shape?.label).toBe(window.label);
      expect(pixelsApart(page, shape?.pixels.left ?? Number.NaN, report, window.start)).toBeLessThan(
        tolerancePx,
      );
      expect(pixelsApart(page, shape?.pixels.right ?? Number.NaN, report, window.end)).toBeLessThan(
        tolerancePx,
      );
    });
  });

  it("marks exactly the failed samples, each above its send time", () => {
    expect(failed.length).toBeGreaterThan(0);
    const marks = [...page.failureMarkers].sort((a, b) => a.pixel.x - b.pixel.x);
    expect(marks).toHaveLength(failed.length);
    failed.forEach((sample, index) => {
      const mark = marks[index];
      expect(mark?.visible).toBe(true);
      expect(mark?.declaredSentAt).toBe(sample.sentAt);
      expect(pixelsApart(page, mark?.pixel.x ?? Number.NaN, report, sample.sentAt)).toBeLessThan(tolerancePx);
    });
    // Every mark sits inside the first chaos window: the outage the run was built with.
    const first = page.chaosWindows[0];
    for (const mark of marks) {
      expect(mark.pixel.x).toBeGreaterThan(first?.pixels.left ?? Number.POSITIVE_INFINITY);
      expect(mark.pixel.x).toBeLessThan(first?.pixels.right ?? Number.NEGATIVE_INFINITY);
    }
  });

  it("reads positions back as the run's times", () => {
    const spanMs = report.endedAt - report.startedAt;
    const msPerPixel = 1 / page.xAxis.pixelsPerMs;
    expect(msPerPixel).toBeCloseTo(spanMs / (page.chart.pixels.right - page.chart.pixels.left), -1);
    page.chaosWindows.forEach((shape, index) => {
      const window = report.chaosWindows[index];
      expect(Math.abs((shape.start.at ?? 0) - (window?.start ?? 0))).toBeLessThan(tolerancePx * msPerPixel);
      expect(Math.abs((shape.end.at ?? 0) - (window?.end ?? 0))).toBeLessThan(tolerancePx * msPerPixel);
    });
  });

  it("loads nothing but its own file and logs no error", () => {
    expect(page.requests).toEqual([]);
    expect(page.consoleErrors).toEqual([]);
    expect(page.pageErrors).toEqual([]);
  });
});

describe("the HTML run report of a run without failures, in headless Chromium", () => {
  it("shows its chaos windows and no failure marker", async () => {
    const input: RunInput = { ...exampleRunInput(), checks: [] };
    const report = buildRunReport({ ...input, samples: input.samples.filter((sample) => sample.ok) });
    const page = await inspectReport(writeReport("no-failures", renderHtml(report)));
    expect(page.failureMarkers).toEqual([]);
    expect(page.chaosWindows.filter((shape) => shape.shaded)).toHaveLength(2);
    expect(page.consoleErrors).toEqual([]);
  });
});

describe("inspectReport sees what is wrong with a page", () => {
  const report = buildRunReport(exampleRunInput());
  const html = renderHtml(report);

  it("reads a chaos window drawn in the wrong place where it is drawn", async () => {
    const moved = html.replace(
      /(<rect class="chaos-window"[^>]* x=")([\d.]+)"/,
      (_all, head: string, x: string) => {
        return `${head}${(Number(x) + 40).toFixed(1)}"`;
      },
    );
    expect(moved).not.toBe(html);
    const page = await inspectReport(writeReport("moved", moved));
    const [window] = report.chaosWindows;
    const shape = page.chaosWindows[0];
    expect(shape?.declared?.start).toBe(window?.start);
    expect(pixelsApart(page, shape?.pixels.left ?? 0, report, window?.start ?? 0)).toBeGreaterThan(30);
  });

  it("fails on a request for anything but the file, and records it when asked to", async () => {
    const withoutCsp = html
      .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, "")
      .replace("</body>", '<img src="http://127.0.0.1:9/pixel.png" alt=""></body>');
    const path = writeReport("requests", withoutCsp);
    await expect(inspectReport(path)).rejects.toThrow(
      /asked for more than its own file: http:\/\/127\.0\.0\.1:9/,
    );
    const page = await inspectReport(path, { allowRequests: true });
    expect(page.requests).toEqual(["http://127.0.0.1:9/pixel.png"]);
  });

  it("sees a load the Content-Security-Policy refused, as a request and a console error", async () => {
    const withImage = html.replace("</body>", '<img src="http://127.0.0.1:9/pixel.png" alt=""></body>');
    const path = writeReport("csp", withImage);
    await expect(inspectReport(path)).rejects.toThrow(/asked for more than its own file/);
    const page = await inspectReport(path, { allowRequests: true });
    expect(page.requests).toEqual(["http://127.0.0.1:9/pixel.png"]);
    expect(page.consoleErrors.join("\n")).toMatch(/violates the following Content Security Policy/);
  });
});

describe("reading the x axis", () => {
  it("understands the report's tick labels", () => {
    expect([tickOffsetMs("+0s"), tickOffsetMs("+1.5s"), tickOffsetMs("+2m"), tickOffsetMs("time")]).toEqual([
      0,
      1500,
      120_000,
      undefined,
    ]);
  });

  it("fits a line through the ticks and refuses an axis it cannot read", () => {
    const fit = fitAxis([
      { pixel: 100, offsetMs: 0 },
      { pixel: 200, offsetMs: 1000 },
      { pixel: 300, offsetMs: undefined },
    ]);
    expect(fit).toEqual({ slope: 0.1, intercept: 100, worstError: 0 });
    expect(() => fitAxis([{ pixel: 100, offsetMs: 0 }])).toThrow(/at least 2/);
  });
});

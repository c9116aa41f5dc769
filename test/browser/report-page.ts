import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

/**
 * Opens a Broadside HTML run report in real headless Chromium (Debian's, at /usr/bin/chromium: `npm test`
 * installs it, see test/browser/setup-chromium.mjs) and reads back what its latency timeline SHOWS: where
 * the chaos windows are shaded and the failures marked, on screen and in the chart's own units, and which
 * times those places stand for when read off the chart's x axis, as a person reading the chart would.
 *
 * It only looks at the page: any report file will do, however it was produced (a unit test's synthetic
 * run, or the HTML a real `broadside run` wrote). The page must load nothing but the file itself: every
 * other request is aborted, recorded, and fails the call unless `allowRequests` is set.
 */

export const defaultChromiumPath = "/usr/bin/chromium";

/** Chromium as this workplace runs it: no sandbox (root), no GPU, and none of its own background traffic. */
export const chromiumArgs: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface InspectOptions {
  /** Default /usr/bin/chromium. */
  readonly executablePath?: string;
  /** Record requests other than the file instead of failing on them. */
  readonly allowRequests?: boolean;
  /** Also save a full-page PNG here, to look at. */
  readonly screenshotPath?: string;
  /** Default 1200 x 900 CSS pixels. */
  readonly viewport?: { readonly width: number; readonly height: number };
}

/** A box on screen, in CSS pixels of the page. */
export interface PixelBox {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** A time as the chart shows it: ms since the run's start, per the x axis, and as epoch ms when known. */
export interface ChartTime {
  readonly offsetMs: number;
  /** Epoch ms: offsetMs plus the run start the chart declares (svg[data-start]); undefined without it. */
  readonly at: number | undefined;
}

export interface ChaosWindowShape {
  /** data-label, as written. */
  readonly label: string | undefined;
  /** The tooltip (the <title> text). */
  readonly title: string;
  /** data-start and data-end, epoch ms, as written; what the shape itself covers is in the fields below. */
  readonly declared: { readonly start: number; readonly end: number } | undefined;
  readonly pixels: PixelBox;
  /** Left and right edges in the SVG's user units (its viewBox). */
  readonly chart: { readonly x0: number; readonly x1: number };
  /** The edges read off the x axis. */
  readonly start: ChartTime;
  readonly end: ChartTime;
  /** Painted: a fill that is not "none", a non-zero opacity, displayed, visible, with a non-empty box. */
  readonly shaded: boolean;
}

export interface FailureMarker {
  readonly probe: string | undefined;
  /** data-sent-at, epoch ms, as written. */
  readonly declaredSentAt: number | undefined;
  readonly kind: string | undefined;
  readonly title: string;
  /** The centre of the mark on screen, in CSS pixels. */
  readonly pixel: { readonly x: number; readonly y: number };
  /** The centre of the mark in the SVG's user units. */
  readonly chart: { readonly x: number; readonly y: number };
  /** The centre read off the x axis. */
  readonly time: ChartTime;
  readonly visible: boolean;
}

export interface AxisTick {
  readonly label: string;
  /** Where the tick stands on screen (x), CSS pixels: its tick mark, or the label's centre without one. */
  readonly pixel: number;
  /** The same place in SVG user units (x). */
  readonly chart: number;
  /** What "+10s" or "+2m" means, in ms; undefined for a label of another form. */
  readonly offsetMs: number | undefined;
}

export interface ReportInspection {
  /** The page's <title>. */
  readonly title: string;
  /** svg[data-start], svg[data-end]: the run the chart declares it draws. */
  readonly run: { readonly start: number; readonly end: number } | undefined;
  readonly chart: { readonly pixels: PixelBox; readonly viewBox: string | undefined };
  readonly xAxis: {
    readonly title: string;
    readonly ticks: readonly AxisTick[];
    /** The ticks' fit: screen pixels per ms, and the largest distance of a tick from the fitted line. */
    readonly pixelsPerMs: number;
    readonly worstTickErrorPx: number;
  };
  /** Y axis texts, top to bottom, as shown ("failed", "120 ms", ..., "0 ms"). */
  readonly yAxisLabels: readonly string[];
  readonly chaosWindows: readonly ChaosWindowShape[];
  readonly failureMarkers: readonly FailureMarker[];
  /** Screen x (CSS pixels) of a time given as ms since the run's start, per the x axis. */
  readonly pixelOf: (offsetMs: number) => number;
  /** Uncaught exceptions in the page. */
  readonly pageErrors: readonly string[];
  /** console.error messages, Chromium's own among them (a Content-Security-Policy refusal, say). */
  readonly consoleErrors: readonly string[];
  /** Every URL the page asked for other than the file itself (all aborted). */
  readonly requests: readonly string[];
}

export class ReportPageError extends Error {
  override readonly name = "ReportPageError";
}

/** What the page hands back: raw measurements, mapped to times on this side. */
interface RawShape {
  readonly attributes: Readonly<Record<string, string>>;
  readonly title: string;
  readonly text: string;
  readonly pixels: PixelBox;
  readonly chart: { readonly x0: number; readonly x1: number; readonly y0: number; readonly y1: number };
  readonly painted: boolean;
}

interface PageRecord {
  readonly pageErrors: string[];
  readonly consoleErrors: string[];
  readonly requests: string[];
}

export async function inspectReport(
  htmlPath: string,
  options: InspectOptions = {},
): Promise<ReportInspection> {
  const executablePath = options.executablePath ?? defaultChromiumPath;
  if (!existsSync(executablePath)) {
    throw new ReportPageError(
      `no Chromium at ${executablePath}: install Debian's package (apt-get install -y --no-install-recommends ` +
        "chromium), or run `npm test`, which installs it when run as root",
    );
  }
  const fileUrl = pathToFileURL(resolve(htmlPath)).href;
  const browser = await chromium.launch({ executablePath, headless: true, args: [...chromiumArgs] });
  try {
    return await inspectIn(browser, fileUrl, options);
  } finally {
    await browser.close();
  }
}

async function inspectIn(
  browser: Browser,
  fileUrl: string,
  options: InspectOptions,
): Promise<ReportInspection> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1200, height: 900 } });
  const page = await context.newPage();
  const record: PageRecord = { pageErrors: [], consoleErrors: [], requests: [] };
  page.on("pageerror", (error) => record.pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") record.consoleErrors.push(message.text());
  });
  // Every request the page makes, whatever its scheme, is seen here; only the file itself may load.
  page.on("request", (request) => {
    if (request.url() !== fileUrl) record.requests.push(request.url());
  });
  await context.route("**/*", (route) =>
    route.request().url() === fileUrl ? route.continue() : route.abort("blockedbyclient"),
  );
  await page.goto(fileUrl, { waitUntil: "load" });
  const inspection = await measure(page, record);
  if (options.screenshotPath !== undefined)
    await page.screenshot({ path: options.screenshotPath, fullPage: true });
  await context.close();
  if (record.requests.length > 0 && options.allowRequests !== true) {
    throw new ReportPageError(`the report asked for more than its own file: ${record.requests.join(", ")}`);
  }
  return inspection;
}

async function measure(page: Page, record: PageRecord): Promise<ReportInspection> {
  const [chart] = await page.evaluate(readShapes, "svg#latency-timeline");
  if (chart === undefined) throw new ReportPageError("the page has no svg#latency-timeline");
  const windows = await page.evaluate(readShapes, "svg#latency-timeline rect.chaos-window");
  const failures = await page.evaluate(readShapes, "svg#latency-timeline g.failure");
  const xTexts = await page.evaluate(readShapes, "svg#latency-timeline g.x-axis text");
  // Tick marks: the x axis's vertical lines (the axis line itself is horizontal).
  const xMarks = (await page.evaluate(readShapes, "svg#latency-timeline g.x-axis line")).filter(
    (shape) => shape.pixels.right - shape.pixels.left < 0.5,
  );
  const yTexts = await page.evaluate(readShapes, "svg#latency-timeline g.y-axis text");
  const run = declaredRun(chart.attributes);
  const ticks = xTexts.filter((text) => text.text.startsWith("+")).map((text) => tickOf(text, xMarks));
  const axis = fitAxis(ticks);
  const timeOf = (pixel: number): ChartTime => {
    const offsetMs = (pixel - axis.intercept) / axis.slope;
    return { offsetMs, at: run === undefined ? undefined : run.start + offsetMs };
  };
  return {
    title: await page.title(),
    run,
    chart: { pixels: chart.pixels, viewBox: chart.attributes["viewBox"] },
    xAxis: {
      title: xTexts.find((text) => !text.text.startsWith("+"))?.text ?? "",
      ticks,
      pixelsPerMs: axis.slope,
      worstTickErrorPx: axis.worstError,
    },
    yAxisLabels: [...yTexts].sort((a, b) => a.pixels.top - b.pixels.top).map((text) => text.text),
    chaosWindows: windows.map((shape) => chaosWindowOf(shape, timeOf)),
    failureMarkers: failures.map((shape) => failureMarkerOf(shape, timeOf)),
    pixelOf: (offsetMs) => axis.intercept + axis.slope * offsetMs,
    ...record,
  };
}

/*
 * The few DOM shapes the page function touches. This repository type-checks for Node (no DOM library),
 * and the page function runs in Chromium, so it names what it uses here instead.
 */
interface PageBox {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
  readonly width: number;
  readonly height: number;
}
interface PageMatrix {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly e: number;
  readonly f: number;
  inverse(): PageMatrix;
}
interface PageElement {
  readonly tagName: string;
  readonly textContent: string | null;
  readonly attributes: ArrayLike<{ readonly name: string; readonly value: string }>;
  readonly ownerSVGElement?: { getScreenCTM(): PageMatrix | null } | null;
  getBoundingClientRect(): PageBox;
  querySelector(selector: string): PageElement | null;
}
interface PageStyle {
  readonly display: string;
  readonly visibility: string;
  readonly opacity: string;
  readonly fill: string;
  readonly fillOpacity: string;
}
interface PageGlobals {
  readonly document: { querySelectorAll(selector: string): ArrayLike<PageElement> };
  getComputedStyle(element: PageElement): PageStyle;
}

/**
 * Runs IN THE PAGE (serialised by Playwright, so it refers to nothing outside itself): each element's
 * attributes, texts, box on screen and in SVG user units, and whether it is painted.
 */
function readShapes(selector: string): RawShape[] {
  const page = globalThis as unknown as PageGlobals;
  const painted = (element: PageElement, box: PageBox): boolean => {
    const style = page.getComputedStyle(element);
    const shown = style.display !== "none" && style.visibility !== "hidden" && Number(style.opacity) > 0;
    const filled =
      element.tagName.toLowerCase() !== "rect" || (style.fill !== "none" && Number(style.fillOpacity) > 0);
    return shown && filled && box.width > 0 && box.height > 0;
  };
  const inChart = (element: PageElement, box: PageBox): RawShape["chart"] => {
    const m = element.ownerSVGElement?.getScreenCTM()?.inverse();
    if (m === undefined) return { x0: Number.NaN, x1: Number.NaN, y0: Number.NaN, y1: Number.NaN };
    const x = (px: number, py: number): number => m.a * px + m.c * py + m.e;
    const y = (px: number, py: number): number => m.b * px + m.d * py + m.f;
    return {
      x0: x(box.left, box.top),
      x1: x(box.right, box.bottom),
      y0: y(box.left, box.top),
      y1: y(box.right, box.bottom),
    };
  };
  return Array.from(page.document.querySelectorAll(selector), (element) => {
    const box = element.getBoundingClientRect();
    return {
      attributes: Object.fromEntries(Array.from(element.attributes, (a) => [a.name, a.value])),
      title: element.querySelector("title")?.textContent ?? "",
      text: element.textContent ?? "",
      pixels: { left: box.left, right: box.right, top: box.top, bottom: box.bottom },
      chart: inChart(element, box),
      painted: painted(element, box),
    };
  });
}

function declaredRun(attributes: Readonly<Record<string, string>>): ReportInspection["run"] {
  const start = numberOrUndefined(attributes["data-start"]);
  const end = numberOrUndefined(attributes["data-end"]);
  return start === undefined || end === undefined ? undefined : { start, end };
}

function numberOrUndefined(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

const middle = (a: number, b: number): number => (a + b) / 2;

/** "+10s" is 10 000 ms, "+2m" 120 000 ms, "+1.5s" 1 500 ms. */
export function tickOffsetMs(label: string): number | undefined {
  const match = /^\+(\d+(?:\.\d+)?)(s|m)$/.exec(label.trim());
  if (match === null) return undefined;
  return Number(match[1]) * (match[2] === "m" ? 60_000 : 1000);
}

/** A label's place: the tick mark under it when there is one (font-independent), else the label's centre. */
function tickOf(text: RawShape, marks: readonly RawShape[]): AxisTick {
  const centre = middle(text.pixels.left, text.pixels.right);
  const mark = marks
    .filter((shape) => Math.abs(shape.pixels.left - centre) < 10)
    .sort((a, b) => Math.abs(a.pixels.left - centre) - Math.abs(b.pixels.left - centre))[0];
  return {
    label: text.text,
    pixel: mark === undefined ? centre : mark.pixels.left,
    chart: mark === undefined ? middle(text.chart.x0, text.chart.x1) : mark.chart.x0,
    offsetMs: tickOffsetMs(text.text),
  };
}

interface AxisFit {
  readonly slope: number;
  readonly intercept: number;
  readonly worstError: number;
}

/** A least-squares line through the labelled ticks: screen x = intercept + slope * offsetMs. */
export function fitAxis(ticks: readonly Pick<AxisTick, "pixel" | "offsetMs">[]): AxisFit {
  const points = ticks.flatMap((tick) =>
    tick.offsetMs === undefined ? [] : [[tick.offsetMs, tick.pixel] as const],
  );
  if (points.length < 2) {
    throw new ReportPageError(
      `the x axis has ${points.length} readable tick label(s); at least 2 are needed`,
    );
  }
  const n = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxy = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const sxx = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  const slope = sxy / sxx;
  const intercept = meanY - slope * meanX;
  const worstError = Math.max(...points.map(([x, y]) => Math.abs(intercept + slope * x - y)));
  return { slope, intercept, worstError };
}

function chaosWindowOf(shape: RawShape, timeOf: (pixel: number) => ChartTime): ChaosWindowShape {
  const start = numberOrUndefined(shape.attributes["data-start"]);
  const end = numberOrUndefined(shape.attributes["data-end"]);
  return {
    label: shape.attributes["data-label"],
    title: shape.title,
    declared: start === undefined || end === undefined ? undefined : { start, end },
    pixels: shape.pixels,
    chart: { x0: shape.chart.x0, x1: shape.chart.x1 },
    start: timeOf(shape.pixels.left),
    end: timeOf(shape.pixels.right),
    shaded: shape.painted,
  };
}

function failureMarkerOf(shape: RawShape, timeOf: (pixel: number) => ChartTime): FailureMarker {
  const x = middle(shape.pixels.left, shape.pixels.right);
  return {
    probe: shape.attributes["data-probe"],
    declaredSentAt: numberOrUndefined(shape.attributes["data-sent-at"]),
    kind: shape.attributes["data-kind"],
    title: shape.title,
    pixel: { x, y: middle(shape.pixels.top, shape.pixels.bottom) },
    chart: { x: middle(shape.chart.x0, shape.chart.x1), y: middle(shape.chart.y0, shape.chart.y1) },
    time: timeOf(x),
    visible: shape.painted,
  };
}

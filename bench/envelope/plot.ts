import { fitLine } from "./fit.js";

/** One measured quantity against pod count: points (pods, value) drawn with their least-squares line. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly series: readonly Series[];
}

const colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
const width = 980;
const panelHeight = 260;
const margin = { left: 70, right: 320, top: 34, bottom: 44 };

/** A hand-written SVG of the panels stacked, each with its axes, its points, and dashed fitted lines. */
export function envelopeSvg(panels: readonly Panel[], caption: string): string {
  const height = panels.length * panelHeight + 30;
  const body = panels.map((panel, index) => drawPanel(panel, index * panelHeight)).join("\n");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    body,
    `<text x="${margin.left}" y="${height - 10}" fill="#555">${escape(caption)}</text>`,
    "</svg>",
    "",
  ].join("\n");
}

function drawPanel(panel: Panel, top: number): string {
  const points = panel.series.flatMap((series) => series.points);
  const xMax = niceCeiling(Math.max(...points.map(([x]) => x)));
  const yMax = niceCeiling(Math.max(...points.map(([, y]) => y)) * 1.05);
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = panelHeight - margin.top - margin.bottom;
  const x = (value: number) => margin.left + (value / xMax) * plotWidth;
  const y = (value: number) => top + margin.top + plotHeight - (Math.max(0, value) / yMax) * plotHeight;
  const parts = [
    `<text x="${margin.left}" y="${top + 20}" font-weight="bold">${escape(panel.title)} (${escape(panel.unit)})</text>`,
    ...axes({ x, y, xMax, yMax }),
    ...panel.series.flatMap((series, index) =>
      drawSeries(series, colors[index % colors.length] ?? "#000", { x, y, xMax }),
    ),
    ...panel.series.map((series, index) => legend(series, index, top)),
  ];
  return `<g>\n${parts.join("\n")}\n</g>`;
}

interface Scale {
  readonly x: (value: number) => number;
  readonly y: (value: number) => number;
  readonly xMax: number;
}

function axes(scale: Scale & { readonly yMax: number }): string[] {
  const lines: string[] = [];
  for (let step = 0; step <= 5; step += 1) {
    const xValue = (scale.xMax * step) / 5;
    const yValue = (scale.yMax * step) / 5;
    lines.push(
      `<line x1="${scale.x(0)}" x2="${scale.x(scale.xMax)}" y1="${scale.y(yValue)}" y2="${scale.y(yValue)}" stroke="#e5e5e5"/>`,
      `<text x="${scale.x(0) - 6}" y="${scale.y(yValue) + 4}" text-anchor="end">${format(yValue)}</text>`,
      `<text x="${scale.x(xValue)}" y="${scale.y(0) + 16}" text-anchor="middle">${format(xValue)}</text>`,
    );
  }
  lines.push(
    `<line x1="${scale.x(0)}" x2="${scale.x(scale.xMax)}" y1="${scale.y(0)}" y2="${scale.y(0)}" stroke="#333"/>`,
    `<line x1="${scale.x(0)}" x2="${scale.x(0)}" y1="${scale.y(0)}" y2="${scale.y(scale.yMax)}" stroke="#333"/>`,
    `<text x="${scale.x(scale.xMax / 2)}" y="${scale.y(0) + 32}" text-anchor="middle">pods in the cluster</text>`,
  );
  return lines;
}

function drawSeries(series: Series, color: string, scale: Scale): string[] {
  const fit = fitLine(series.points);
  const path = series.points
    .map(([px, py]) => `${scale.x(px).toFixed(1)},${scale.y(py).toFixed(1)}`)
    .join(" ");
  const lines = [`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="1.5"/>`];
  if (fit !== undefined) {
    const at = (px: number) => fit.intercept + fit.slope * px;
    lines.push(
      `<line x1="${scale.x(0)}" y1="${scale.y(at(0)).toFixed(1)}" x2="${scale.x(scale.xMax)}" y2="${scale.y(at(scale.xMax)).toFixed(1)}" stroke="${color}" stroke-dasharray="4 4" opacity="0.7"/>`,
    );
  }
  for (const [px, py] of series.points) {
    lines.push(
      `<circle cx="${scale.x(px).toFixed(1)}" cy="${scale.y(py).toFixed(1)}" r="3.5" fill="${color}"/>`,
    );
  }
  return lines;
}

function legend(series: Series, index: number, top: number): string {
  const color = colors[index % colors.length] ?? "#000";
  const fit = fitLine(series.points.map(([px, py]) => [px / 1000, py] as const));
  const slope = fit === undefined ? "" : `fitted: ${format(fit.slope)} per 1,000 pods`;
  const yText = top + margin.top + 10 + index * 34;
  const xText = width - margin.right + 16;
  return [
    `<line x1="${xText}" x2="${xText + 18}" y1="${yText - 4}" y2="${yText - 4}" stroke="${color}" stroke-width="2"/>`,
    `<text x="${xText + 24}" y="${yText}">${escape(series.name)}</text>`,
    `<text x="${xText + 24}" y="${yText + 14}" fill="#555" font-size="11">${escape(slope)}</text>`,
  ].join("\n");
}

/** The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value`. */
function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((factor) => factor * power >= value) ?? 10;
  return step * power;
}

function format(value: number): string {
  if (value >= 1000) return `${Number((value / 1000).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

import { usageError } from "../../core/errors.js";
import { redactUrl } from "../../core/redact.js";
import { renderHtml } from "./html.js";
import { renderJunit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";
import { renderJson } from "./json.js";
import type { RunReport } from "./run-report.js";
import { renderTerminal } from "./terminal.js";

/**
 * The formats a report renders to, in one registry checked complete by the compiler: what
 * `broadside report run.json --format md|junit|html` (and `broadside run --report-format`) dispatch on.
 */

export const reportFormats = ["text", "json", "md", "junit", "html"] as const;
export type ReportFormat = (typeof reportFormats)[number];

const renderers: Record<ReportFormat, (report: RunReport) => string> = {
  text: renderTerminal,
  json: renderJson,
  md: renderMarkdown,
  junit: renderJunit,
  html: renderHtml,
};

/** The usual file extension of each format, for naming output files next to run.json. */
export const reportExtensions: Record<ReportFormat, string> = {
  text: "txt",
  json: "json",
  md: "md",
  junit: "xml",
  html: "html",
};

/**
 * Every report on its way out, to stdout or a file, in any format. A URL's credentials are dropped from
 * all of it, even from a report written by hand or by an older Broadside: a report is shared, a password
 * is not.
 */
export function renderReport(report: RunReport, format: ReportFormat): string {
  return redactUrl(renderers[format](report));
}

/** Checks a --format value; the usage error names the flag and the formats there are. */
export function parseReportFormat(value: string, flag = "--format"): ReportFormat {
  const format = reportFormats.find((candidate) => candidate === value);
  if (format === undefined)
    throw usageError(flag, `"${value}" is not a report format; use ${reportFormats.join(", ")}`);
  return format;
}

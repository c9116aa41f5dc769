import { describe, expect, it } from "vitest";
import { parseReportFormat, renderReport, reportFormats } from "./formats.js";
import { buildRunReport } from "./build.js";
import { parseRunReport } from "./json.js";
import { exampleRunInput } from "./synthetic.js";

describe("report formats", () => {
  const report = buildRunReport(exampleRunInput());

  it("regenerate every format from the JSON alone, identically", () => {
    const back = parseRunReport(renderReport(report, "json"), "run.json");
    for (const format of reportFormats) expect(renderReport(back, format)).toBe(renderReport(report, format));
  });

  it("render the same report to the same bytes every time", () => {
    for (const format of reportFormats)
      expect(renderReport(report, format)).toBe(renderReport(report, format));
  });

  it("refuse an unknown format, naming the flag", () => {
    expect(parseReportFormat("md")).toBe("md");
    expect(() => parseReportFormat("pdf")).toThrow(
      '--format: "pdf" is not a report format; use text, json, md, junit, html',
    );
  });
});

import { describe, expect, it } from "vitest";
import { buildRunReport, recompute } from "./build.js";
import { renderHtml } from "./html.js";
import { parseRunReport, renderJson } from "./json.js";
import { renderJunit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";
import type { RunReport } from "./run-report.js";
import { examplePodFailureInput, withoutRegained } from "./synthetic.js";
import { renderTerminal } from "./terminal.js";

/**
 * What users felt of a pod-failure, in every format: each paused pod's milestones (Ready lost and
 * regained, in ms since its first change) and restarts, the time until traffic returned per probe, and
 * the outage window of the probe's failed samples. The same sentences everywhere (describe.ts).
 */

const podLine =
  "pod shop/web-1 on kwok-node-0: paused +400 ms, Ready lost +400 ms, images back +10.7 s, Ready regained +10.7 s; restarts 0 -> 2";
const trafficLine = "probe front-door: 52 failed samples, traffic back +11.0 s after the fault began";
const outageLine =
  "outage from 2025-06-15T15:06:42.600Z to 2025-06-15T15:06:53.000Z (10.4 s): 52 failed samples, the last at 2025-06-15T15:06:52.800Z";

/** A report whose pod-failure did not come back: its details are then in JUnit's failure too. */
function notBack(): RunReport {
  const report = buildRunReport(examplePodFailureInput());
  const fault = report.faults[0];
  if (fault?.type !== "object" || fault.pods?.[0] === undefined) throw new Error("expected paused pods");
  const pod = withoutRegained(fault.pods[0]);
  return recompute({ ...report, faults: [{ ...fault, pods: [pod] }] });
}

describe("a pod-failure's report, in every format", () => {
  const report = buildRunReport(examplePodFailureInput());
  const flowing = (text: string) => text.replace(/\s+/g, " ");

  it("terminal: the paused pod, the traffic and the outage", () => {
    const text = flowing(renderTerminal(report));
    expect(text).toContain(podLine);
    expect(text).toContain(trafficLine);
    expect(text).toContain(outageLine);
  });

  it("JSON: the same facts, read back as written", () => {
    const back = parseRunReport(renderJson(report), "run.json");
    expect(back.faults[0]).toMatchObject({
      pods: [{ readyLostMs: 400, readyRegainedMs: 10_700, restartsBefore: 0, restartsAfter: 2 }],
      traffic: [{ probe: "front-door", failures: 52, returnedMs: 11_000 }],
    });
    expect(back.overall.probes[0]?.outage?.failures).toBe(52);
  });

  it("Markdown: under the fault, and the outage under the figures", () => {
    const text = renderMarkdown(report);
    expect(text).toContain(`- ${podLine}`);
    expect(text).toContain(`- ${trafficLine}`);
    expect(text).toContain(`- front-door: ${outageLine}`);
  });

  it("HTML: under the fault, and the outage with its bounds as data", () => {
    const html = renderHtml(report);
    expect(html).toContain(podLine.replace(">", "&gt;"));
    expect(html).toContain(trafficLine);
    expect(html).toMatch(/<li class="outage" data-probe="front-door" data-from="\d+" data-to="\d+">/);
  });

  it("JUnit: in the summary for every run, and in the failure of a pod that did not come back", () => {
    expect(flowing(renderJunit(report))).toContain(podLine.replace(">", "&gt;"));
    const xml = renderJunit(notBack());
    expect(xml).toContain('type="NotRecovered"');
    expect(xml).toContain("lost readiness and was not seen regaining it");
  });
});

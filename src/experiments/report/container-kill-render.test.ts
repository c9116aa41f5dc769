import { describe, expect, it } from "vitest";
import { buildRunReport, figureMismatches, recompute } from "./build.js";
import { renderHtml } from "./html.js";
import { parseRunReport, renderJson } from "./json.js";
import { renderJunit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";
import type { RunReport } from "./run-report.js";
import { exampleContainerKillInput } from "./synthetic.js";
import { renderTerminal } from "./terminal.js";

/**
 * What users felt of a container-kill, in every format: each killed container's restart (running again,
 * its pod Ready again, in ms since the kill), its restart count and last state, the time until traffic
 * returned per probe, and the outage window of the probe's failed samples.
 */

const killLine =
  "container web of pod shop/web-1 on kwok-node-0: killed; running again +500 ms, Ready again +2600 ms; Ready lost; restarts 0 -> 1, last Error (exit 137)";
const trafficLine = "probe front-door: 12 failed samples, traffic back +2600 ms after the fault began";

/** The report with its one kill never seen Ready again. */
function notReadyAgain(report: RunReport): RunReport {
  const fault = report.faults[0];
  const killed = fault?.type === "pod" ? fault.containers?.[0] : undefined;
  if (fault?.type !== "pod" || killed === undefined) throw new Error("expected a killed container");
  const rest = Object.fromEntries(
    Object.entries(killed).filter(([key]) => key !== "readyAgainMs"),
  ) as unknown as typeof killed;
  return recompute({ ...report, faults: [{ ...fault, complete: false, containers: [rest] }] });
}

describe("a container-kill's report, in every format", () => {
  const report = buildRunReport(exampleContainerKillInput());
  const flowing = (text: string) => text.replace(/\s+/g, " ");

  it("the fault: its pod, ledger record, recovery from the kill to Ready again, and the traffic", () => {
    const fault = report.faults[0];
    expect(fault).toMatchObject({
      type: "pod",
      kind: "container-kill",
      ledgerIds: ["r1"],
      targets: ["shop/web-1"],
      recovered: true,
      recoveryMs: 2600,
      containers: [
        {
          container: "web",
          restartsBefore: 0,
          restartsAfter: 1,
          lastTerminated: { exitCode: 137, reason: "Error" },
          runningAgainMs: 500,
          readyAgainMs: 2600,
        },
      ],
      traffic: [{ probe: "front-door", failures: 12, returnedMs: 2600 }],
    });
    expect(figureMismatches(report)).toEqual([]);
  });

  it("terminal, Markdown, HTML and JUnit: the same sentences", () => {
    expect(flowing(renderTerminal(report))).toContain(killLine);
    expect(flowing(renderTerminal(report))).toContain(trafficLine);
    expect(renderMarkdown(report)).toContain(`- ${killLine}`);
    expect(renderHtml(report)).toContain(killLine.replace(">", "&gt;"));
    expect(flowing(renderJunit(report))).toContain(killLine.replace(">", "&gt;"));
  });

  it("JSON: read back as written", () => {
    const back = parseRunReport(renderJson(report), "run.json");
    expect(back.faults[0]).toEqual(report.faults[0]);
  });

  it("a pod not seen Ready again is not recovered, and says which container", () => {
    const fault = notReadyAgain(report).faults[0];
    expect(fault?.recovered).toBe(false);
    expect(fault?.recoveryMs).toBeNull();
    expect(fault?.problems).toEqual([
      "container web of pod shop/web-1 ran again, but its pod was not seen Ready again",
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { buildRunReport } from "./build.js";
import { exampleRunInput } from "./synthetic.js";
import { renderTerminal, wrap } from "./terminal.js";

describe("the terminal summary", () => {
  const report = buildRunReport(exampleRunInput());
  const text = renderTerminal(report);

  it("fits in 80 columns", () => {
    for (const line of text.split("\n")) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it("leads with the verdict and shows each phase's figures for the probe", () => {
    const lines = text.split("\n");
    expect(lines[1]).toBe("Verdict: PASSED");
    const chaos = report.phases.chaos.probes[0];
    const row = lines.find((line) => line.trimStart().startsWith("chaos "));
    expect(row).toContain(String(chaos?.sent));
    expect(row).toContain(chaos?.availability?.toFixed(4));
    expect(row).toContain(`${chaos?.longestUnreachable?.ms} ms`);
    expect(text).toContain("failures in chaos: ECONNREFUSED x7");
  });

  it("tells the faults' recovery, the replacements, isolation and the checks", () => {
    const flowing = text.replace(/\s+/g, " ");
    expect(flowing).toContain("1. pod-kill: recovered in 2450 ms");
    expect(flowing).toContain("healed by kustomize-controller after 4100 ms");
    expect(flowing).toContain("Replacements observed: 1");
    expect(flowing).toContain("Isolation held: yes (2 node-mates, none restarted or gone)");
    expect(text).toMatch(/PASS no outage longer than 2 s: longest unreachable/);
  });

  it("lists the reasons of a failed verdict under it", () => {
    const failed = renderTerminal(
      buildRunReport({
        ...exampleRunInput(),
        restarts: [{ namespace: "demo", name: "cache-0", role: "node-mate", before: 0, after: 1 }],
      }),
    );
    expect(failed.split("\n").slice(1, 3)).toEqual([
      "Verdict: FAILED",
      "  - isolation: node-mate demo/cache-0 restarted 1 time",
    ]);
  });

  it("marks a stretch still failing at the end as a lower bound", () => {
    const input = exampleRunInput();
    const end = input.endedAt;
    const samples = input.samples.map((s) =>
      s.sentAt > end - 1000 ? { ...s, ok: false, error: "timeout" } : s,
    );
    const lines = renderTerminal(buildRunReport({ ...input, samples })).split("\n");
    expect(lines.find((line) => line.trimStart().startsWith("recovery"))).toMatch(/ >= \d+ ms /);
  });
});

describe("wrap", () => {
  it("breaks at spaces with a hanging indent", () => {
    const lines = wrap(`${"word ".repeat(30)}end`, "  - ", "    ");
    expect(lines.every((line) => line.length <= 80)).toBe(true);
    expect(lines[0]?.startsWith("  - word")).toBe(true);
    expect(lines[1]?.startsWith("    word")).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { escapeMarkdown, renderMarkdown } from "./markdown.js";
import { buildRunReport } from "./build.js";
import { exampleRunInput } from "./synthetic.js";

/** Cells of a GFM table row: split on pipes that are not backslash-escaped. */
function cells(row: string): string[] {
  return row.split(/(?<!\\)\|/).slice(1, -1);
}

describe("the Markdown report", () => {
  it("has the verdict, a figures table per probe and phase, faults, restarts and checks", () => {
    const text = renderMarkdown(buildRunReport(exampleRunInput()));
    expect(text).toContain("**Verdict: PASSED**");
    expect(text).toContain("| front-door | chaos | 41 | 34 | 0.8293 | 1422 ms |");
    expect(text).toContain("### 1. pod-kill: recovered in 2450 ms");
    expect(text).toContain("Isolation held: **yes (2 node-mates, none restarted or gone)**");
    expect(text).toContain("| ✅ pass | no outage longer than 2 s |");
  });

  it("escapes run text so that names cannot break tables or turn into markup", () => {
    const input = exampleRunInput();
    const probe = "front|door_<b>*";
    const report = buildRunReport({
      ...input,
      title: "A | B <script>",
      probes: input.probes.map((p) => ({ ...p, name: probe })),
      samples: input.samples.map((s) => ({ ...s, probe, ...(s.ok ? {} : { error: "reset|by\npeer" }) })),
      checks: [],
    });
    const text = renderMarkdown(report);
    expect(text).toContain("# Broadside run: A \\| B \\<script>\n");
    const rows = text.split("\n").filter((line) => line.startsWith("| front"));
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(cells(row)).toHaveLength(11);
    expect(rows[1]).toContain("front\\|door\\_\\<b>\\*");
    expect(rows[1]).toContain("reset\\|by peer x7");
  });

  it("escapes the punctuation CommonMark gives meaning", () => {
    expect(escapeMarkdown("a_b*c`d[e]f<g>h|i&j\\k")).toBe("a\\_b\\*c\\`d\\[e\\]f\\<g>h\\|i\\&j\\\\k");
  });
});

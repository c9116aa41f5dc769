import { describe, expect, it } from "vitest";
import { renderHtml } from "./html.js";
import { buildRunReport } from "./build.js";
import type { RunInput } from "./run-report.js";
import { exampleRunInput } from "./synthetic.js";

function all(html: string, pattern: RegExp): RegExpMatchArray[] {
  return [...html.matchAll(new RegExp(pattern.source, "g"))];
}

describe("the HTML report", () => {
  const report = buildRunReport(exampleRunInput());
  const html = renderHtml(report);
  const failed = report.samples.filter((sample) => !sample.ok);

  it("marks exactly one failure per failed sample, at its sentAt", () => {
    const marks = all(html, /<g class="failure" data-probe="front-door" data-sent-at="(\d+)"/);
    expect(marks).toHaveLength(failed.length);
    expect(marks.map((match) => Number(match[1]))).toEqual(failed.map((sample) => sample.sentAt));
  });

  it("shades each chaos window with its bounds as data attributes", () => {
    const rects = all(html, /<rect class="chaos-window" data-start="(\d+)" data-end="(\d+)"/);
    expect(rects.map((match) => [Number(match[1]), Number(match[2])])).toEqual(
      report.chaosWindows.map((window) => [window.start, window.end]),
    );
  });

  it("draws the longest unreachable stretch and the latency series", () => {
    const stretch = report.overall.probes[0]?.longestUnreachable;
    expect(html).toContain(
      `<rect class="unreachable" data-probe="front-door" data-from="${stretch?.from}" data-to="${stretch?.to}"`,
    );
    // Lines break at the outage, so there is one polyline before it and one after.
    expect(all(html, /<polyline /)).toHaveLength(2);
  });

  it("has a summary table with a row per probe and phase, and the verdict", () => {
    expect(
      all(html, /<tr data-probe="front-door" data-phase="(baseline|chaos|recovery|overall)">/),
    ).toHaveLength(4);
    expect(html).toContain('<td class="availability">0.8293</td>');
    expect(html).toContain(
      '<p id="verdict" class="verdict verdict-passed" data-result="passed">Verdict: PASSED</p>',
    );
    expect(all(html, /<tr class="pass" data-passed="true">/)).toHaveLength(4);
  });

  it("is self-contained: no scripts, no URLs, nothing loaded from anywhere", () => {
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(|@import/i);
    expect(html).toContain("default-src 'none'");
  });
});

describe("the HTML report of hostile text", () => {
  const input = exampleRunInput();
  const probe = `door"><script>alert(1)</script>`;
  const hostile: RunInput = {
    ...input,
    title: "<img src=x onerror=alert(1)> & friends",
    probes: input.probes.map((p) => ({ ...p, name: probe, target: "GET https://example.com/" })),
    samples: input.samples.map((s) => ({ ...s, probe, ...(s.ok ? {} : { error: "<b>reset</b>" }) })),
    chaosWindows: input.chaosWindows.map((w) => ({ ...w, label: `'"<x>` })),
    checks: [],
  };
  const html = renderHtml(buildRunReport(hostile));

  it("escapes all of it", () => {
    expect(html).not.toMatch(/<script|<img|<b>|<x>/);
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt; &amp; friends");
    expect(html).toContain('data-probe="door&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(html).toContain('data-label="&#39;&quot;&lt;x&gt;"');
  });

  it("still has one failure mark per failed sample", () => {
    expect(all(html, /<g class="failure" /)).toHaveLength(hostile.samples.filter((s) => !s.ok).length);
  });

  it("shows a URL from the run only as text, never as a link", () => {
    expect(html).toContain("GET https://example.com/");
    // Escaped text may read "src=" (the title above does); no tag may carry such an attribute.
    expect(html).not.toMatch(/<[^>]*\s(?:href|src)=/);
  });
});

describe("the HTML report of an empty run", () => {
  it("still draws axes and a table, without failures or chaos windows", () => {
    const input = exampleRunInput();
    const html = renderHtml(
      buildRunReport({ ...input, samples: [], chaosWindows: [], faults: [], checks: [] }),
    );
    expect(html).toContain('<svg id="latency-timeline"');
    expect(all(html, /<g class="failure" /)).toHaveLength(0);
    expect(all(html, /class="chaos-window"/)).toHaveLength(0);
    expect(html).toContain('<td class="availability">n/a</td>');
  });
});

import { describe, expect, it } from "vitest";
import type { Exclusion, PodFacts } from "../core/targeting/types.js";
import { readyPodFacts } from "../core/targeting/facts-fixture.js";
import type { PodChaosResult } from "../engine/pod-chaos.js";
import { exclusionLines, podResultJson, printPodFailureResult, printPodResult } from "./chaos-output.js";

function pod(name: string): PodFacts {
  return readyPodFacts("shop", name);
}

/** A dry run of mode one over 10,000 pods: one hit, one pod terminating, 9,998 not chosen. */
const result: PodChaosResult = {
  plan: {
    selected: [pod("web-0")],
    excluded: [
      { pod: pod("web-old"), by: "rail", reason: "pod is already being deleted" },
      ...Array.from({ length: 9_998 }, (_, index): Exclusion => ({
        pod: pod(`web-${index + 1}`),
        by: "mode",
        reason: "mode one: not the one chosen",
      })),
    ],
    warnings: [],
  },
  shots: [],
  recovery: undefined,
  apiRequests: 3,
};

function printed(explain: boolean): string[] {
  const lines: string[] = [];
  printPodResult(
    { out: (text) => lines.push(...text.trimEnd().split("\n")), err: () => {} },
    true,
    result,
    explain,
  );
  return lines;
}

describe("the plan of a large fleet stays readable", () => {
  it("counts the pods left out by reason, with examples, and says how to see them all", () => {
    expect(printed(false)).toEqual([
      "Plan (dry run, nothing changed): 1 target(s), 9999 pod(s) left out",
      "  hit   shop/web-0",
      "  skip  9998 pods: mode one: not the one chosen (shop/web-1, shop/web-2, shop/web-3, ...)",
      "  skip  shop/web-old: pod is already being deleted",
      "  (--explain lists every pod left out and why)",
    ]);
  });

  it("lists every pod left out with --explain", () => {
    const lines = printed(true);
    expect(lines).toHaveLength(2 + 9_999);
    expect(lines[2]).toBe("  skip  shop/web-old: pod is already being deleted");
  });

  it("shows ten reasons at most, and sums up the rest in one line", () => {
    const many = Array.from({ length: 14 }, (_, index): Exclusion => ({
      pod: pod(`p-${index}`),
      by: "selector",
      reason: `reason ${index}`,
    }));
    const lines = exclusionLines(many, false);
    expect(lines).toHaveLength(11);
    expect(lines[10]).toBe("4 more pod(s) for 4 other reason(s)");
  });

  it("gives JSON the counts by reason, and the full list only when asked", () => {
    const brief = podResultJson("pod-kill", true, result) as Record<string, unknown>;
    expect(brief["excludedCount"]).toBe(9_999);
    expect(brief["excludedByReason"]).toEqual([
      expect.objectContaining({ by: "mode", count: 9_998 }),
      expect.objectContaining({ by: "rail", count: 1 }),
    ]);
    expect(brief).not.toHaveProperty("excluded");
    const full = podResultJson("pod-kill", true, result, true) as { excluded: unknown[] };
    expect(full.excluded).toHaveLength(9_999);
  });
});

describe("fail says when nothing was paused", () => {
  it("prints Changes: none when the blast-radius cap left the only pod out (a bare pod is its own workload)", () => {
    const lines: string[] = [];
    const bare = pod("halt-target");
    printPodFailureResult(
      { out: (text) => lines.push(...text.trimEnd().split("\n")), err: () => {} },
      false,
      {
        plan: {
          selected: [],
          excluded: [{ pod: bare, by: "rail", reason: "blast-radius cap: at most 0 of 1 ready pod" }],
          warnings: [],
        },
        changes: [],
        records: [],
        recovery: [],
        timelines: [],
      },
    );
    expect(lines).toEqual([
      "Plan: 0 pod(s) paused, 1 pod(s) left out",
      "  skip  shop/halt-target: blast-radius cap: at most 0 of 1 ready pod",
      "Changes: none",
    ]);
  });
});

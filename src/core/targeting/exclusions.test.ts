import { describe, expect, it } from "vitest";
import { groupExclusions } from "./exclusions.js";
import { readyPodFacts } from "./facts-fixture.js";
import type { Exclusion, PodFacts } from "./types.js";

function pod(name: string): PodFacts {
  return readyPodFacts("shop", name);
}

describe("groupExclusions: 9,999 pods left out read as a few lines", () => {
  const notChosen = (index: number): Exclusion => ({
    pod: pod(`web-${index}`),
    by: "mode",
    reason: "mode one: not the one chosen",
  });

  it("counts the pods per reason, largest group first, with the first few as examples", () => {
    const excluded: Exclusion[] = [
      { pod: pod("old-0"), by: "rail", reason: "pod is already being deleted" },
      ...Array.from({ length: 9_998 }, (_, index) => notChosen(index)),
    ];
    expect(groupExclusions(excluded)).toEqual([
      {
        by: "mode",
        reason: "mode one: not the one chosen",
        count: 9_998,
        examples: ["shop/web-0", "shop/web-1", "shop/web-2"],
      },
      { by: "rail", reason: "pod is already being deleted", count: 1, examples: ["shop/old-0"] },
    ]);
  });

  it("keeps the same words from different stages apart, and ties in the plan's order", () => {
    const excluded: Exclusion[] = [
      { pod: pod("a"), by: "selector", reason: "same words" },
      { pod: pod("b"), by: "rail", reason: "same words" },
    ];
    expect(groupExclusions(excluded, 1).map((group) => group.by)).toEqual(["selector", "rail"]);
  });

  it("has nothing to say about a plan that left nothing out", () => {
    expect(groupExclusions([])).toEqual([]);
  });
});

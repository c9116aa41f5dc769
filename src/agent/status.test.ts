import { describe, expect, it } from "vitest";
import { readyPodFacts } from "../core/targeting/facts-fixture.js";
import type { PodFacts } from "../core/targeting/types.js";
import type { PodChaosResult } from "../engine/pod-chaos.js";
import { maxStatusTargets, podTargets } from "./status.js";

function pod(n: number): PodFacts {
  return readyPodFacts("shop", `web-${String(n)}`, { uid: `uid-${String(n)}` });
}

describe("podTargets", () => {
  it("lists at most maxStatusTargets pods, so a mode-all fan-out's status still fits in etcd", () => {
    const pods = Array.from({ length: maxStatusTargets + 5 }, (_, n) => pod(n));
    const result: PodChaosResult = {
      plan: { selected: pods, excluded: [], warnings: [] },
      shots: pods.map((facts, n) => ({
        pod: facts,
        ledgerId: `volley-${String(Math.floor(n / 50))}`,
        outcome: { accepted: true, at: 0 },
      })),
      recovery: undefined,
      apiRequests: 0,
    };
    const targets = podTargets(result);
    expect(targets).toHaveLength(maxStatusTargets);
    expect(targets[0]).toMatchObject({ name: "web-0", outcome: "injected", ledgerRecord: "volley-0" });
    expect(targets.at(-1)).toMatchObject({ name: `web-${String(maxStatusTargets - 1)}` });
  });
});

import { describe, expect, it } from "vitest";
import { legScore, scoreOf, winnerOf, type AttackOutcome } from "./scoreboard.js";

const t0 = 1_000_000;

function outcome(overrides: Partial<AttackOutcome>): AttackOutcome {
  return {
    leg: "fast",
    round: 1,
    attack: "drift",
    kind: "drift",
    description: "configmap shop/app data.A",
    gitDefines: true,
    injectedAt: t0,
    restoredAt: t0 + 1000,
    restoredBy: "kustomize-controller",
    healer: "gitops",
    ledgerIds: ["r1"],
    podsStarted: 0,
    ...overrides,
  };
}

describe("the duel's scoreboard", () => {
  it("times heals by GitOps (nearest rank), counts misses, persistence and the self-heal rate", () => {
    const outcomes = [
      outcome({ restoredAt: t0 + 8000 }),
      outcome({ restoredAt: t0 + 12_000 }),
      outcome({ restoredAt: t0 + 9000, podsStarted: 2 }),
      outcome({
        kind: "kill-pods",
        healer: "kubernetes",
        restoredBy: "kube-controller-manager",
        restoredAt: t0 + 3000,
        gitDefines: null,
        podsStarted: null,
      }),
      outcome({ healer: "broadside", restoredBy: "broadside", restoredAt: t0 + 30_000, gitDefines: false }),
    ];
    const score = scoreOf(outcomes);
    expect(score.attacks).toBe(5);
    expect(score.healsByGitOps).toEqual({ count: 3, p50Ms: 9000, p95Ms: 12_000, maxMs: 12_000 });
    expect(score.healsByKubernetes).toBe(1);
    expect(score.misses).toBe(1);
    expect(score.cannotHeal).toBe(1);
    expect(score.persistence).toEqual({ count: 5, p50Ms: 9000, p95Ms: 30_000, maxMs: 30_000 });
    expect(score.selfHealRate).toBe(0.8);
    expect(score.podsStarted).toBe(2);
    expect(score.winner).toBe("gitops");
  });

  it("gives Broadside the win when its drift outlasts the deadline, and a draw on a tie", () => {
    const miss = outcome({ healer: "broadside", restoredBy: "broadside", restoredAt: t0 + 30_000 });
    expect(winnerOf([miss, miss, outcome({})])).toBe("broadside");
    expect(winnerOf([miss, outcome({})])).toBe("draw");
    expect(winnerOf([])).toBe("draw");
    const empty = scoreOf([]);
    expect(empty.selfHealRate).toBeNull();
    expect(empty.healsByGitOps).toEqual({ count: 0, p50Ms: null, p95Ms: null, maxMs: null });
  });

  it("an attack nobody restored persisted without an end, and is a miss", () => {
    const score = scoreOf([outcome({ healer: "nobody", restoredAt: null, restoredBy: null })]);
    expect(score.misses).toBe(1);
    expect(score.persistence.count).toBe(0);
  });

  it("scores a leg per attack kind, kinds in the order they first appear", () => {
    const outcomes = [
      outcome({ kind: "scale" }),
      outcome({ kind: "drift" }),
      outcome({ kind: "scale", leg: "slow", healer: "broadside", restoredBy: "broadside" }),
    ];
    const fast = legScore("fast", outcomes);
    expect(fast.overall.attacks).toBe(2);
    expect(fast.byKind.map((entry) => [entry.kind, entry.score.attacks])).toEqual([
      ["scale", 1],
      ["drift", 1],
    ]);
    expect(legScore("slow", outcomes).overall.winner).toBe("broadside");
  });
});

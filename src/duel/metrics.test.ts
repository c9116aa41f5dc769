import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../core/fake-clock.js";
import { DuelMetrics, duelMetricDefinitions, healerLabels } from "./metrics.js";
import { attackKinds } from "./file.js";
import type { AttackOutcome } from "./scoreboard.js";

/** The rows of docs/metrics.md's "The duel's metrics": name, type and labels. */
function documented(): { name: string; type: string; labels: string[] }[] {
  const page = readFileSync(new URL("../../docs/metrics.md", import.meta.url), "utf8");
  const section = page.slice(page.indexOf("\n## The duel's metrics\n"));
  const body = section.slice(1, section.indexOf("\n## ", 1) < 0 ? undefined : section.indexOf("\n## ", 1));
  const cell = (text: string) => text.trim().replace(/^`|`$/g, "");
  return body
    .split("\n")
    .filter((line) => line.startsWith("| `broadside_duel_"))
    .map((line) => {
      const [name = "", type = "", labels = ""] = line.split("|").slice(1, 4).map(cell);
      return { name, type, labels: labels === "" ? [] : labels.split(",").map(cell) };
    });
}

function outcome(overrides: Partial<AttackOutcome>): AttackOutcome {
  return {
    leg: "fast",
    round: 1,
    attack: "a",
    kind: "drift",
    description: "d",
    gitDefines: true,
    injectedAt: 1000,
    restoredAt: 3500,
    restoredBy: "kustomize-controller",
    healer: "gitops",
    ledgerIds: [],
    podsStarted: 2,
    ...overrides,
  };
}

describe("the duel's metrics", () => {
  it("are the ones docs/metrics.md lists, with their types and labels", () => {
    expect(documented()).toEqual(
      duelMetricDefinitions.map(({ name, type, labelNames }) => ({ name, type, labels: [...labelNames] })),
    );
  });

  it("start every closed label set at 0, then count attacks, restore times and pods started", async () => {
    const clock = new FakeClock(0);
    const metrics = new DuelMetrics(clock);
    const fresh = await metrics.render();
    const zeros = [...fresh.matchAll(/^broadside_duel_attacks_total\{.*\} 0$/gm)];
    expect(zeros).toHaveLength(attackKinds.length * healerLabels.length);
    expect(fresh).toContain('broadside_duel_restore_seconds_count{kind="delete",healer="nobody"} 0');

    metrics.legStarted(10_000);
    metrics.attackEnded(outcome({}));
    metrics.attackEnded(
      outcome({ kind: "delete", healer: "broadside", restoredBy: "broadside", podsStarted: 0 }),
    );
    metrics.attackEnded(
      outcome({ kind: "kill-pods", healer: "nobody", restoredAt: null, podsStarted: null }),
    );
    const text = await metrics.render();
    expect(text).toContain("broadside_duel_gitops_interval_seconds 10");
    expect(text).toContain('broadside_duel_attacks_total{kind="drift",healer="gitops"} 1');
    expect(text).toContain('broadside_duel_attacks_total{kind="delete",healer="broadside"} 1');
    expect(text).toContain('broadside_duel_attacks_total{kind="kill-pods",healer="nobody"} 1');
    expect(text).toContain('broadside_duel_restore_seconds_sum{kind="drift",healer="gitops"} 2.5');
    expect(text).toContain('broadside_duel_restore_seconds_count{kind="kill-pods",healer="nobody"} 0');
    expect(text).toContain('broadside_duel_pods_started_total{kind="drift"} 2');
    expect(text).toContain('broadside_duel_pods_started_total{kind="delete"} 0');
  });

  it("waits for two scrapes after the last change (the first then finished), for at most the time given", async () => {
    const clock = new FakeClock(0);
    const metrics = new DuelMetrics(clock);
    await clock.advance(5);
    metrics.attackEnded(outcome({}));
    const unscraped = metrics.scraped(1000);
    await clock.advance(1000);
    expect(await unscraped).toBe(false);

    const waiting = metrics.scraped(1000);
    let done = false;
    void waiting.then(() => (done = true));
    await clock.advance(100);
    await metrics.render();
    await clock.advance(100);
    expect(done, "one scrape begun is not yet one stored").toBe(false);
    await metrics.render();
    await clock.advance(100);
    expect(await waiting).toBe(true);
  });
});

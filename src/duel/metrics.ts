import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Clock } from "../core/clock.js";
import { attackKinds, type AttackKind } from "./file.js";
import { healerKinds } from "./gitops.js";
import type { AttackOutcome } from "./scoreboard.js";

/**
 * A duel's metrics (issue 13; docs/metrics.md, "The duel's metrics"), in a registry of their own with the
 * broadside_duel_ prefix: what the Grafana dashboard's duel row shows while `broadside duel` runs and
 * Prometheus scrapes it. Every label comes from a closed set (attack kinds, healers), and every series
 * starts at 0, so increase() sees the first attack.
 */

export interface DuelMetricDefinition {
  readonly name: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly help: string;
  readonly labelNames: readonly string[];
}

/** 100 ms to an hour: a heal comes within an interval plus its apply; a duel's deadline is at most 1 h. */
export const restoreBuckets = [0.1, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600] as const;

export const duelCatalogue = {
  attacks: {
    name: "broadside_duel_attacks_total",
    type: "counter",
    help: "Attacks of a duel that ended, by attack kind and by who restored the object: gitops, kubernetes, kubectl, other, broadside (its revert at the deadline: a miss) or nobody.",
    labelNames: ["kind", "healer"],
  },
  restore: {
    name: "broadside_duel_restore_seconds",
    type: "histogram",
    help: "Seconds from an attack's injection to the watch event of its restoration, by attack kind and healer.",
    labelNames: ["kind", "healer"],
  },
  podsStarted: {
    name: "broadside_duel_pods_started_total",
    type: "counter",
    help: "Pods that started or restarted while an attack's drift held and read the object attacked, by attack kind.",
    labelNames: ["kind"],
  },
  interval: {
    name: "broadside_duel_gitops_interval_seconds",
    type: "gauge",
    help: "The GitOps controller's reconcile interval in the leg running now.",
    labelNames: [],
  },
} as const satisfies Record<string, DuelMetricDefinition>;

export const duelMetricDefinitions: readonly DuelMetricDefinition[] = Object.values(duelCatalogue);

export const healerLabels = [...healerKinds, "nobody"] as const;
type HealerLabel = (typeof healerLabels)[number];

/** What a duel tells its observers as it goes (DuelDeps.observer). */
export interface DuelObserver {
  legStarted(intervalMs: number): void;
  attackEnded(outcome: AttackOutcome): void;
}

export class DuelMetrics implements DuelObserver {
  private readonly registry = new Registry();
  private readonly attacks = new Counter({
    ...definition(duelCatalogue.attacks),
    registers: [this.registry],
  });
  private readonly restore = new Histogram({
    ...definition(duelCatalogue.restore),
    buckets: [...restoreBuckets],
    registers: [this.registry],
  });
  private readonly podsStarted = new Counter({
    ...definition(duelCatalogue.podsStarted),
    registers: [this.registry],
  });
  private readonly interval = new Gauge({
    ...definition(duelCatalogue.interval),
    registers: [this.registry],
  });
  /** Renders (scrapes) begun since the last change. */
  private rendersSinceChange = 0;

  constructor(private readonly clock: Pick<Clock, "now" | "sleep">) {
    for (const kind of attackKinds) {
      this.podsStarted.inc({ kind }, 0);
      for (const healer of healerLabels) {
        this.attacks.inc({ kind, healer }, 0);
        this.restore.zero({ kind, healer });
      }
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    this.rendersSinceChange += 1;
    return this.registry.metrics();
  }

  legStarted(intervalMs: number): void {
    this.interval.set(intervalMs / 1000);
    this.rendersSinceChange = 0;
  }

  attackEnded(outcome: AttackOutcome): void {
    const labels = { kind: outcome.kind satisfies AttackKind, healer: outcome.healer satisfies HealerLabel };
    this.attacks.inc(labels);
    if (outcome.restoredAt !== null) {
      this.restore.observe(labels, Math.max(0, outcome.restoredAt - outcome.injectedAt) / 1000);
    }
    if (outcome.podsStarted !== null && outcome.podsStarted > 0) {
      this.podsStarted.inc({ kind: outcome.kind }, outcome.podsStarted);
    }
    this.rendersSinceChange = 0;
  }

  /**
   * Waits until Prometheus has stored everything recorded, for at most `timeoutMs`: a duel that ends must
   * not take its last round away before Prometheus saw it. A render only begins a scrape; the second
   * render since the last change proves the first one finished (Prometheus never overlaps two scrapes of a
   * target), and gives a rate() a sample after the rise before the series goes stale. True when it did.
   */
  async scraped(timeoutMs: number): Promise<boolean> {
    const until = this.clock.now() + timeoutMs;
    while (this.rendersSinceChange < 2) {
      if (this.clock.now() >= until) return false;
      await this.clock.sleep(100);
    }
    return true;
  }
}

function definition(metric: DuelMetricDefinition): { name: string; help: string; labelNames: string[] } {
  return { name: metric.name, help: metric.help, labelNames: [...metric.labelNames] };
}

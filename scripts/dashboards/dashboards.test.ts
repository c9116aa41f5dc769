import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { metricDefinitions } from "../../src/agent/metrics/catalogue.js";
import { duelMetricDefinitions } from "../../src/duel/metrics.js";
import { dashboardDirs, dashboards, dashboardText, dashboardUid } from "./chaos-recovery.js";

/**
 * The dashboards as code: what is committed (deploy/grafana/ and the chart's copy) is exactly what the
 * generator renders, and every panel queries Prometheus for metrics that exist. Whether each query
 * returns data against a real Prometheus is test/integration/prometheus.test.ts's part.
 */

const root = fileURLToPath(new URL("../..", import.meta.url));

interface Panel {
  type: string;
  title?: string;
  datasource?: { type: string; uid: string };
  targets?: { expr?: string; datasource?: { type: string; uid: string } }[];
}

const rendered = Object.entries(dashboards());
const panels = rendered.flatMap(([, dashboard]) => (dashboard.panels ?? []) as Panel[]);
const queried = panels.filter((panel) => panel.type !== "row");

describe("the Grafana dashboards as code", () => {
  it.each(dashboardDirs(root).map((dir) => [dir.slice(root.length)]))(
    "are committed in %s exactly as `npm run dashboards` renders them",
    async (relative) => {
      const dir = join(root, relative);
      expect((await readdir(dir)).sort()).toEqual(rendered.map(([file]) => file).sort());
      for (const [file, dashboard] of rendered) {
        const committed = await readFile(join(dir, file), "utf8");
        expect(committed, `${relative}/${file} is stale: npm run dashboards`).toBe(dashboardText(dashboard));
      }
    },
  );

  it("cover chaos and recovery: shots, recovery, heals by field manager, API latency, restarts, the duel", () => {
    const exprs = queried.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr ?? ""));
    for (const metric of [
      "broadside_shots_total",
      "broadside_recovery_milestone_seconds_bucket",
      "broadside_heals_total",
      "apiserver_request_duration_seconds_bucket",
      "broadside_target_restarts_total",
      "broadside_duel_attacks_total",
      "broadside_duel_restore_seconds_bucket",
    ]) {
      expect(
        exprs.some((expr) => expr.includes(metric)),
        metric,
      ).toBe(true);
    }
    expect(rendered.map(([, dashboard]) => dashboard.uid)).toEqual([dashboardUid]);
  });

  it("query, in every panel, the Prometheus the viewer picks, with a PromQL expression", () => {
    expect(queried.length).toBeGreaterThan(8);
    for (const panel of queried) {
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.datasource, panel.title).toEqual({ type: "prometheus", uid: "${datasource}" });
        expect(target.expr?.trim(), panel.title).toBeTruthy();
      }
    }
  });

  it("name only Broadside metrics the catalogue defines (a renamed metric breaks here, not in Grafana)", () => {
    const known = new Set(
      [...metricDefinitions, ...duelMetricDefinitions].flatMap((metric) =>
        metric.type === "histogram"
          ? [`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`]
          : [metric.name],
      ),
    );
    const used = queried
      .flatMap((panel) => panel.targets ?? [])
      .flatMap((target) => target.expr?.match(/\bbroadside_[a-z_]+/g) ?? []);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(known.has(name), name).toBe(true);
  });

  it('ship in the Helm chart as a ConfigMap Grafana\'s sidecar loads (label grafana_dashboard: "1")', async () => {
    const template = await readFile(join(root, "deploy/helm/broadside/templates/dashboards.yaml"), "utf8");
    expect(template).toContain('grafana_dashboard: "1"');
    expect(template).toContain('(.Files.Glob "dashboards/*.json").AsConfig');
  });
});

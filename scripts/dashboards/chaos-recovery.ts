/* eslint-disable @typescript-eslint/no-deprecated -- The SDK marks the classic dashboard model deprecated in
   favour of dashboardv2 (Grafana 12's resource schema). The classic JSON is what every Grafana from 10 on
   imports and what the dashboard sidecar provisions from a ConfigMap; v2 needs Grafana 12 with its new
   dashboard APIs. ADR 0033 has the choice. */
import { join } from "node:path";
import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import {
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  RowBuilder,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { PanelBuilder as BarGaugeBuilder } from "@grafana/grafana-foundation-sdk/bargauge";
import { ReduceDataOptionsBuilder, VizOrientation } from "@grafana/grafana-foundation-sdk/common";
import { PanelBuilder as HeatmapBuilder, YAxisConfigBuilder } from "@grafana/grafana-foundation-sdk/heatmap";
import { DataqueryBuilder, PromQueryFormat } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesBuilder } from "@grafana/grafana-foundation-sdk/timeseries";

/*
 * Broadside's dashboard of chaos and recovery, as code (the Grafana Foundation SDK, Apache-2.0): what was
 * shot, how fast the cluster came back, who healed the drifts, what the API server felt, what
 * restarted, and the duel against GitOps. Each query reads only metrics Broadside (docs/metrics.md) or the Kubernetes API server
 * exports; `npm run dashboards` renders it to deploy/grafana/ and into the Helm chart, and
 * test/integration/prometheus.test.ts runs every query against a real Prometheus after a run with chaos.
 *
 * Grafana's own variables in queries: `$__rate_interval` (a rate window of at least four scrapes) and
 * `$__range` (the dashboard's time range), substituted by Grafana before Prometheus sees the query.
 */

export const dashboardUid = "broadside-chaos-recovery";

/** Every panel queries the Prometheus the viewer picks. */
const prometheus = { type: "prometheus", uid: "${datasource}" };

const query = (expr: string, legend: string, refId = "A") =>
  new DataqueryBuilder().datasource(prometheus).expr(expr).legendFormat(legend).refId(refId);

const rate = (series: string): string => `rate(${series}[$__rate_interval])`;

/** The q-quantile of a histogram, per the labels named, over the rate window. */
const quantile = (q: number, histogram: string, by: string, selector = ""): string =>
  `histogram_quantile(${q}, sum by (le, ${by}) (${rate(`${histogram}_bucket${selector}`)}))`;

function timeseries(title: string, description: string, unit: string) {
  return new TimeseriesBuilder()
    .title(title)
    .description(description)
    .datasource(prometheus)
    .unit(unit)
    .min(0)
    .fillOpacity(10);
}

function chaosRow(dashboard: DashboardBuilder): void {
  dashboard
    .withRow(new RowBuilder("Chaos: what was fired"))
    .withPanel(
      timeseries(
        "Shots per second",
        "Pod faults fired at one pod each (a DELETE or an eviction), by fault and by whether the API server accepted or refused them (a PodDisruptionBudget holding).",
        "ops",
      )
        .withTarget(
          query(`sum by (fault, outcome) (${rate("broadside_shots_total")})`, "{{fault}} {{outcome}}"),
        )
        .span(12)
        .height(8),
    )
    .withPanel(
      timeseries(
        "Active faults",
        "Faults injected and not yet recovered (the ledger's open records), by fault kind.",
        "short",
      )
        .withTarget(query("sum by (fault) (broadside_active_faults)", "{{fault}}"))
        .span(8)
        .height(8),
    )
    .withPanel(
      new StatBuilder()
        .title("Shots in range")
        .description("Shots fired over the dashboard's time range, accepted or refused.")
        .datasource(prometheus)
        .unit("short")
        .reduceOptions(new ReduceDataOptionsBuilder().calcs(["lastNotNull"]))
        .withTarget(
          query("sum by (outcome) (increase(broadside_shots_total[$__range]))", "{{outcome}}").instant(),
        )
        .span(4)
        .height(8),
    );
}

function recoveryRow(dashboard: DashboardBuilder): void {
  dashboard
    .withRow(new RowBuilder("Recovery: how fast the cluster came back"))
    .withPanel(
      timeseries(
        "Time to recover, p50 and p95, by milestone",
        "Seconds from a shot to each recovery milestone (victim gone, replacement created, scheduled, Ready, workload restored).",
        "s",
      )
        .withTarget(
          query(quantile(0.5, "broadside_recovery_milestone_seconds", "milestone"), "p50 {{milestone}}"),
        )
        .withTarget(
          query(
            quantile(0.95, "broadside_recovery_milestone_seconds", "milestone"),
            "p95 {{milestone}}",
            "B",
          ),
        )
        .span(12)
        .height(9),
    )
    .withPanel(
      new HeatmapBuilder()
        .title("Replacement Ready after a shot (histogram)")
        .description(
          "How many shots saw their replacement pod Ready within each bucket: the shape of recovery, outliers included.",
        )
        .datasource(prometheus)
        .calculate(false)
        .yAxis(new YAxisConfigBuilder().unit("s"))
        .withTarget(
          query(
            `sum by (le) (increase(broadside_recovery_milestone_seconds_bucket{milestone="replacement_ready"}[$__rate_interval]))`,
            "{{le}}",
          ).format(PromQueryFormat.Heatmap),
        )
        .span(12)
        .height(9),
    );
}

function healsRow(dashboard: DashboardBuilder): void {
  dashboard
    .withRow(new RowBuilder("Drift and heals: who put things back"))
    .withPanel(
      new BarGaugeBuilder()
        .title("Heals by field manager")
        .description(
          "Changes of Broadside's undone by someone else before their revert, by the field manager that wrote the heal (kustomize-controller for Flux, argocd-controller, kubectl-edit...).",
        )
        .datasource(prometheus)
        .unit("short")
        .orientation(VizOrientation.Horizontal)
        .reduceOptions(new ReduceDataOptionsBuilder().calcs(["lastNotNull"]))
        .withTarget(
          query(
            "sum by (field_manager) (increase(broadside_heals_total[$__range]))",
            "{{field_manager}}",
          ).instant(),
        )
        .span(8)
        .height(8),
    )
    .withPanel(
      timeseries(
        "Drift duration, p50 and p95, by how it ended",
        "Seconds an object fault's change stayed in the cluster: reverted by Broadside at its deadline, healed by someone else, or its target gone.",
        "s",
      )
        .withTarget(query(quantile(0.5, "broadside_drift_duration_seconds", "ended_by"), "p50 {{ended_by}}"))
        .withTarget(
          query(quantile(0.95, "broadside_drift_duration_seconds", "ended_by"), "p95 {{ended_by}}", "B"),
        )
        .span(16)
        .height(8),
    );
}

function apiRow(dashboard: DashboardBuilder): void {
  dashboard
    .withRow(new RowBuilder("Kubernetes API: does it stay responsive under chaos?"))
    .withPanel(
      timeseries(
        "API server latency p99 by verb",
        "The API server's own measure of its request latency (apiserver_request_duration_seconds), long-running WATCH and CONNECT left out.",
        "s",
      )
        .withTarget(
          query(
            quantile(0.99, "apiserver_request_duration_seconds", "verb", '{verb!~"WATCH|CONNECT"}'),
            "{{verb}}",
          ),
        )
        .span(12)
        .height(8),
    )
    .withPanel(
      timeseries(
        "API server requests per second by code",
        "Every request the API server answered, by HTTP status code: 429 is throttling, 5xx is trouble.",
        "reqps",
      )
        .withTarget(query(`sum by (code) (${rate("apiserver_request_total")})`, "{{code}}"))
        .span(12)
        .height(8),
    )
    .withPanel(
      timeseries(
        "Broadside's API latency p99 by verb",
        "Latency as Broadside's client sees it, from sending each request to its answer (client-side rate limiting left out).",
        "s",
      )
        .withTarget(query(quantile(0.99, "broadside_api_request_duration_seconds", "verb"), "{{verb}}"))
        .span(12)
        .height(8),
    )
    .withPanel(
      timeseries(
        "Broadside's API requests per second by code",
        "Broadside's requests by the code the API server answered (error: no answer at all).",
        "reqps",
      )
        .withTarget(
          query(`sum by (code) (${rate("broadside_api_request_duration_seconds_count")})`, "{{code}}"),
        )
        .span(12)
        .height(8),
    );
}

function restartsRow(dashboard: DashboardBuilder): void {
  dashboard
    .withRow(new RowBuilder("Restarts and the agent"))
    .withPanel(
      timeseries(
        "Container restarts in targeted pods",
        "Container restarts seen in pods a fault targeted while the fault was active, by fault.",
        "short",
      )
        .withTarget(
          query(`sum by (fault) (increase(broadside_target_restarts_total[$__rate_interval]))`, "{{fault}}"),
        )
        .span(12)
        .height(8),
    )
    .withPanel(
      timeseries(
        "Agents leading",
        "1 while an agent holds the leader Lease and acts; more than one at once would be a bug.",
        "short",
      )
        .withTarget(query("sum by (instance) (broadside_leader)", "{{instance}}"))
        .span(12)
        .height(8),
    );
}

/** `broadside duel` (docs/duel.md): its own metrics, scraped while it runs (docs/metrics.md). */
function duelRow(dashboard: DashboardBuilder): void {
  dashboard
    .withRow(new RowBuilder("The duel: Broadside against GitOps"))
    .withPanel(
      new BarGaugeBuilder()
        .title("Duel attacks by who restored them")
        .description(
          "Attacks of broadside duel that ended, by who restored the object: gitops (the GitOps controller), kubernetes (a ReplicaSet), broadside (its revert at the deadline: GitOps missed), kubectl, other, nobody.",
        )
        .datasource(prometheus)
        .unit("short")
        .orientation(VizOrientation.Horizontal)
        .reduceOptions(new ReduceDataOptionsBuilder().calcs(["lastNotNull"]))
        .withTarget(
          query("sum by (healer) (increase(broadside_duel_attacks_total[$__range]))", "{{healer}}").instant(),
        )
        .span(8)
        .height(8),
    )
    .withPanel(
      timeseries(
        "Duel time to restore p50 and p95 by healer",
        "From an attack's injection to the watch event of its restoration, by who restored it: GitOps heals come within its interval plus its apply; Broadside's own at the deadline.",
        "s",
      )
        .withTarget(query(quantile(0.5, "broadside_duel_restore_seconds", "healer"), "p50 {{healer}}"))
        .withTarget(query(quantile(0.95, "broadside_duel_restore_seconds", "healer"), "p95 {{healer}}", "B"))
        .span(8)
        .height(8),
    )
    .withPanel(
      timeseries(
        "Duel pods started while a drift held",
        "Pods that started or restarted while an attack's drift held and that read the object attacked (the wrong configuration), by attack kind.",
        "short",
      )
        .withTarget(
          query("sum by (kind) (increase(broadside_duel_pods_started_total[$__rate_interval]))", "{{kind}}"),
        )
        .span(8)
        .height(8),
    )
    .withPanel(
      timeseries(
        "Duel GitOps interval",
        "The GitOps controller's reconcile interval in the duel's leg running now (the duel sets it per leg).",
        "s",
      )
        .withTarget(query("max(broadside_duel_gitops_interval_seconds)", "interval"))
        .span(24)
        .height(6),
    );
}

export function chaosRecoveryDashboard(): Dashboard {
  const dashboard = new DashboardBuilder("Broadside / Chaos and recovery")
    .uid(dashboardUid)
    .description(
      "What Broadside fired, how fast the cluster recovered, who healed, and what the API server felt.",
    )
    .tags(["broadside", "chaos", "generated"])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh("10s")
    .time({ from: "now-30m", to: "now" })
    .withVariable(new DatasourceVariableBuilder("datasource").label("Prometheus").type("prometheus"));
  for (const row of [chaosRow, recoveryRow, healsRow, apiRow, restartsRow, duelRow]) row(dashboard);
  return dashboard.build();
}

/** The dashboards `npm run dashboards` writes, by file name. */
export function dashboards(): Record<string, Dashboard> {
  return { "broadside-chaos-recovery.json": chaosRecoveryDashboard() };
}

/** A dashboard's file text: two-space JSON and a final newline, as prettier leaves it. */
export function dashboardText(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

/** Where the rendered files go: deploy/grafana/, and the chart's own copy (helm reads only its files). */
export function dashboardDirs(root: string): string[] {
  return [join(root, "deploy", "grafana"), join(root, "deploy", "helm", "broadside", "dashboards")];
}

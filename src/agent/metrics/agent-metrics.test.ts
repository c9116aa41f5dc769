import { describe, expect, it } from "vitest";
import type { ClosedRecord, Outcome } from "../../core/ledger/record.js";
import type { RecoveryReport } from "../../kube/recovery/types.js";
import { AgentMetrics } from "./agent-metrics.js";
import { FieldManagerLabels, statusCodeLabel } from "./labels.js";

function metrics(maxFieldManagers = 20): AgentMetrics {
  return new AgentMetrics({ version: "0.1.0", processMetrics: false, maxFieldManagers });
}

/** The value of one sample line of the exposition, e.g. `broadside_shots_total{fault="pod-kill",...}`. */
async function sample(source: AgentMetrics, series: string): Promise<number | undefined> {
  const text = await source.render();
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function closed(faultKind: string, outcome: Outcome, createdAt = 10_000): ClosedRecord {
  return {
    id: "r1",
    faultKind,
    target: { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "app", uid: "u1" },
    path: "data.LOG_LEVEL",
    original: "info",
    injected: "debug",
    sensitive: false,
    createdAt,
    deadline: createdAt + 60_000,
    actor: { user: "test", host: "here", pid: 1 },
    version: "1",
    state: "closed",
    outcome,
  };
}

describe("the agent's metrics", () => {
  it("starts every closed label set at zero, so the first shot is a visible increase", async () => {
    const m = metrics();
    expect(await sample(m, 'broadside_shots_total{fault="pod-evict",outcome="refused"}')).toBe(0);
    expect(await sample(m, 'broadside_active_faults{fault="scale"}')).toBe(0);
    expect(await sample(m, "broadside_leader")).toBe(0);

    m.shotFired("pod-evict", { accepted: false, at: 5, reason: "blocked by a PodDisruptionBudget" });
    expect(await sample(m, 'broadside_shots_total{fault="pod-evict",outcome="refused"}')).toBe(1);
  });

  it("records every milestone of a recovery report in seconds since the shot", async () => {
    const m = metrics();
    const report: RecoveryReport = {
      victims: [
        {
          pod: { namespace: "shop", name: "web-1", uid: "u1", node: "n1" },
          workload: { kind: "Deployment", namespace: "shop", name: "web" },
          shot: { accepted: true, at: 1_000 },
          requestedAt: 990,
          acceptedMs: 10,
          goneMs: undefined,
          replacement: { expected: true, pod: undefined, createdMs: 40, scheduledMs: 60, readyMs: 2_500 },
        },
      ],
      workloads: [
        {
          workload: { kind: "Deployment", namespace: "shop", name: "web" },
          status: "restored",
          desired: 2,
          available: 2,
          dipped: true,
          restoredAt: 3_590,
          restoredMs: 2_600,
          restoredBy: "workload-status",
        },
      ],
      complete: true,
      watchFailure: undefined,
    };

    m.recoveryReported("pod-kill", report);

    const series = (milestone: string, suffix: string) =>
      sample(m, `broadside_recovery_milestone_seconds_${suffix}{fault="pod-kill",milestone="${milestone}"}`);
    expect(await series("replacement_ready", "sum")).toBe(2.5);
    expect(await series("replacement_created", "sum")).toBe(0.04);
    expect(await series("workload_restored", "sum")).toBe(2.6);
    expect(await series("victim_gone", "count")).toBeUndefined(); // never seen: not recorded as 0
    expect(
      await sample(
        m,
        'broadside_recovery_milestone_seconds_bucket{le="2.5",fault="pod-kill",milestone="replacement_ready"}',
      ),
    ).toBe(1);
  });

  it("sets active faults from the ledger's open records, unknown kinds as other", async () => {
    const m = metrics();
    m.activeFaultsAre([
      { faultKind: "config-drift" },
      { faultKind: "config-drift" },
      { faultKind: "net-delay" },
    ]);
    expect(await sample(m, 'broadside_active_faults{fault="config-drift"}')).toBe(2);
    expect(await sample(m, 'broadside_active_faults{fault="other"}')).toBe(1);

    m.activeFaultsAre([]);
    expect(await sample(m, 'broadside_active_faults{fault="config-drift"}')).toBe(0);
  });

  it("counts the node daemons' faults under their own kinds, not as other", async () => {
    const m = metrics();
    m.activeFaultsAre([{ faultKind: "container-kill" }, { faultKind: "delay" }, { faultKind: "bandwidth" }]);
    expect(await sample(m, 'broadside_active_faults{fault="container-kill"}')).toBe(1);
    expect(await sample(m, 'broadside_active_faults{fault="delay"}')).toBe(1);
    expect(await sample(m, 'broadside_active_faults{fault="bandwidth"}')).toBe(1);
    expect(await sample(m, 'broadside_active_faults{fault="other"}')).toBe(0);
  });

  it("times a drift from its record to its heal and counts the heal by its field manager", async () => {
    const m = metrics();
    m.recordClosed(
      closed("config-drift", { kind: "healed-externally", at: 13_500, by: "kustomize-controller" }),
    );
    m.recordClosed(closed("pod-kill", { kind: "target-gone", at: 11_000 }));
    m.recordClosed(closed("scale", { kind: "never-applied", at: 10_001 }));

    const drift = 'broadside_drift_duration_seconds_sum{fault="config-drift",ended_by="healed-externally"}';
    expect(await sample(m, drift)).toBe(3.5);
    expect(await sample(m, 'broadside_heals_total{field_manager="kustomize-controller"}')).toBe(1);
    const text = await m.render();
    expect(text).not.toContain('fault="pod-kill",ended_by'); // a pod kill is not a drift
    // Never applied: it never stayed. Its series exists from the start (at zero) and stays there.
    expect(await sample(m, 'broadside_drift_duration_seconds_count{fault="scale",ended_by="reverted"}')).toBe(
      0,
    );
    expect(text).not.toContain('ended_by="never-applied"');
  });

  it("keeps heal labels bounded: managers past the limit count as other, a missing one as unknown", async () => {
    const m = metrics(2);
    for (const manager of ["flux", "argocd-controller", "helm", "kubectl-edit", "flux", undefined]) {
      m.externalHeal(manager);
    }
    expect(await sample(m, 'broadside_heals_total{field_manager="flux"}')).toBe(2);
    expect(await sample(m, 'broadside_heals_total{field_manager="argocd-controller"}')).toBe(1);
    expect(await sample(m, 'broadside_heals_total{field_manager="other"}')).toBe(2);
    expect(await sample(m, 'broadside_heals_total{field_manager="unknown"}')).toBe(1);
  });

  it("observes API requests by verb and code, no answer as error", async () => {
    const m = metrics();
    m.requestEnded({ verb: "delete", code: 200, seconds: 0.004 });
    m.requestEnded({ verb: "list", code: undefined, seconds: 0.2 });
    expect(await sample(m, 'broadside_api_request_duration_seconds_count{verb="delete",code="200"}')).toBe(1);
    expect(await sample(m, 'broadside_api_request_duration_seconds_count{verb="list",code="error"}')).toBe(1);
  });

  it("counts target restarts, notifications and leadership", async () => {
    const m = metrics();
    m.targetRestarted("pod-kill", 3);
    m.targetRestarted("pod-kill", 0);
    m.notified("slack", "dropped");
    m.leadershipIs(true);
    expect(await sample(m, 'broadside_target_restarts_total{fault="pod-kill"}')).toBe(3);
    expect(await sample(m, 'broadside_notifications_total{channel="slack",result="dropped"}')).toBe(1);
    expect(await sample(m, "broadside_leader")).toBe(1);
  });

  it("keeps each instance's metrics to itself: no global registry", async () => {
    const first = metrics();
    const second = metrics();
    first.shotFired("pod-kill", { accepted: true, at: 0 });
    expect(await sample(second, 'broadside_shots_total{fault="pod-kill",outcome="accepted"}')).toBe(0);
  });

  it("takes only typed label values", () => {
    const m = metrics();
    // @ts-expect-error: "pod-delete" is no pod fault kind, so this call does not compile.
    m.shotFired("pod-delete", { accepted: true, at: 0 });
    // @ts-expect-error: "ready" is no recovery milestone.
    m.milestoneReached("pod-kill", "ready", 5);
    // @ts-expect-error: a pod fault has no drift.
    m.driftEnded("pod-kill", "reverted", 1);
  });
});

describe("label bounds", () => {
  it("turns status codes into labels, anything odd into other", () => {
    expect([200, 429, 504, undefined, 42, 418, 600, 200.5].map(statusCodeLabel)).toEqual([
      "200",
      "429",
      "504",
      "error",
      "other",
      "other",
      "other",
      "other",
    ]);
  });

  it("truncates a field manager to the API server's 128 characters", () => {
    const labels = new FieldManagerLabels(5);
    expect(labels.label("m".repeat(300))).toBe("m".repeat(128));
  });
});

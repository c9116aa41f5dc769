import { describe, expect, it } from "vitest";
import { FakeClock } from "../../core/fake-clock.js";
import type { NotificationEvent } from "../../core/notify/event.js";
import type { ResourceRef, StatusWriter } from "../../kube/resource-status.js";
import { AgentNotifications, faultKindOf } from "./agent-notifications.js";

/**
 * The reconcilers never call the notifier: what they report in a status's targets is told, once per
 * target and outcome, in the order it happened, and a failed status write loses no notification.
 */

class RecordingStatus implements StatusWriter {
  readonly reports: object[] = [];
  failing = false;

  read(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  claim(): Promise<void> {
    return Promise.resolve();
  }

  report(_ref: ResourceRef, status: object): Promise<void> {
    this.reports.push(status);
    return this.failing ? Promise.reject(new Error("API server down")) : Promise.resolve();
  }
}

const ref: ResourceRef = {
  apiVersion: "broadside.dev/v1alpha1",
  plural: "podchaos",
  namespace: "shop",
  name: "kill-web",
};
const source = { apiVersion: "broadside.dev/v1alpha1", kind: "PodChaos" };

function setUp() {
  const told: NotificationEvent[] = [];
  const errors: unknown[] = [];
  const clock = new FakeClock(Date.UTC(2026, 11, 6, 18));
  const feed = new AgentNotifications({ notify: (event) => told.push(event) }, clock, (error) =>
    errors.push(error),
  );
  const inner = new RecordingStatus();
  return { told, errors, inner, status: feed.statusWriter(inner, source), feed };
}

const recoveredTarget = {
  kind: "Pod",
  namespace: "shop",
  name: "web-1",
  uid: "uid-1",
  outcome: "recovered",
  ledgerRecord: "20261206t180000-abcdef",
  injectedAt: "2026-12-06T18:00:00.000Z",
  milestones: {
    acceptedMs: 12,
    replacementCreatedMs: 40,
    scheduledMs: 55,
    readyMs: 1870,
    workloadRestoredMs: 1900,
  },
} as const;

describe("notifications from the status the reconcilers write", () => {
  it("tells a recovered pod as injected, then recovered with its milestones under the report's names", async () => {
    const { told, status, inner } = setUp();
    await status.report(ref, { observedGeneration: 1, targets: [recoveredTarget] });
    expect(inner.reports).toHaveLength(1);
    expect(told.map((event) => event.type)).toEqual(["injected", "recovered"]);
    expect(told[0]).toMatchObject({
      faultKind: "pod-kill",
      target: { kind: "Pod", namespace: "shop", name: "web-1", uid: "uid-1" },
      source: { ...source, namespace: "shop", name: "kill-web" },
      milestones: { acceptedMs: 12 },
      at: Date.UTC(2026, 11, 6, 18),
    });
    expect(told[1]?.milestones).toEqual({
      acceptedMs: 12,
      createdMs: 40,
      scheduledMs: 55,
      readyMs: 1870,
      restoredMs: 1900,
    });
  });

  it("tells a container-kill's target as container-kill, with its pod Ready again", async () => {
    const { told, status } = setUp();
    const killed = {
      ...recoveredTarget,
      container: "web",
      restartCount: 1,
      milestones: { runningAgainMs: 771, readyMs: 2897 },
    };
    await status.report(ref, { targets: [killed] });
    expect(told.map((event) => `${event.type} ${event.faultKind}`)).toEqual([
      "injected container-kill",
      "recovered container-kill",
    ]);
    expect(told[1]?.milestones).toEqual({ readyMs: 2897 });
  });

  it("tells each outcome once, however often the status is written", async () => {
    const { told, status } = setUp();
    await status.report(ref, { targets: [{ ...recoveredTarget, outcome: "injected" }] });
    await status.report(ref, { targets: [recoveredTarget] });
    await status.report(ref, { targets: [recoveredTarget] });
    expect(told.map((event) => event.type)).toEqual(["injected", "recovered"]);
  });

  it("tells each pod of a volley, though they share one ledger record", async () => {
    const { told, status } = setUp();
    const second = { ...recoveredTarget, name: "web-2", uid: "uid-2" };
    await status.report(ref, { targets: [recoveredTarget, second] });
    expect(told.map((event) => `${event.type} ${event.target.name}`)).toEqual([
      "injected web-1",
      "recovered web-1",
      "injected web-2",
      "recovered web-2",
    ]);
  });

  it("tells a refused shot with its reason, and nothing for a status without targets", async () => {
    const { told, status } = setUp();
    await status.report(ref, { conditions: [] });
    await status.report(ref, {
      targets: [
        { kind: "Pod", namespace: "shop", name: "web-2", uid: "uid-2", outcome: "refused", message: "PDB" },
      ],
    });
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ type: "refused", reason: "PDB", target: { name: "web-2" } });
  });

  it("notifies before the write, so a status the API server refuses still tells what happened", async () => {
    const { told, status, inner } = setUp();
    inner.failing = true;
    await expect(status.report(ref, { targets: [recoveredTarget] })).rejects.toThrow("API server down");
    expect(told.map((event) => event.type)).toEqual(["injected", "recovered"]);
  });

  it("tells a revert at the deadline once, with the ms since the record was written", async () => {
    const { told, feed, status } = setUp();
    const summary = {
      id: "20261206t180000-abcdef",
      faultKind: "config-drift",
      target: { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "app", uid: "uid-3" },
      path: "data.LOG_LEVEL",
      createdAt: Date.UTC(2026, 11, 6, 18),
      result: "reverted" as const,
      at: Date.UTC(2026, 11, 6, 18, 0, 30),
    };
    feed.ledgerRecovered(summary);
    feed.ledgerRecovered({ ...summary, id: "other", result: "healed-externally" });
    // The reconciler reporting the same revert afterwards tells nothing new.
    await status.report(ref, {
      targets: [
        { kind: "ConfigMap", namespace: "shop", name: "app", outcome: "reverted", ledgerRecord: summary.id },
      ],
    });
    expect(told.map((event) => event.type)).toEqual(["reverted", "injected"]);
    expect(told[0]).toMatchObject({ faultKind: "config-drift", milestones: { revertedMs: 30_000 } });
  });

  it("never throws into the reconcile: a status it cannot read is reported, not raised", async () => {
    const { errors, status, told } = setUp();
    await status.report(ref, { targets: [{ outcome: "unheard-of" }] });
    expect(told).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it("names the fault of each chaos kind as the ledger does", () => {
    expect(faultKindOf("PodChaos")).toBe("pod-kill");
    expect(faultKindOf("Schedule")).toBe("pod-kill");
    expect(faultKindOf("ConfigDrift")).toBe("config-drift");
    expect(faultKindOf("ResourceSqueeze")).toBe("resource-squeeze");
    expect(faultKindOf("Scale")).toBe("scale");
  });
});

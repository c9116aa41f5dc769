import { describe, expect, it } from "vitest";
import type { VictimTimeline, WorkloadRestoration } from "../../kube/recovery/types.js";
import { milestonesOf } from "./events.js";

const victim: VictimTimeline = {
  pod: { namespace: "shop", name: "web-1", uid: "u-1", node: "kwok-1" },
  workload: { kind: "Deployment", namespace: "shop", name: "web" },
  shot: { accepted: true, at: 1_000 },
  requestedAt: 990,
  acceptedMs: 10,
  goneMs: 2_100,
  replacement: {
    expected: true,
    pod: { name: "web-2", uid: "u-2", node: "kwok-2" },
    createdMs: 35,
    scheduledMs: 48,
    readyMs: undefined,
  },
};

const restored: WorkloadRestoration = {
  workload: { kind: "Deployment", namespace: "shop", name: "web" },
  status: "restored",
  desired: 3,
  available: 3,
  dipped: true,
  restoredAt: 3_000,
  restoredMs: 2_010,
  restoredBy: "workload-status",
};

describe("milestonesOf: the recovery report's figures, named as notifications name them", () => {
  it("takes the victim's and its replacement's milestones that were seen, leaving out the others", () => {
    expect(milestonesOf(victim)).toEqual({ acceptedMs: 10, goneMs: 2_100, createdMs: 35, scheduledMs: 48 });
  });

  it("adds the workload's restoration, only when it was restored", () => {
    expect(milestonesOf(victim, restored)).toHaveProperty("restoredMs", 2_010);
    expect(milestonesOf(victim, { ...restored, status: "not-restored" })).not.toHaveProperty("restoredMs");
  });

  it("has no replacement milestones when no replacement was expected (a bare pod)", () => {
    const bare: VictimTimeline = { ...victim, replacement: { expected: false, why: "no controller" } };
    expect(milestonesOf(bare)).toEqual({ acceptedMs: 10, goneMs: 2_100 });
  });
});

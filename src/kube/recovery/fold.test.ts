import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { availabilityOf, RecoveryFold, victimSpec } from "./fold.js";
import type { VictimSpec, WorkloadShape } from "./types.js";

interface PodOptions {
  controller?: { kind: string; name: string };
  node?: string;
  ready?: boolean;
}

function pod(uid: string, name: string, options: PodOptions = {}): V1Pod {
  const controller = options.controller;
  return {
    metadata: {
      uid,
      name,
      namespace: "shop",
      ...(controller === undefined
        ? {}
        : {
            ownerReferences: [
              {
                apiVersion: "apps/v1",
                kind: controller.kind,
                name: controller.name,
                uid: "c",
                controller: true,
              },
            ],
          }),
    },
    spec: { containers: [], ...(options.node === undefined ? {} : { nodeName: options.node }) },
    status: { conditions: [{ type: "Ready", status: options.ready === true ? "True" : "False" }] },
  };
}

const rs = { kind: "ReplicaSet", name: "web-abc" };
const deploymentOwner = { kind: "Deployment", name: "web" };
const sts = { kind: "StatefulSet", name: "db" };

function webVictim(uid: string): VictimSpec {
  return victimSpec(pod(uid, `web-abc-${uid}`, { controller: rs, node: "n1" }), deploymentOwner);
}

function deployment(available: number, desired = 3): WorkloadShape {
  return {
    metadata: { name: "web", namespace: "shop" },
    spec: { replicas: desired },
    status: { availableReplicas: available },
  };
}

function statefulSet(available: number): WorkloadShape {
  return {
    metadata: { name: "db", namespace: "shop" },
    spec: { replicas: 3 },
    status: { availableReplicas: available },
  };
}

/** A replacement's life: created, scheduled, Ready, at the given times. */
function grow(
  fold: RecoveryFold,
  uid: string,
  name: string,
  controller: PodOptions["controller"],
  at: number[],
) {
  const [created = 0, scheduled = 0, ready = 0] = at;
  const options = controller === undefined ? {} : { controller };
  fold.onPod("ADDED", pod(uid, name, options), created);
  fold.onPod("MODIFIED", pod(uid, name, { ...options, node: "n2" }), scheduled);
  fold.onPod("MODIFIED", pod(uid, name, { ...options, node: "n2", ready: true }), ready);
}

describe("availability of workloads", () => {
  it("reads replicas for Deployments and StatefulSets, scheduled daemons for DaemonSets", () => {
    expect(availabilityOf("Deployment", deployment(2))).toEqual({ desired: 3, available: 2 });
    expect(availabilityOf("StatefulSet", { status: {} })).toEqual({ desired: 1, available: 0 });
    expect(
      availabilityOf("DaemonSet", {
        status: { desiredNumberScheduled: 3, numberAvailable: 3, availableReplicas: 0 },
      }),
    ).toEqual({ desired: 3, available: 3 });
  });
});

describe("a victim", () => {
  it("knows its controller and its workload, which defaults to the controller", () => {
    const spec = victimSpec(pod("u", "web-abc-u", { controller: rs, node: "n1" }), undefined);
    expect(spec).toEqual({
      namespace: "shop",
      name: "web-abc-u",
      uid: "u",
      node: "n1",
      controller: rs,
      workload: rs,
    });
    expect(victimSpec(pod("b", "bare"), undefined).controller).toBeUndefined();
  });
});

describe("timing recovery from watch events", () => {
  it("times one Deployment victim: accepted, created, scheduled, Ready, restored, gone", () => {
    const fold = new RecoveryFold([webVictim("v")]);
    fold.onWorkload("Deployment", deployment(3), 0);
    fold.requested("v", 1000);
    fold.onPod("MODIFIED", pod("sibling", "web-abc-s", { controller: rs, node: "n1", ready: true }), 1005);
    grow(fold, "new", "web-abc-new", rs, [1010, 1020, 3500]);
    fold.fired("v", { accepted: true, at: 1015 });
    fold.onWorkload("Deployment", deployment(2), 1012);
    expect(fold.isComplete(false)).toBe(false);
    fold.onWorkload("Deployment", deployment(3), 3510);
    expect(fold.isComplete(false)).toBe(true);
    expect(fold.isComplete(true)).toBe(false);
    fold.onPod("DELETED", pod("v", "web-abc-v"), 6000);
    expect(fold.isComplete(true)).toBe(true);

    const [timeline] = fold.victimTimelines();
    expect(timeline).toMatchObject({
      pod: { name: "web-abc-v", node: "n1" },
      workload: { kind: "Deployment", namespace: "shop", name: "web" },
      requestedAt: 1000,
      acceptedMs: 15,
      goneMs: 5000,
      replacement: {
        expected: true,
        pod: { name: "web-abc-new", uid: "new", node: "n2" },
        createdMs: 10,
        scheduledMs: 20,
        readyMs: 2500,
      },
    });
    expect(fold.workloadRestorations()).toEqual([
      {
        workload: { kind: "Deployment", namespace: "shop", name: "web" },
        status: "restored",
        desired: 3,
        available: 3,
        dipped: true,
        restoredAt: 3510,
        restoredMs: 2510,
        restoredBy: "workload-status",
      },
    ]);
  });

  it("gives replacements to victims of the same workload in creation order, by acceptance order", () => {
    const fold = new RecoveryFold([webVictim("a"), webVictim("b")]);
    fold.requested("a", 100);
    fold.requested("b", 100);
    fold.fired("b", { accepted: true, at: 110 });
    fold.fired("a", { accepted: true, at: 120 });
    grow(fold, "first", "web-abc-first", rs, [130, 140, 2000]);
    grow(fold, "second", "web-abc-second", rs, [135, 145, 2100]);
    const byVictim = Object.fromEntries(
      fold
        .victimTimelines()
        .map((t) => [t.pod.uid, t.replacement.expected ? t.replacement.pod?.uid : undefined]),
    );
    expect(byVictim).toEqual({ a: "second", b: "first" });
  });

  it("ignores new pods of other controllers and pods that existed before the watch", () => {
    const fold = new RecoveryFold([webVictim("v")]);
    fold.requested("v", 0);
    fold.fired("v", { accepted: true, at: 5 });
    grow(fold, "other", "api-x", { kind: "ReplicaSet", name: "api-123" }, [10, 11, 12]);
    fold.onPod("MODIFIED", pod("old", "web-abc-old", { controller: rs, node: "n1", ready: true }), 13);
    const [timeline] = fold.victimTimelines();
    expect(timeline?.replacement).toMatchObject({ expected: true, pod: undefined, createdMs: undefined });
  });

  it("matches a StatefulSet's replacement by the victim's name, whatever the order of creation", () => {
    const victims = ["db-0", "db-1"].map((name) =>
      victimSpec(pod(`old-${name}`, name, { controller: sts }), sts),
    );
    const fold = new RecoveryFold(victims);
    fold.onWorkload("StatefulSet", statefulSet(3), 0);
    for (const victim of victims) fold.requested(victim.uid, 10);
    fold.fired("old-db-0", { accepted: true, at: 20 });
    fold.fired("old-db-1", { accepted: true, at: 21 });
    fold.onWorkload("StatefulSet", statefulSet(1), 30);
    fold.onPod("DELETED", pod("old-db-1", "db-1"), 5000);
    grow(fold, "new-db-1", "db-1", sts, [5010, 5020, 7000]);
    fold.onPod("DELETED", pod("old-db-0", "db-0"), 5100);
    grow(fold, "new-db-0", "db-0", sts, [5110, 5120, 7100]);
    fold.onWorkload("StatefulSet", statefulSet(3), 7110);
    const timelines = fold.victimTimelines();
    expect(timelines.map((t) => (t.replacement.expected ? t.replacement.pod?.uid : undefined))).toEqual([
      "new-db-0",
      "new-db-1",
    ]);
    expect(timelines[1]).toMatchObject({ goneMs: 4990, replacement: { createdMs: 5000, readyMs: 6990 } });
    expect(fold.isComplete(true)).toBe(true);
    expect(fold.workloadRestorations()[0]).toMatchObject({ status: "restored", restoredMs: 7100 });
  });

  it("does not take a status from before the first shot for a restoration", () => {
    const fold = new RecoveryFold([webVictim("v")]);
    fold.onWorkload("Deployment", deployment(2), 0);
    fold.onWorkload("Deployment", deployment(3), 5);
    fold.requested("v", 10);
    fold.fired("v", { accepted: true, at: 12 });
    grow(fold, "new", "web-abc-new", rs, [14, 16, 2000]);
    fold.onWorkload("Deployment", deployment(2), 13);
    fold.onWorkload("Deployment", deployment(3), 2010);
    expect(fold.workloadRestorations()[0]).toMatchObject({ restoredAt: 2010, restoredBy: "workload-status" });
  });

  it("counts a workload already short of replicas at the shot as dipped", () => {
    const fold = new RecoveryFold([webVictim("v")]);
    fold.onWorkload("Deployment", deployment(2), 0);
    fold.requested("v", 10);
    fold.fired("v", { accepted: true, at: 12 });
    fold.onWorkload("Deployment", deployment(3), 3000);
    expect(fold.workloadRestorations()[0]).toMatchObject({ dipped: true, restoredMs: 2990 });
  });

  it("takes the last replacement's Ready as the restoration when the status never showed the dip", () => {
    const fold = new RecoveryFold([webVictim("a"), webVictim("b")]);
    fold.onWorkload("Deployment", deployment(3), 0);
    for (const uid of ["a", "b"]) {
      fold.requested(uid, 10);
      fold.fired(uid, { accepted: true, at: 11 });
    }
    grow(fold, "n1", "web-abc-n1", rs, [20, 21, 2500]);
    expect(fold.isComplete(false)).toBe(false);
    grow(fold, "n2", "web-abc-n2", rs, [22, 23, 2600]);
    expect(fold.isComplete(false)).toBe(true);
    expect(fold.workloadRestorations()[0]).toMatchObject({
      status: "restored",
      restoredAt: 2600,
      restoredMs: 2590,
      restoredBy: "replacements-ready",
    });
  });

  it("expects no replacement for a bare pod, a refused shot, or a pod never shot at", () => {
    const bare = victimSpec(pod("bare", "tools"), undefined);
    const fold = new RecoveryFold([bare, webVictim("refused"), webVictim("spared")]);
    fold.requested("bare", 0);
    fold.requested("refused", 0);
    expect(fold.isComplete(false)).toBe(false);
    fold.fired("bare", { accepted: true, at: 5 });
    fold.fired("refused", { accepted: false, at: 6, reason: "blocked by PDB web" });
    fold.onPod("DELETED", pod("bare", "tools"), 4000);
    expect(fold.isComplete(true)).toBe(true);
    const replacements = fold.victimTimelines().map((t) => t.replacement);
    expect(replacements).toEqual([
      { expected: false, why: "a bare pod: no controller recreates it" },
      { expected: false, why: "the shot was refused: blocked by PDB web" },
      { expected: false, why: "not shot" },
    ]);
    expect(fold.workloadRestorations()).toMatchObject([{ status: "not-hit", restoredAt: undefined }]);
  });

  it("waits for a Job's replacement but reports its restoration as untracked", () => {
    const job = { kind: "Job", name: "batch" };
    const fold = new RecoveryFold([victimSpec(pod("j", "batch-x", { controller: job }), job)]);
    fold.requested("j", 0);
    fold.fired("j", { accepted: true, at: 1 });
    expect(fold.isComplete(false)).toBe(false);
    grow(fold, "j2", "batch-y", job, [10, 20, 30]);
    expect(fold.isComplete(false)).toBe(true);
    expect(fold.workloadRestorations()[0]).toMatchObject({ status: "untracked", restoredMs: undefined });
  });
});

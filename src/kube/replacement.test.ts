import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { ReplacementObserver } from "./replacement.js";

function pod(uid: string, options: { node?: string; ready?: boolean } = {}): V1Pod {
  return {
    metadata: { uid, name: `web-${uid}` },
    spec: { containers: [], ...(options.node === undefined ? {} : { nodeName: options.node }) },
    status: { conditions: [{ type: "Ready", status: options.ready === true ? "True" : "False" }] },
  };
}
const deployment = (available: number): V1Deployment => ({ status: { availableReplicas: available } });

describe("timing a pod's replacement from watch events", () => {
  it("stamps each milestone once, the first time it is seen, on the first new pod", () => {
    const observer = new ReplacementObserver("victim", new Set(["victim", "sibling"]), 2);
    observer.onDeployment(deployment(1), 5);
    observer.onPod("ADDED", pod("new"), 10);
    observer.onPod("MODIFIED", pod("sibling", { node: "n1", ready: true }), 15);
    observer.onPod("MODIFIED", pod("new", { node: "n2" }), 20);
    observer.onPod("MODIFIED", pod("other-new", { node: "n3", ready: true }), 25);
    observer.onPod("MODIFIED", pod("new", { node: "n2", ready: true }), 3000);
    observer.onPod("MODIFIED", pod("new", { node: "n2", ready: true }), 3100);
    observer.onDeployment(deployment(2), 3010);
    observer.onPod("DELETED", pod("victim"), 4000);
    expect([
      observer.createdAt,
      observer.scheduledAt,
      observer.readyAt,
      observer.workloadRestoredAt,
      observer.victimGoneAt,
    ]).toEqual([10, 20, 3000, 3010, 4000]);
    expect(observer.replacement?.spec?.nodeName).toBe("n2");
    expect(observer.isComplete(true)).toBe(true);
  });

  it("is not complete until the workload is back, nor until the victim is gone when asked to wait for it", () => {
    const observer = new ReplacementObserver("victim", new Set(["victim"]), 2);
    observer.onDeployment(deployment(1), 1);
    observer.onPod("MODIFIED", pod("new", { node: "n1", ready: true }), 2);
    expect(observer.isComplete(false)).toBe(false);
    observer.onDeployment(deployment(2), 3);
    expect(observer.isComplete(false)).toBe(true);
    expect(observer.isComplete(true)).toBe(false);
  });

  it("counts Ready as restored when the Deployment's status never showed the dip", () => {
    const observer = new ReplacementObserver("victim", new Set(["victim"]), 2);
    observer.onDeployment(deployment(2), 1);
    observer.onPod("MODIFIED", pod("new", { node: "n1", ready: true }), 2500);
    expect(observer.workloadRestoredAt).toBe(2500);
  });
});

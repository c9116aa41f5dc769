import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { evaluateCondition } from "./kubernetes-probe.js";
import type { Workload } from "./kubernetes-probe.js";

function workload(readyReplicas: number, replicas = 2): Workload {
  return {
    metadata: { name: "web", namespace: "shop" },
    spec: { replicas, selector: { matchLabels: { app: "web" } } },
    status: { readyReplicas, conditions: [{ type: "Available", status: "True" }] },
  };
}

function pod(
  name: string,
  fields: { ready?: boolean; app?: string; restarts?: number; deleting?: boolean },
): V1Pod {
  return {
    metadata: {
      name,
      labels: { app: fields.app ?? "web" },
      ...(fields.deleting === true ? { deletionTimestamp: new Date(0) } : {}),
    },
    status: {
      conditions: [{ type: "Ready", status: fields.ready === false ? "False" : "True" }],
      containerStatuses: [
        { name: "app", image: "x", imageID: "", ready: true, restartCount: fields.restarts ?? 0 },
      ],
    },
  };
}

describe("kubernetes conditions", () => {
  const healthy = [pod("a", {}), pod("b", {}), pod("other", { app: "db", ready: false, restarts: 9 })];

  it("fails every condition while the workload does not exist", () => {
    expect(evaluateCondition({ type: "allPodsReady" }, "deployment", undefined, healthy)).toBe(
      "workload not found",
    );
  });

  it("reads ready replicas from the workload's status", () => {
    const condition = { type: "readyReplicasAtLeast", count: 2 } as const;
    expect(evaluateCondition(condition, "deployment", workload(2), [])).toBeUndefined();
    expect(evaluateCondition(condition, "deployment", workload(1), [])).toBe("too few ready replicas");
    const daemonSet: Workload = { metadata: { name: "d" }, status: { numberReady: 3 } };
    expect(evaluateCondition(condition, "daemonset", daemonSet, [])).toBeUndefined();
  });

  it("needs every current pod of the selector Ready, and as many as wanted", () => {
    const condition = { type: "allPodsReady" } as const;
    expect(evaluateCondition(condition, "deployment", workload(2), healthy)).toBeUndefined();
    const replaced = [pod("a", {}), pod("b", { deleting: true, ready: false }), pod("c", { ready: false })];
    expect(evaluateCondition(condition, "deployment", workload(2), replaced)).toBe("pod not ready");
    const short = [pod("a", {}), pod("b", { deleting: true })];
    expect(evaluateCondition(condition, "deployment", workload(2), short)).toBe("too few pods");
  });

  it("sums container restarts over the workload's pods only", () => {
    const restarted = [pod("a", { restarts: 1 }), pod("b", { restarts: 1 }), ...healthy.slice(2)];
    const atMost = (count: number) => ({ type: "restartCountAtMost", count }) as const;
    expect(evaluateCondition(atMost(2), "deployment", workload(2), restarted)).toBeUndefined();
    expect(evaluateCondition(atMost(1), "deployment", workload(2), restarted)).toBe("too many restarts");
  });

  it("checks a status condition is True", () => {
    const available = { type: "statusCondition", conditionType: "Available" } as const;
    const progressing = { type: "statusCondition", conditionType: "Progressing" } as const;
    expect(evaluateCondition(available, "deployment", workload(2), [])).toBeUndefined();
    expect(evaluateCondition(progressing, "deployment", workload(2), [])).toBe("Progressing not True");
  });
});

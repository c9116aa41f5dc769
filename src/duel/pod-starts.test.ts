import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { configMapsOf, PodStartFold, startsWhile } from "./pod-starts.js";

function pod(name: string, restarts: number, spec: V1Pod["spec"] = { containers: [{ name: "app" }] }): V1Pod {
  return {
    metadata: { name, namespace: "shop", uid: `uid-${name}`, labels: { app: "web" } },
    spec,
    status: {
      containerStatuses: [{ name: "app", restartCount: restarts, ready: true, image: "i", imageID: "" }],
    },
  };
}

describe("pods that started or restarted while a drift held", () => {
  it("counts a pod first seen from the watch and a restart, not the first list or other changes", () => {
    const fold = new PodStartFold();
    fold.onEvent({ type: "ADDED", object: pod("old", 0), receivedAt: 100, origin: "list" });
    fold.onEvent({ type: "MODIFIED", object: pod("old", 0), receivedAt: 200, origin: "watch" });
    fold.onEvent({ type: "ADDED", object: pod("new", 0), receivedAt: 300, origin: "watch" });
    fold.onEvent({ type: "MODIFIED", object: pod("old", 1), receivedAt: 400, origin: "watch" });
    fold.onEvent({ type: "DELETED", object: pod("new", 0), receivedAt: 500, origin: "watch" });
    expect(fold.starts.map((start) => [start.name, start.why, start.at])).toEqual([
      ["new", "started", 300],
      ["old", "restarted", 400],
    ]);
    const workload = { kind: "workload", namespace: "shop", matchLabels: { app: "web" } } as const;
    expect(startsWhile(fold.starts, workload, 250, 400)).toHaveLength(1);
    expect(startsWhile(fold.starts, workload, 0, 1000)).toHaveLength(2);
    expect(startsWhile(fold.starts, { ...workload, matchLabels: { app: "db" } }, 0, 1000)).toHaveLength(0);
    expect(
      startsWhile(fold.starts, { kind: "configmap", namespace: "shop", name: "app" }, 0, 1000),
    ).toHaveLength(0);
  });

  it("knows a ConfigMap's readers: volumes, projected sources, envFrom and env", () => {
    const spec: V1Pod["spec"] = {
      volumes: [
        { name: "a", configMap: { name: "mounted" } },
        { name: "b", projected: { sources: [{ configMap: { name: "projected" } }] } },
      ],
      initContainers: [{ name: "init", envFrom: [{ configMapRef: { name: "from" } }] }],
      containers: [
        { name: "app", env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "key", key: "k" } } }] },
      ],
    };
    expect(configMapsOf(pod("p", 0, spec))).toEqual(["from", "key", "mounted", "projected"]);
    expect(configMapsOf(pod("q", 0))).toEqual([]);
  });
});

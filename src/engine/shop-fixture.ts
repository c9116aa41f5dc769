import type { V1Pod } from "@kubernetes/client-node";
import type { MemoryEngine } from "./memory-engine.js";

/**
 * The engine's unit tests' cluster: namespace shop, Deployment web (4 replicas) through ReplicaSet
 * web-abc, its pods on kwok-node-0. For tests with the in-memory engine only.
 */

const replicaSet = {
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  name: "web-abc",
  uid: "rs-1",
  controller: true,
};

/** A pod of web, Ready unless `ready` is false. */
export function webPod(name: string, ready = true): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: "shop", name, labels: { app: "web" }, ownerReferences: [replicaSet] },
    spec: { nodeName: "kwok-node-0", containers: [] },
    status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

/** Deployment web, 4 replicas wanted, `available` of them available. */
export function webDeployment(available: number) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { namespace: "shop", name: "web" },
    spec: { replicas: 4, selector: { matchLabels: { app: "web" } } },
    status: { availableReplicas: available },
  };
}

/** Namespace shop: Deployment web, its ReplicaSet, four Ready pods (web-abc-1 to 4). */
export function putShop(engine: MemoryEngine): void {
  const { cluster } = engine;
  cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  cluster.put(webDeployment(4));
  cluster.put({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      namespace: "shop",
      name: "web-abc",
      uid: "rs-1",
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d", controller: true },
      ],
    },
  });
  for (const n of [1, 2, 3, 4]) cluster.put(webPod(`web-abc-${String(n)}`));
}

import { ApiException, type V1Namespace, type V1Pod, type V1ReplicaSet } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import type { KubeClients } from "./client.js";
import { gatherPodFacts, podFactsOf, replicaSetOwner, workloadOwner } from "./pod-facts.js";

interface PodOptions {
  namespace?: string;
  owner?: { kind: string; name: string; controller?: boolean; apiVersion?: string };
  node?: string;
  phase?: string;
  ready?: boolean;
  deleting?: boolean;
}

function pod(name: string, options: PodOptions = {}): V1Pod {
  const owner = options.owner;
  return {
    metadata: {
      name,
      namespace: options.namespace ?? "shop",
      uid: `uid-${name}`,
      labels: { app: "web" },
      ...(owner === undefined
        ? {}
        : {
            ownerReferences: [
              {
                apiVersion: owner.apiVersion ?? "apps/v1",
                kind: owner.kind,
                name: owner.name,
                uid: `uid-${owner.name}`,
                controller: owner.controller ?? true,
              },
            ],
          }),
      ...(options.deleting === true ? { deletionTimestamp: new Date(0) } : {}),
    },
    spec: { containers: [], ...(options.node === undefined ? {} : { nodeName: options.node }) },
    status: {
      ...(options.phase === undefined ? {} : { phase: options.phase }),
      conditions: [{ type: "Ready", status: options.ready === true ? "True" : "False" }],
    },
  };
}

function replicaSet(namespace: string, name: string, deployment?: string): V1ReplicaSet {
  return {
    metadata: {
      name,
      namespace,
      ...(deployment === undefined
        ? {}
        : {
            ownerReferences: [
              { apiVersion: "apps/v1", kind: "Deployment", name: deployment, uid: "d", controller: true },
            ],
          }),
    },
  };
}

function namespace(name: string, annotations: Record<string, string> = {}): V1Namespace {
  return { metadata: { name, annotations } };
}

const notFound = () => new ApiException(404, "Not Found", "{}", {});

/** A cluster in memory that counts the requests made of it. */
function fakeCluster(objects: { pods: V1Pod[]; replicaSets: V1ReplicaSet[]; namespaces: V1Namespace[] }) {
  const calls: string[] = [];
  const inNamespace = <T extends { metadata?: { namespace?: string } }>(items: T[], ns: string) =>
    items.filter((item) => item.metadata?.namespace === ns);
  const kube = {
    wire: {
      pods: (path: string) => {
        const ns = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path)?.[1];
        if (ns === undefined && path !== "/api/v1/pods")
          return Promise.reject(new Error(`no LIST of ${path}`));
        calls.push(ns === undefined ? "list pods" : `list pods ${ns}`);
        return Promise.resolve(ns === undefined ? objects.pods : inNamespace(objects.pods, ns));
      },
    },
    core: {
      readNamespace: ({ name }: { name: string }) => {
        calls.push(`read namespace ${name}`);
        const found = objects.namespaces.find((ns) => ns.metadata?.name === name);
        return found === undefined ? Promise.reject(notFound()) : Promise.resolve(found);
      },
      listNamespace: () => {
        calls.push("list namespaces");
        return Promise.resolve({ items: objects.namespaces });
      },
    },
    apps: {
      listNamespacedReplicaSet: ({ namespace: ns }: { namespace: string }) => {
        calls.push(`list replicasets ${ns}`);
        return Promise.resolve({ items: inNamespace(objects.replicaSets, ns) });
      },
      listReplicaSetForAllNamespaces: () => {
        calls.push("list replicasets");
        return Promise.resolve({ items: objects.replicaSets });
      },
      readNamespacedReplicaSet: ({ namespace: ns, name }: { namespace: string; name: string }) => {
        calls.push(`read replicaset ${ns}/${name}`);
        return name === "late-1" ? Promise.resolve(replicaSet(ns, name, "late")) : Promise.reject(notFound());
      },
    },
  } as unknown as KubeClients;
  return { kube, calls };
}

describe("the facts of one pod", () => {
  it("reads identity, labels, node, phase, Ready and deletion from the pod", () => {
    const facts = podFactsOf(
      pod("web-1", { node: "n1", phase: "Running", ready: true, deleting: true }),
      { kind: "Deployment", name: "web" },
      { "broadside.dev/chaos": "enabled" },
    );
    expect(facts).toMatchObject({
      namespace: "shop",
      name: "web-1",
      uid: "uid-web-1",
      labels: { app: "web" },
      nodeName: "n1",
      phase: "Running",
      ready: true,
      deleting: true,
      owner: { kind: "Deployment", name: "web" },
      namespaceAnnotations: { "broadside.dev/chaos": "enabled" },
    });
  });

  it("leaves nodeName and owner out when there are none, and reads a missing phase as Pending", () => {
    const facts = podFactsOf(pod("bare"), undefined, {});
    expect("nodeName" in facts).toBe(false);
    expect("owner" in facts).toBe(false);
    expect(facts).toMatchObject({ phase: "Pending", ready: false, deleting: false });
    expect(podFactsOf(pod("odd", { phase: "Exploded" }), undefined, {}).phase).toBe("Unknown");
  });
});

describe("the workload that owns a pod", () => {
  const owners = new Map([["shop/web-abc", { kind: "Deployment", name: "web" }]]);

  it("follows a ReplicaSet to its Deployment", () => {
    expect(workloadOwner(pod("p", { owner: { kind: "ReplicaSet", name: "web-abc" } }), owners)).toEqual({
      kind: "Deployment",
      name: "web",
    });
  });

  it("keeps a ReplicaSet nobody owns, and other controllers as they are", () => {
    expect(workloadOwner(pod("p", { owner: { kind: "ReplicaSet", name: "solo" } }), owners)).toEqual({
      kind: "ReplicaSet",
      name: "solo",
    });
    for (const kind of ["StatefulSet", "DaemonSet", "Job"]) {
      expect(workloadOwner(pod("p", { owner: { kind, name: "w" } }), owners)).toEqual({ kind, name: "w" });
    }
  });

  it("gives a pod without a controller reference no owner", () => {
    expect(workloadOwner(pod("bare"), owners)).toBeUndefined();
    const notController = pod("p", { owner: { kind: "ReplicaSet", name: "web-abc", controller: false } });
    expect(workloadOwner(notController, owners)).toBeUndefined();
  });

  it("names a ReplicaSet's controller, or the ReplicaSet itself", () => {
    expect(replicaSetOwner(replicaSet("shop", "web-abc", "web"))).toEqual({
      kind: "Deployment",
      name: "web",
    });
    expect(replicaSetOwner(replicaSet("shop", "solo"))).toEqual({ kind: "ReplicaSet", name: "solo" });
  });
});

describe("gathering pod facts from the cluster", () => {
  const objects = {
    pods: [
      pod("web-1", { owner: { kind: "ReplicaSet", name: "web-abc" } }),
      pod("web-2", { owner: { kind: "ReplicaSet", name: "web-abc" } }),
      pod("late-1-x", { owner: { kind: "ReplicaSet", name: "late-1" } }),
      pod("db-0", { namespace: "data", owner: { kind: "StatefulSet", name: "db" } }),
      pod("tools", { namespace: "ops" }),
    ],
    replicaSets: [replicaSet("shop", "web-abc", "web"), replicaSet("data", "unrelated", "x")],
    namespaces: [namespace("shop", { team: "a" }), namespace("data"), namespace("ops")],
  };

  it("makes a constant number of requests per namespace, whatever the number of pods", async () => {
    const { kube, calls } = fakeCluster(objects);
    const { pods, facts } = await gatherPodFacts(kube, ["shop", "data", "ops", "shop"]);
    expect(pods).toHaveLength(5);
    expect(facts.map((f) => [f.name, f.owner?.kind, f.owner?.name])).toEqual([
      ["web-1", "Deployment", "web"],
      ["web-2", "Deployment", "web"],
      ["late-1-x", "Deployment", "late"],
      ["db-0", "StatefulSet", "db"],
      ["tools", undefined, undefined],
    ]);
    expect(facts[0]?.namespaceAnnotations).toEqual({ team: "a" });
    // ReplicaSets are listed only where a pod needs one; the one created after the list is read once.
    expect(calls.sort()).toEqual(
      [
        "list pods shop",
        "list pods data",
        "list pods ops",
        "read namespace shop",
        "read namespace data",
        "read namespace ops",
        "list replicasets shop",
        "read replicaset shop/late-1",
      ].sort(),
    );
  });

  it("lists cluster-wide for all namespaces", async () => {
    const { kube, calls } = fakeCluster(objects);
    const { facts } = await gatherPodFacts(kube, "all");
    expect(facts.map((f) => f.owner?.name)).toEqual(["web", "web", "late", "db", undefined]);
    expect(calls.sort()).toEqual(
      ["list namespaces", "list pods", "list replicasets", "read replicaset shop/late-1"].sort(),
    );
  });

  it("makes no request for no namespaces", async () => {
    const { kube, calls } = fakeCluster(objects);
    expect(await gatherPodFacts(kube, [])).toEqual({ pods: [], facts: [] });
    expect(calls).toEqual([]);
  });

  it("refuses a namespace that does not exist rather than report no pods", async () => {
    const { kube } = fakeCluster(objects);
    const failure = await gatherPodFacts(kube, ["shpo"]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BroadsideError);
    expect((failure as BroadsideError).code).toBe("BRD_USAGE");
    expect((failure as BroadsideError).message).toContain('"shpo" does not exist');
  });

  it("keeps a ReplicaSet that vanished between the lists as the owner", async () => {
    const { kube } = fakeCluster({
      ...objects,
      pods: [pod("gone-1", { owner: { kind: "ReplicaSet", name: "gone" } })],
    });
    const { facts } = await gatherPodFacts(kube, ["shop"]);
    expect(facts[0]?.owner).toEqual({ kind: "ReplicaSet", name: "gone" });
  });
});

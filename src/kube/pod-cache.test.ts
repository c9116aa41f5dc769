import type { V1Pod } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../core/fake-clock.js";
import { WorkloadDownCap } from "../core/limits/down-cap.js";
import { planTargets } from "../core/targeting/plan.js";
import { defaultRails, indexPods } from "../core/targeting/rails.js";
import type { Mode, PodFacts, Selector } from "../core/targeting/types.js";
import { MemoryCluster } from "./memory-cluster.js";
import { PodCache } from "./pod-cache.js";
import { trimPod } from "./trimmed.js";
import type { GatheredPods } from "./pod-facts.js";
import { victimSpec } from "./recovery/fold.js";

/*
 * The agent's pod cache keeps only some fields of each pod. The story: a cluster of realistic pods (full
 * specs, container statuses, managedFields), gathered once by listing and once from the trimmed cache,
 * gives the same facts, the same plans for every kind of selector and mode, and the same recovery specs.
 */

const caches: PodCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.stop()));
});

/** A pod as the API server returns it: most of its bytes are what no reader of the cache needs. */
function fullPod(namespace: string, index: number, owner: "web" | "db" | undefined): V1Pod {
  const ready = index % 4 !== 0;
  const ownerReferences =
    owner === "web"
      ? [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7f9c", uid: "rs-uid", controller: true }]
      : owner === "db"
        ? [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "sts-uid", controller: true }]
        : undefined;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${owner ?? "bare"}-${index}`,
      namespace,
      labels: { app: owner ?? "bare", shard: String(index % 3) },
      annotations: { "team.example/owner": index % 2 === 0 ? "payments" : "search" },
      creationTimestamp: new Date(1_700_000_000_000 + index),
      ...(index === 5 ? { deletionTimestamp: new Date(1_700_000_100_000) } : {}),
      ...(ownerReferences === undefined ? {} : { ownerReferences }),
    },
    spec: {
      nodeName: `node-${index % 2}`,
      containers: [
        {
          name: "app",
          image: "registry.example/app:1.2.3",
          env: [{ name: "MODE", value: "production" }],
          resources: { requests: { cpu: "100m", memory: "64Mi" } },
        },
      ],
      volumes: [{ name: "token", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } }],
    },
    status: {
      phase: index === 7 ? "Pending" : "Running",
      podIP: `10.0.0.${index}`,
      conditions: [
        { type: "Ready", status: ready ? "True" : "False", lastTransitionTime: new Date(1_700_000_000_000) },
        { type: "PodScheduled", status: "True" },
      ],
      containerStatuses: [
        { name: "app", image: "registry.example/app:1.2.3", imageID: "sha256:abc", ready, restartCount: 2 },
      ],
    },
  };
}

function fillCluster(cluster: MemoryCluster): void {
  const optedIn = { "broadside.dev/chaos": "enabled" };
  cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop", annotations: optedIn } });
  cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "lab" } });
  cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system" } });
  cluster.put({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: "web-7f9c",
      namespace: "shop",
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d-uid", controller: true },
      ],
    },
  });
  const owners = ["web", "db", undefined] as const;
  for (let index = 0; index < 24; index += 1) {
    const owner = owners[index % 3];
    cluster.put(fullPod(index < 18 ? "shop" : "lab", index, owner));
  }
  cluster.put(fullPod("kube-system", 99, undefined));
}

async function rig(): Promise<{ cluster: MemoryCluster; cache: PodCache }> {
  const clock = new FakeClock(1_700_000_000_000);
  const cluster = new MemoryCluster(clock);
  fillCluster(cluster);
  const cache = new PodCache({ watches: cluster.watches, clock, fallback: cluster });
  caches.push(cache);
  await cache.start();
  return { cluster, cache };
}

function byUid(gathered: GatheredPods): GatheredPods {
  const order = (a: { uid: string }, b: { uid: string }) => a.uid.localeCompare(b.uid);
  const uidOf = (pod: V1Pod) => ({ uid: pod.metadata?.uid ?? "" });
  return {
    pods: [...gathered.pods].sort((a, b) => order(uidOf(a), uidOf(b))),
    facts: [...gathered.facts].sort(order),
  };
}

/** The same sequence of draws for both plans, so any difference comes from the facts. */
function seeded(): () => number {
  let state = 7;
  return () => {
    state = (state * 48_271) % 2_147_483_647;
    return state / 2_147_483_647;
  };
}

const selectors: readonly Selector[] = [
  {},
  { labelSelector: "app=web" },
  { labelSelector: "shard in (0,1),app!=db" },
  { annotationSelectors: { "team.example/owner": "payments" } },
  { fieldSelectors: { nodeName: "node-1", phase: "Running" } },
  { podPhases: { include: ["Pending"] } },
  { nodeNames: ["node-0"], namespaces: ["shop"] },
  { pods: [{ namespace: "shop", name: "db-4" }] },
];
const modes: readonly Mode[] = [
  { kind: "one" },
  { kind: "all" },
  { kind: "fixed", count: 3 },
  { kind: "fixed-percent", percent: 50 },
];

function uids(facts: readonly PodFacts[]): string[] {
  return facts.map((pod) => pod.uid);
}

describe("the agent's pod cache", () => {
  it("trims a pod to the fields the engine reads, and the bytes shrink by most", () => {
    const pod = fullPod("shop", 1, "web");
    const trimmed = trimPod(pod);
    expect(Object.keys(trimmed.metadata ?? {}).sort()).toEqual([
      "annotations",
      "creationTimestamp",
      "labels",
      "name",
      "namespace",
      "ownerReferences",
    ]);
    expect(trimmed.spec).toEqual({ nodeName: "node-1", containers: [] });
    expect(trimmed.status).toEqual({
      phase: "Running",
      conditions: [
        { type: "Ready", status: "True" },
        { type: "PodScheduled", status: "True" },
      ],
    });
    expect(JSON.stringify(trimmed).length).toBeLessThan(JSON.stringify(pod).length / 2);
  });

  it("gathers the same facts from trimmed pods as listing the full ones does", async () => {
    const { cluster, cache } = await rig();
    for (const scope of ["all", ["shop"], ["lab", "shop"]] as const) {
      const listed = byUid(await cluster.gather(scope));
      const cached = byUid(await cache.gather(scope));
      expect(cached.facts).toEqual(listed.facts);
      expect(cached.facts.length).toBe(scope === "all" ? 25 : scope.length === 1 ? 18 : 24);
      // The Deployment behind the ReplicaSet, not the ReplicaSet: the blast-radius cap counts by it.
      expect(cached.facts.find((pod) => pod.name === "web-0")?.owner).toEqual({
        kind: "Deployment",
        name: "web",
      });
      // Recovery timing reads the victims' pods themselves.
      expect(cached.pods.map((pod) => victimSpec(pod, undefined))).toEqual(
        listed.pods.map((pod) => victimSpec(pod, undefined)),
      );
    }
  });

  it("plans the same targets from the cache as from a listing, for every selector and mode", async () => {
    const { cluster, cache } = await rig();
    const listed = byUid(await cluster.gather("all")).facts;
    const cached = byUid(await cache.gather("all")).facts;
    for (const optIn of [false, true]) {
      const rails = defaultRails("broadside-system", { optIn });
      for (const selector of selectors) {
        for (const mode of modes) {
          const fromList = planTargets(listed, selector, mode, rails, seeded());
          const fromCache = planTargets(cached, selector, mode, rails, seeded());
          expect(uids(fromCache.selected)).toEqual(uids(fromList.selected));
          expect(fromCache.excluded.map((e) => [e.pod.uid, e.by, e.reason])).toEqual(
            fromList.excluded.map((e) => [e.pod.uid, e.by, e.reason]),
          );
          expect(fromCache.warnings).toEqual(fromList.warnings);
        }
      }
    }
    // The rig is not trivial: some plans select, the rails exclude, a terminating pod is skipped.
    const rails = defaultRails("broadside-system", { optIn: true });
    const everything = planTargets(cached, {}, { kind: "all" }, rails, seeded());
    expect(everything.selected.length).toBeGreaterThan(0);
    expect(everything.excluded.some((e) => e.by === "rail")).toBe(true);
  });

  it("plans the same with the cache's index as without it, the caps within and across runs included", async () => {
    const { cache } = await rig();
    const gathered = await cache.gather("all");
    const index = gathered.index;
    if (index === undefined) throw new Error("the cache keeps an index");
    // A tight cap and a loose one: the first drops pods, so the counts the index keeps are put to work.
    for (const fraction of [0.34, 0.5, 1]) {
      const rails = defaultRails("broadside-system", { maxFractionOfReadyPerWorkload: fraction });
      for (const selector of selectors) {
        for (const mode of modes) {
          const walked = planTargets(gathered.facts, selector, mode, rails, seeded());
          const indexed = planTargets(gathered.facts, selector, mode, rails, seeded(), index);
          expect(indexed).toEqual(walked);
          // Across runs: another run holds a pod of each workload down, then this one asks.
          const walkedCap = new WorkloadDownCap();
          const indexedCap = new WorkloadDownCap();
          walkedCap.admit(walked.selected.slice(0, 1), gathered.facts, rails);
          indexedCap.admit(walked.selected.slice(0, 1), gathered.facts, rails, index);
          const second = walkedCap.admit(walked.selected, gathered.facts, rails);
          const secondIndexed = indexedCap.admit(walked.selected, gathered.facts, rails, index);
          expect(uids(secondIndexed.admitted)).toEqual(uids(second.admitted));
          expect(secondIndexed.dropped).toEqual(second.dropped);
        }
      }
    }
    const tight = defaultRails("broadside-system", { maxFractionOfReadyPerWorkload: 0.34 });
    const capped = planTargets(gathered.facts, {}, { kind: "all" }, tight, seeded(), index);
    expect(capped.excluded.some((e) => e.reason.startsWith("blast-radius cap"))).toBe(true);
  });

  it("keeps each pod's facts true when its namespace opts in or its ReplicaSet gets a new owner", async () => {
    const { cluster, cache } = await rig();
    await cache.gather("all"); // facts computed once, then kept
    cluster.put({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "lab", annotations: { "broadside.dev/chaos": "enabled" } },
    });
    cluster.put({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: "web-7f9c",
        namespace: "shop",
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "Deployment", name: "web-v2", uid: "d2-uid", controller: true },
        ],
      },
    });
    const unready = fullPod("shop", 3, "web");
    unready.status = { phase: "Running", conditions: [] };
    cluster.put(unready);

    const listed = byUid(await cluster.gather("all"));
    const cached = byUid(await cache.gather("all"));
    expect(cached.facts).toEqual(listed.facts);
    expect(cached.facts.find((pod) => pod.name === "web-0")?.owner).toEqual({
      kind: "Deployment",
      name: "web-v2",
    });
    expect(cached.facts.find((pod) => pod.name === "web-3")?.ready).toBe(false);
  });

  it("keeps its ready pods per workload counted through changes, as a fresh walk over its facts counts them", async () => {
    const { cluster, cache } = await rig();
    const first = await cache.gather(["shop"]);
    expect(first.index?.readyPerWorkload).toEqual(indexPods(first.facts).readyPerWorkload);
    // A pod becomes unready, one is deleted (another takes its slot), one is added, one starts terminating.
    const unready = fullPod("shop", 1, "db");
    unready.status = { phase: "Running", conditions: [] };
    cluster.put(unready);
    cluster.remove("Pod", "shop", "web-0");
    cluster.put(fullPod("shop", 41, "web"));
    const leaving = fullPod("shop", 4, "db");
    if (leaving.metadata !== undefined) leaving.metadata.deletionTimestamp = new Date(1_700_000_200_000);
    cluster.put(leaving);
    const second = await cache.gather(["shop"]);
    expect(second.index?.readyPerWorkload).toEqual(indexPods(second.facts).readyPerWorkload);
    expect(byUid(second).facts).toEqual(byUid(await cluster.gather(["shop"])).facts);
    // What the first gather handed out is a copy: the changes since did not move it.
    expect(first.facts.map((pod) => pod.name)).toContain("web-0");
    expect(first.index?.readyPerWorkload).toEqual(indexPods(first.facts).readyPerWorkload);
    // Two namespaces add up.
    const both = await cache.gather(["shop", "lab"]);
    expect(both.index?.readyPerWorkload).toEqual(indexPods(both.facts).readyPerWorkload);
  });

  it("follows the cluster: a new pod is a target, a deleted one is not", async () => {
    const { cluster, cache } = await rig();
    cluster.put(fullPod("shop", 40, undefined));
    cluster.remove("Pod", "shop", "bare-2");
    const names = (await cache.gather(["shop"])).facts.map((pod) => pod.name);
    expect(names).toContain("bare-40");
    expect(names).not.toContain("bare-2");
  });

  it("asks the cluster about a namespace it has not seen, so a typo is still a usage error", async () => {
    const { cache } = await rig();
    await expect(cache.gather(["nope"])).rejects.toThrow(/namespace "nope" does not exist/);
  });
});

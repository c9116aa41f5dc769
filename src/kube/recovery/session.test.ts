import type { V1Pod } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../core/fake-clock.js";
import { MemoryCluster } from "../memory-cluster.js";
import { PodCache } from "../pod-cache.js";
import type { WatchSources } from "../watch/source.js";
import { startRecoveryTiming } from "./session.js";
import type { RecoverySession } from "./types.js";

const t0 = 1_700_000_000_000;
const ownedByReplicaSet = [
  { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-abc", uid: "rs", controller: true },
];

function pod(name: string, ready = true, labels: Record<string, string> = {}): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: "shop", name, labels, ownerReferences: ownedByReplicaSet },
    spec: { nodeName: "kwok-node-0", containers: [] },
    status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

function deployment(available: number) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { namespace: "shop", name: "web" },
    spec: { replicas: 2, selector: {} },
    status: { availableReplicas: available },
  };
}

/** A Deployment of two Ready pods; the story goes on as each test tells it. */
function shop() {
  const clock = new FakeClock(t0);
  const cluster = new MemoryCluster(clock);
  cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  cluster.put(deployment(2));
  const victim = cluster.put(pod("web-abc-1")) as V1Pod;
  cluster.put(pod("web-abc-2"));
  return { clock, cluster, victim };
}

const sessions: RecoverySession[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close();
});

async function start(cluster: MemoryCluster, clock: FakeClock, victim: V1Pod): Promise<RecoverySession> {
  const session = await startRecoveryTiming(
    { watches: cluster.watches, clock },
    [{ pod: victim, owner: { kind: "Deployment", name: "web" } }],
    { timeoutMs: 60_000, waitForVictimsGone: true },
  );
  sessions.push(session);
  return session;
}

describe("a recovery session on supervised informers", () => {
  it("stamps each milestone when its watch event arrives", async () => {
    const { clock, cluster, victim } = shop();
    const session = await start(cluster, clock, victim);
    const uid = victim.metadata?.uid ?? "";
    session.requested(uid);
    await clock.advance(5);
    cluster.remove("Pod", "shop", "web-abc-1");
    session.fired(uid, { accepted: true, at: clock.now() });
    cluster.put(deployment(1));
    await clock.advance(10);
    cluster.put(pod("web-abc-3", false));
    await clock.advance(2000);
    cluster.put(pod("web-abc-3"));
    await clock.advance(5);
    cluster.put(deployment(2));
    const report = await session.finish();
    expect(report.complete).toBe(true);
    expect(report.victims[0]).toMatchObject({
      acceptedMs: 5,
      goneMs: 5,
      replacement: { pod: { name: "web-abc-3" }, createdMs: 15, scheduledMs: 15, readyMs: 2015 },
    });
    expect(report.workloads[0]).toMatchObject({ status: "restored", restoredMs: 2020 });
  });

  it("rides out a 410 Gone: the relist shows the victim DELETED and the replacement ADDED, never the pods that were there", async () => {
    const { clock, cluster, victim } = shop();
    const session = await start(cluster, clock, victim);
    const uid = victim.metadata?.uid ?? "";
    session.requested(uid);
    cluster.expireWatches();
    // While the informers wait to relist: the shot, the replacement, and a change to the other pod.
    cluster.remove("Pod", "shop", "web-abc-1");
    session.fired(uid, { accepted: true, at: clock.now() });
    cluster.put(pod("web-abc-3"));
    cluster.put(pod("web-abc-2", true, { touched: "yes" }));
    cluster.put(deployment(1));
    cluster.put(deployment(2));
    await clock.advance(1000);
    const report = await session.finish();

    expect(report.complete).toBe(true);
    expect(report.watchFailure).toBeUndefined();
    const [timeline] = report.victims;
    if (timeline?.replacement.expected !== true) throw new Error("a replacement was expected");
    expect(timeline.replacement.pod?.name).toBe("web-abc-3");
    // Every milestone of the relist is stamped when the relist arrived: one moment, after the backoff.
    const relistedAt = timeline.goneMs ?? 0;
    expect(relistedAt).toBeGreaterThanOrEqual(100);
    expect(relistedAt).toBeLessThan(1000);
    expect(timeline.replacement).toMatchObject({
      createdMs: relistedAt,
      scheduledMs: relistedAt,
      readyMs: relistedAt,
    });
  });

  it("says which watch was still failing when milestones are missing at the timeout", async () => {
    const { clock, cluster, victim } = shop();
    let down = false;
    const unreachable = () => Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    // The cluster's own collections, cut off while `down`: the API server went away for good.
    const watches: WatchSources = (query) => {
      const source = cluster.watches(query);
      return {
        list: (signal) => (down ? Promise.reject(unreachable()) : source.list(signal)),
        watch: (version, onEvent, onDone) =>
          down ? Promise.reject(unreachable()) : source.watch(version, onEvent, onDone),
      };
    };
    const session = await startRecoveryTiming(
      { watches, clock },
      [{ pod: victim, owner: { kind: "Deployment", name: "web" } }],
      { timeoutMs: 60_000, waitForVictimsGone: false },
    );
    sessions.push(session);
    const uid = victim.metadata?.uid ?? "";
    session.requested(uid);
    cluster.remove("Pod", "shop", "web-abc-1");
    session.fired(uid, { accepted: true, at: clock.now() });
    down = true;
    cluster.expireWatches();
    const finished = session.finish();
    await clock.advance(60_000);
    const report = await finished;
    expect(report.complete).toBe(false);
    expect(report.victims[0]?.goneMs).toBe(0);
    expect(report.watchFailure).toMatch(
      /^listing (pods in namespace shop|Deployment shop\/web) failed: .*ECONNREFUSED.*still retrying/,
    );
  });

  it("follows the agent's synced pod cache instead of listing the pods: only the workload is listed", async () => {
    const { clock, cluster, victim } = shop();
    const cache = new PodCache({ watches: cluster.watches, clock, fallback: cluster });
    await cache.start();
    const listed: string[] = [];
    const watches: WatchSources = (query) => {
      const source = cluster.watches(query);
      return {
        list: (signal) => {
          listed.push(
            query.fieldSelector === undefined ? query.path : `${query.path}?${query.fieldSelector}`,
          );
          return source.list(signal);
        },
        watch: (version, onEvent, onDone) => source.watch(version, onEvent, onDone),
      };
    };
    try {
      const session = await startRecoveryTiming(
        { watches, clock, podFacts: cache },
        [{ pod: victim, owner: { kind: "Deployment", name: "web" } }],
        { timeoutMs: 60_000, waitForVictimsGone: true },
      );
      sessions.push(session);
      expect(listed).toEqual(["/apis/apps/v1/namespaces/shop/deployments?metadata.name=web"]);

      const uid = victim.metadata?.uid ?? "";
      session.requested(uid);
      await clock.advance(5);
      cluster.remove("Pod", "shop", "web-abc-1");
      session.fired(uid, { accepted: true, at: clock.now() });
      cluster.put(deployment(1));
      await clock.advance(10);
      cluster.put(pod("web-abc-3"));
      cluster.put(deployment(2));
      const report = await session.finish();

      expect(report.complete).toBe(true);
      expect(report.victims[0]).toMatchObject({
        goneMs: 5,
        replacement: { pod: { name: "web-abc-3" }, createdMs: 15, readyMs: 15 },
      });
    } finally {
      await cache.stop();
    }
  });

  it("lists and watches the pods itself when the cache has not synced yet", async () => {
    const { clock, cluster, victim } = shop();
    const cache = new PodCache({ watches: cluster.watches, clock, fallback: cluster });
    const session = await startRecoveryTiming(
      { watches: cluster.watches, clock, podFacts: cache },
      [{ pod: victim, owner: { kind: "Deployment", name: "web" } }],
      { timeoutMs: 60_000, waitForVictimsGone: true },
    );
    sessions.push(session);
    const uid = victim.metadata?.uid ?? "";
    session.requested(uid);
    cluster.remove("Pod", "shop", "web-abc-1");
    session.fired(uid, { accepted: true, at: clock.now() });
    cluster.put(pod("web-abc-3"));
    const report = await session.finish();

    expect(report.victims[0]).toMatchObject({ goneMs: 0, replacement: { pod: { name: "web-abc-3" } } });
  });
});

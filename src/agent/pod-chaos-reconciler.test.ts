import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { Duration } from "../core/duration.js";
import { optional } from "../core/objects.js";
import { ConflictError } from "../core/ledger/store.js";
import { memoryEngine, type MemoryEngine } from "../engine/memory-engine.js";
import { MemoryEventRecorder } from "../kube/events.js";
import type { ResourceRef, StatusWriter } from "../kube/resource-status.js";
import type { ResourceStatus } from "./crds/status.js";
import type { ChaosObject } from "./chaos-object.js";
import { podChaosReconciler } from "./pod-chaos-reconciler.js";

/** The status writes, in order, with what the cluster had been asked to do by then. */
class RecordingStatus implements StatusWriter {
  readonly writes: { kind: "claim" | "report"; status: ResourceStatus; clusterWrites: number }[] = [];
  conflict = false;

  /** What the API server has now, when it is newer than the informer's cache. */
  stored: ResourceStatus | undefined;

  constructor(private readonly engine: MemoryEngine) {}

  read(): Promise<{ status?: unknown } | undefined> {
    return Promise.resolve({ status: this.stored ?? this.last });
  }

  claim(_ref: ResourceRef, _version: string, status: object): Promise<void> {
    if (this.conflict) return Promise.reject(new ConflictError("changed"));
    this.writes.push({ kind: "claim", status, clusterWrites: this.engine.cluster.writes.length });
    return Promise.resolve();
  }

  report(_ref: ResourceRef, status: object): Promise<void> {
    this.writes.push({ kind: "report", status, clusterWrites: this.engine.cluster.writes.length });
    return Promise.resolve();
  }

  get last(): ResourceStatus | undefined {
    return this.writes.at(-1)?.status;
  }
}

function webPod(name: string): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace: "shop",
      name,
      uid: `uid-${name}`,
      labels: { app: "web" },
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-abc", uid: "rs-1", controller: true },
      ],
    },
    spec: { nodeName: "kwok-node-0", containers: [] },
    status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
  };
}

/** Namespace shop, opted in, with Deployment web's three pods; the agent's rails (opt-in on). */
function agentEngine(): MemoryEngine {
  const engine = memoryEngine({ optIn: true });
  engine.cluster.put({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "shop", annotations: { "broadside.dev/chaos": "enabled" } },
  });
  engine.cluster.put({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { namespace: "shop", name: "web" },
    spec: { replicas: 3, selector: { matchLabels: { app: "web" } } },
    status: { availableReplicas: 3 },
  });
  engine.cluster.put({
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
  for (const name of ["web-1", "web-2", "web-3"]) engine.cluster.put(webPod(name));
  return engine;
}

function podChaos(overrides: Partial<ChaosObject> = {}): ChaosObject {
  return {
    metadata: { namespace: "shop", name: "kill-one", generation: 1, resourceVersion: "7" },
    spec: { action: "pod-kill", mode: "one", selector: { labelSelectors: { app: "web" } } },
    ...overrides,
  };
}

function reconcilerFor(
  engine: MemoryEngine,
  object: ChaosObject,
  status: StatusWriter,
  events = new MemoryEventRecorder(),
  nodeDaemons = true,
) {
  return podChaosReconciler({
    resource: { apiVersion: "broadside.dev/v1alpha1", kind: "PodChaos", plural: "podchaos" },
    ctx: engine.ctx,
    get: (namespace, name) =>
      namespace === object.metadata?.namespace && name === object.metadata.name ? object : undefined,
    status,
    recoveryTimeout: Duration.parse("1s", "recoveryTimeout"),
    haltedRetryMs: 10_000,
    events,
    nodeDaemons,
  });
}

/** Generation 1 claimed (Injected=Unknown) and never finished: what a restart in mid-shot leaves. */
const claimedGeneration1: ResourceStatus = {
  observedGeneration: 1,
  conditions: [
    {
      type: "Injected",
      status: "Unknown",
      reason: "Injecting",
      lastTransitionTime: "2026-01-15T09:00:00.000Z",
    },
  ],
};

const conditionsOf = (status: ResourceStatus | undefined) =>
  Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason ?? ""}`]));

describe("the PodChaos reconciler: one shot per generation, claimed in the status before it is fired", () => {
  it("tells kubectl describe what happened with Events, once per change", async () => {
    const engine = agentEngine();
    const status = new RecordingStatus(engine);
    const events = new MemoryEventRecorder();
    const done = reconcilerFor(engine, podChaos(), status, events)("shop/kill-one");
    await engine.clock.advance(2_000);
    await done;
    expect(events.events.map((e) => `${e.type} ${e.reason}`)).toEqual([
      "Normal Shot",
      "Warning NotRecovered",
    ]);
    expect(events.events[0]?.subject).toMatchObject({
      kind: "PodChaos",
      namespace: "shop",
      name: "kill-one",
    });

    // Held by the kill switch, looked at again and again: one event, not one per look.
    const halted = new MemoryEventRecorder();
    await engine.halt.hold({ by: "oncall@laptop", reason: "incident 42" });
    const again = podChaos({
      metadata: { namespace: "shop", name: "kill-one", generation: 2, resourceVersion: "9" },
    });
    const reconcile = reconcilerFor(engine, { ...again, ...optional("status", status.last) }, status, halted);
    await reconcile("shop/kill-one");
    const later = reconcilerFor(engine, { ...again, ...optional("status", status.last) }, status, halted);
    await later("shop/kill-one");
    expect(halted.events.map((e) => `${e.type} ${e.reason}`)).toEqual(["Normal Halted"]);
  });

  it("claims the generation, shoots one pod through the ledger, then reports targets and conditions", async () => {
    const engine = agentEngine();
    const status = new RecordingStatus(engine);
    const done = reconcilerFor(engine, podChaos(), status)("shop/kill-one");
    await engine.clock.advance(2_000);
    expect(await done).toEqual({});

    // The claim before any write; a report once the shot is in (so "injected" is told then, not only
    // after recovery); the final report once recovery is known.
    expect(status.writes.map((w) => [w.kind, w.clusterWrites])).toEqual([
      ["claim", 0],
      ["report", 1],
      ["report", 1],
    ]);
    expect(conditionsOf(status.writes[0]?.status)).toMatchObject({ Injected: "Unknown/Injecting" });
    expect(conditionsOf(status.writes[1]?.status)).toMatchObject({
      Selected: "True/Selected",
      Injected: "True/Shot",
    });
    expect(conditionsOf(status.writes[1]?.status)).toMatchObject({ Recovered: "Unknown/Recovering" });
    expect(status.writes[1]?.status.targets).toMatchObject([{ kind: "Pod", outcome: "injected" }]);
    expect(status.last?.observedGeneration).toBe(1);
    expect(conditionsOf(status.last)).toMatchObject({
      Selected: "True/Selected",
      Injected: "True/Shot",
      Failed: "False/Ran",
    });
    const [target] = status.last?.targets ?? [];
    expect(target).toMatchObject({ kind: "Pod", namespace: "shop", outcome: "injected" });
    const records = await engine.ledger.list();
    expect(records.map((r) => r.id)).toEqual([target?.ledgerRecord]);
  });

  it("never shoots a generation claimed before (a restart, a new leader): it says the run was interrupted", async () => {
    const engine = agentEngine();
    const status = new RecordingStatus(engine);
    const claimed = claimedGeneration1;
    // The API server agrees: nobody finished it.
    status.stored = claimed;
    await reconcilerFor(engine, podChaos({ status: claimed }), status)("shop/kill-one");
    expect(engine.cluster.writes).toEqual([]);
    expect(conditionsOf(status.last)).toMatchObject({
      Failed: "True/Interrupted",
      Injected: "False/Interrupted",
    });
  });

  it("ends a run interrupted while timing recovery, so a Schedule does not wait on it forever", async () => {
    const engine = agentEngine();
    const status = new RecordingStatus(engine);
    const shotThenStopped: ResourceStatus = {
      observedGeneration: 1,
      conditions: [
        { type: "Injected", status: "True", reason: "Shot", lastTransitionTime: "2026-01-15T09:00:01.000Z" },
        {
          type: "Recovered",
          status: "Unknown",
          reason: "Recovering",
          lastTransitionTime: "2026-01-15T09:00:01.000Z",
        },
      ],
    };
    status.stored = shotThenStopped;
    await reconcilerFor(engine, podChaos({ status: shotThenStopped }), status)("shop/kill-one");
    expect(engine.cluster.writes).toEqual([]);
    expect(conditionsOf(status.last)).toMatchObject({
      Injected: "True/Shot",
      Recovered: "False/Interrupted",
      Failed: "True/Interrupted",
    });
  });

  it("trusts the API server over a lagging cache: its own finished run is not called interrupted", async () => {
    const engine = agentEngine();
    const status = new RecordingStatus(engine);
    const claimedInCache = claimedGeneration1;
    status.stored = {
      observedGeneration: 1,
      conditions: [
        { type: "Injected", status: "True", reason: "Shot", lastTransitionTime: "2026-01-15T09:00:01.000Z" },
      ],
    };
    await reconcilerFor(engine, podChaos({ status: claimedInCache }), status)("shop/kill-one");
    expect(status.writes).toEqual([]);
    expect(engine.cluster.writes).toEqual([]);
  });

  it("leaves a paused PodChaos alone and says so", async () => {
    const engine = agentEngine();
    const status = new RecordingStatus(engine);
    const paused = podChaos();
    const object = {
      ...paused,
      metadata: { ...paused.metadata, annotations: { "broadside.dev/paused": "true" } },
    };
    await reconcilerFor(engine, object, status)("shop/kill-one");
    expect(engine.cluster.writes).toEqual([]);
    expect(conditionsOf(status.last)).toEqual({ Paused: "True/Paused" });
  });

  it("waits while the kill switch is held, looking again in 10 s", async () => {
    const engine = agentEngine();
    const status = new RecordingStatus(engine);
    await engine.halt.hold({ by: "oncall@laptop", reason: "incident 42" });
    const result = await reconcilerFor(engine, podChaos(), status)("shop/kill-one");
    expect(result).toEqual({ requeueAfterMs: 10_000 });
    expect(engine.cluster.writes).toEqual([]);
    expect(status.last?.conditions?.[0]).toMatchObject({ type: "Paused", reason: "Halted" });
    expect(status.last?.conditions?.[0]?.message).toContain("incident 42");
  });

  it("reports a spec the file reader refuses as Failed, naming the field, and claims nothing", async () => {
    const engine = agentEngine();
    const status = new RecordingStatus(engine);
    const bad = podChaos({
      spec: { action: "pod-kill", mode: "fixed", selector: { labelSelectors: { app: "web" } } },
    });
    await reconcilerFor(engine, bad, status)("shop/kill-one");
    expect(status.writes.map((w) => w.kind)).toEqual(["report"]);
    expect(conditionsOf(status.last)).toEqual({ Failed: "True/InvalidSpec" });
    expect(status.last?.conditions?.[0]?.message).toContain("value");
  });

  it("fires nothing when its claim loses a race: the queue retries with the object as it is now", async () => {
    const engine = agentEngine();
    const status = new RecordingStatus(engine);
    status.conflict = true;
    await expect(reconcilerFor(engine, podChaos(), status)("shop/kill-one")).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(engine.cluster.writes).toEqual([]);
  });

  it("reports the opt-in rail's refusal: a namespace not annotated has no target", async () => {
    const engine = agentEngine();
    engine.cluster.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
    const status = new RecordingStatus(engine);
    const done = reconcilerFor(engine, podChaos(), status)("shop/kill-one");
    await engine.clock.advance(2_000);
    await done;
    expect(engine.cluster.writes).toEqual([]);
    expect(conditionsOf(status.last)).toMatchObject({
      Selected: "False/NoTarget",
      Injected: "False/NoTarget",
    });
  });
});

describe("a container-kill PodChaos: handed to the node daemons, or refused where there are none", () => {
  function containerKill(containerNames: string[]): ChaosObject {
    return podChaos({
      metadata: { namespace: "shop", name: "kill-web", generation: 1, resourceVersion: "7" },
      spec: {
        action: "container-kill",
        mode: "one",
        selector: { labelSelectors: { app: "web" } },
        containerNames,
      },
    });
  }

  /** The shop's pods with two containers each, web and proxy. */
  function withContainers(engine: MemoryEngine): MemoryEngine {
    for (const name of ["web-1", "web-2", "web-3"]) {
      const pod = webPod(name);
      pod.spec = { nodeName: "kwok-node-0", containers: [{ name: "web" }, { name: "proxy" }] };
      engine.cluster.put(pod);
    }
    return engine;
  }

  it("is refused at once by an agent without --node-daemons, saying why; nothing claimed, nothing written", async () => {
    const engine = withContainers(agentEngine());
    const status = new RecordingStatus(engine);
    const events = new MemoryEventRecorder();
    const object = containerKill(["web"]);
    await reconcilerFor(engine, object, status, events, false)("shop/kill-web");
    expect(status.writes.map((w) => w.kind)).toEqual(["report"]);
    expect(conditionsOf(status.last)).toEqual({
      Injected: "False/NoNodeDaemons",
      Failed: "True/NoNodeDaemons",
    });
    const failed = status.last?.conditions?.find((c) => c.type === "Failed");
    expect(failed?.message).toContain("started without --node-daemons");
    expect(events.events.map((e) => `${e.type} ${e.reason}`)).toEqual([
      "Warning NoNodeDaemons",
      "Warning NoNodeDaemons",
    ]);
    expect(engine.cluster.writes).toEqual([]);
    expect(await engine.ledger.list()).toEqual([]);
  });

  it("refuses a container the pods lack, naming spec.containerNames, the pod and its containers; nothing written", async () => {
    const engine = withContainers(agentEngine());
    const status = new RecordingStatus(engine);
    await reconcilerFor(engine, containerKill(["sidecar"]), status)("shop/kill-web");
    expect(conditionsOf(status.last)).toMatchObject({ Injected: "False/Usage", Failed: "True/Usage" });
    const failed = status.last?.conditions?.find((c) => c.type === "Failed");
    expect(failed?.message).toMatch(
      /^spec\.containerNames: pod shop\/web-\d has no container "sidecar"; its containers: web, proxy$/,
    );
    expect(engine.cluster.writes).toEqual([]);
    expect(await engine.ledger.list()).toEqual([]);
  });
});

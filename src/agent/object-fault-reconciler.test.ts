import { describe, expect, it } from "vitest";
import { ConflictError } from "../core/ledger/store.js";
import { memoryEngine, type MemoryEngine } from "../engine/memory-engine.js";
import { putShop, webPod } from "../engine/shop-fixture.js";
import { defaultPauseImage } from "../faults/pod-failure.js";
import { MemoryEventRecorder } from "../kube/events.js";
import type { FinalizerWriter } from "../kube/finalizers.js";
import type { ResourceRef, StatusWriter } from "../kube/resource-status.js";
import type { ChaosObject } from "./chaos-object.js";
import { configDriftReconciler } from "./config-drift-reconciler.js";
import type { ResourceStatus } from "./crds/status.js";
import { ledgerReconciler } from "./ledger-reconciler.js";
import { byAction, podFailureReconciler } from "./pod-failure-reconciler.js";
import { revertFinalizer, type ObjectFaultPorts } from "./object-fault-reconciler.js";
import { resourceSqueezeReconciler } from "./resource-squeeze-reconciler.js";
import { scaleReconciler } from "./scale-reconciler.js";
import { conditionOf } from "./status.js";

/**
 * The object faults' reconciler over the engine's in-memory cluster and ledger, with the chaos resource
 * itself kept by a small in-memory API server (MemoryResource): versions, conditional writes, and a
 * deletion that waits for the finalizers, as the real one does.
 */

interface StoredMetadata {
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  resourceVersion: string;
  finalizers?: string[];
  deletionTimestamp?: string;
  annotations?: Record<string, string>;
}

interface Stored {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: StoredMetadata;
  readonly spec: unknown;
  readonly status?: ResourceStatus;
}

/** One chaos resource as the API server keeps it, and its status and finalizer writes. */
class MemoryResource implements StatusWriter, FinalizerWriter {
  object: Stored | undefined;
  private version = 1;
  /** When set, status reports fail: the agent died after its change, before saying so. */
  failReports = false;

  constructor(
    kind: string,
    spec: unknown,
    private readonly log: string[],
  ) {
    this.object = {
      apiVersion: "broadside.dev/v1alpha1",
      kind,
      metadata: { namespace: "shop", name: "drift-1", uid: "res-1", generation: 1, resourceVersion: "1" },
      spec,
    };
  }

  /** The informer's view: a copy of what the API server holds. */
  get = (): ChaosObject | undefined => (this.object === undefined ? undefined : structuredClone(this.object));

  read(): Promise<{ status?: unknown } | undefined> {
    return Promise.resolve(this.object === undefined ? undefined : { status: this.object.status });
  }

  claim(_ref: ResourceRef, resourceVersion: string, status: object): Promise<void> {
    this.log.push("claim");
    if (this.object?.metadata.resourceVersion !== resourceVersion)
      return Promise.reject(new ConflictError("changed"));
    return this.report(_ref, status, false);
  }

  report(_ref: ResourceRef, status: object, logged = true): Promise<void> {
    if (logged) this.log.push("report");
    if (logged && this.failReports) return Promise.reject(new Error("SIGKILL"));
    if (this.object !== undefined) {
      this.object = { ...this.object, status: { ...this.object.status, ...status } };
      this.bump();
    }
    return Promise.resolve();
  }

  set(
    _ref: ResourceRef,
    resourceVersion: string,
    finalizers: readonly string[],
  ): Promise<string | undefined> {
    this.log.push(`finalizers ${JSON.stringify(finalizers)}`);
    const object = this.object;
    if (object === undefined) return Promise.resolve(undefined);
    if (object.metadata.resourceVersion !== resourceVersion)
      return Promise.reject(new ConflictError("changed"));
    object.metadata.finalizers = [...finalizers];
    // The API server removes a deleted object once its last finalizer is gone.
    if (object.metadata.deletionTimestamp !== undefined && finalizers.length === 0) this.object = undefined;
    return Promise.resolve(this.bump());
  }

  /** `kubectl apply` of an edited spec: a new generation. */
  edit(spec: unknown): void {
    if (this.object === undefined) return;
    this.object = { ...this.object, spec };
    this.object.metadata.generation += 1;
    this.bump();
  }

  /** `kubectl delete`: gone at once without finalizers, marked for deletion with them. */
  delete(): void {
    if (this.object === undefined) return;
    if ((this.object.metadata.finalizers ?? []).length === 0) this.object = undefined;
    else this.object.metadata.deletionTimestamp = "2026-01-15T09:00:01Z";
    this.bump();
  }

  annotate(annotations: Record<string, string>): void {
    if (this.object === undefined) return;
    this.object.metadata.annotations = annotations;
    this.bump();
  }

  get status(): ResourceStatus | undefined {
    return this.object?.status;
  }

  private bump(): string {
    this.version += 1;
    if (this.object !== undefined) this.object.metadata.resourceVersion = String(this.version);
    return String(this.version);
  }
}

interface Fixture {
  readonly engine: MemoryEngine;
  readonly resource: MemoryResource;
  readonly events: MemoryEventRecorder;
  /** Every write of the resource and of the cluster, in order. */
  readonly log: string[];
  readonly reconcile: () => Promise<{ requeueAfterMs?: number }>;
  /** The agent's ledger loop, once: reverts what is past its deadline. */
  readonly ledgerPass: () => Promise<unknown>;
}

const driftSpec = {
  namespace: "shop",
  kind: "configmap",
  name: "app",
  key: "LOG_LEVEL",
  value: "debug",
  duration: "3s",
};

type Make = (ports: ObjectFaultPorts) => (key: string) => Promise<{ requeueAfterMs?: number }>;

function fixture(
  kind = "ConfigDrift",
  spec: unknown = driftSpec,
  make: Make = configDriftReconciler,
): Fixture {
  const engine = memoryEngine({ optIn: true });
  const log: string[] = [];
  engine.cluster.put({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "shop", annotations: { "broadside.dev/chaos": "enabled" } },
  });
  engine.cluster.put({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { namespace: "shop", name: "app" },
    data: { LOG_LEVEL: "info", MODE: "prod" },
  });
  engine.cluster.beforeWrite = async (write) => {
    log.push(`cluster ${write} (ledger records: ${(await engine.ledger.list()).length})`);
  };
  const resource = new MemoryResource(kind, spec, log);
  const events = new MemoryEventRecorder();
  const plural = `${kind.toLowerCase()}s`;
  const reconcile = make({
    resource: { apiVersion: "broadside.dev/v1alpha1", kind, plural },
    ctx: engine.ctx,
    get: resource.get,
    status: resource,
    finalizers: resource,
    events,
    haltedRetryMs: 10_000,
    pendingCheckMs: 5_000,
  });
  const ledgerPass = ledgerReconciler({
    ledger: engine.ledger,
    targets: engine.ctx.targets,
    clock: engine.clock,
    resyncMs: 60_000,
    watchedNamespaces: "all",
    onRecovered: () => undefined,
    onOpen: () => undefined,
  });
  return {
    engine,
    resource,
    events,
    log,
    reconcile: () => reconcile("shop/drift-1"),
    ledgerPass,
  };
}

function logLevel(engine: MemoryEngine): unknown {
  return (engine.cluster.get("ConfigMap", "shop", "app")?.data as Record<string, string> | undefined)
    ?.LOG_LEVEL;
}

/** "type=status/reason" for each condition, sorted: a whole status at a glance. */
function conditionsOf(status: ResourceStatus | undefined): string[] {
  return (status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason ?? ""}`).sort();
}

describe("a ConfigDrift: one injection per generation, reverted at its deadline, finalizer only while pending", () => {
  it("adds the finalizer, claims the generation, writes the ledger record, then changes the ConfigMap", async () => {
    const { engine, resource, log, reconcile } = fixture();
    const result = await reconcile();

    expect(log).toEqual([
      `finalizers ${JSON.stringify([revertFinalizer])}`,
      "claim",
      "cluster patch ConfigMap shop/app (ledger records: 1)",
      "report",
    ]);
    expect(logLevel(engine)).toBe("debug");
    expect(resource.object?.metadata.finalizers).toEqual([revertFinalizer]);
    expect(conditionsOf(resource.status)).toEqual([
      "Failed=False/Running",
      "Injected=True/Injected",
      "Paused=False/Running",
      "Recovered=False/RevertPending",
    ]);
    const [record] = await engine.ledger.list();
    // The record names its owner, so deleting the resource reverts it and its closing requeues it.
    expect(record?.owner).toEqual({
      apiVersion: "broadside.dev/v1alpha1",
      kind: "ConfigDrift",
      namespace: "shop",
      name: "drift-1",
      uid: "res-1",
    });
    expect(record?.deadline).toBe(engine.clock.now() + 3_000);
    expect(resource.status?.targets).toEqual([
      expect.objectContaining({
        kind: "ConfigMap",
        name: "app",
        outcome: "injected",
        ledgerRecord: record?.id,
      }),
    ]);
    expect(result).toEqual({ requeueAfterMs: 5_000 });
  });

  it("never injects the same generation twice", async () => {
    const { engine, reconcile } = fixture();
    await reconcile();
    await reconcile();
    await engine.clock.advance(1_000);
    await reconcile();
    expect(await engine.ledger.list()).toHaveLength(1);
    expect(engine.cluster.writes).toEqual(["patch ConfigMap shop/app"]);
  });

  it("turns Recovered once the ledger reverts it at the deadline, then lets the finalizer go", async () => {
    const { engine, resource, events, reconcile, ledgerPass } = fixture();
    await reconcile();
    await engine.clock.advance(3_000);
    await ledgerPass();
    expect(logLevel(engine)).toBe("info");

    await reconcile();
    expect(conditionOf(resource.status, "Recovered")).toMatchObject({ status: "True", reason: "Reverted" });
    expect(resource.status?.targets).toEqual([expect.objectContaining({ outcome: "reverted" })]);
    expect(resource.object?.metadata.finalizers).toEqual([revertFinalizer]);
    await reconcile();
    expect(resource.object?.metadata.finalizers).toEqual([]);
    expect(events.events.map((event) => `${event.type} ${event.reason}`)).toEqual([
      "Normal Injected",
      "Normal Reverted",
    ]);
    // Nothing more to do: a further pass writes nothing.
    const writes = engine.cluster.writes.length;
    expect(await reconcile()).toEqual({});
    expect(engine.cluster.writes).toHaveLength(writes);
  });

  it("reverts at once when the resource is deleted before its deadline, and the object goes", async () => {
    const { engine, resource, reconcile } = fixture();
    await reconcile();
    resource.delete();
    expect(resource.object).toBeDefined();

    await reconcile();
    expect(logLevel(engine)).toBe("info");
    expect((await engine.ledger.list()).map((record) => record.outcome?.kind)).toEqual(["reverted"]);
    expect(resource.object).toBeUndefined();
  });

  it("closes the record as gone and lets the finalizer go when the target is deleted", async () => {
    const { engine, resource, reconcile } = fixture();
    await reconcile();
    engine.cluster.remove("ConfigMap", "shop", "app");

    await reconcile();
    expect((await engine.ledger.list()).map((record) => record.outcome?.kind)).toEqual(["target-gone"]);
    expect(conditionOf(resource.status, "Recovered")).toMatchObject({ status: "True", reason: "TargetGone" });
    await reconcile();
    expect(resource.object?.metadata.finalizers).toEqual([]);
  });

  it("is never stuck deleting when its target is gone", async () => {
    const { engine, resource, reconcile } = fixture();
    await reconcile();
    engine.cluster.remove("ConfigMap", "shop", "app");
    resource.delete();
    await reconcile();
    expect(resource.object).toBeUndefined();
    expect((await engine.ledger.list()).map((record) => record.outcome?.kind)).toEqual(["target-gone"]);
  });

  it("reverts the last generation's change before injecting an edited spec", async () => {
    const { engine, resource, reconcile } = fixture();
    await reconcile();
    resource.edit({ ...driftSpec, key: "MODE", value: "chaos" });

    await reconcile();
    const data = engine.cluster.get("ConfigMap", "shop", "app")?.data;
    expect(data).toEqual({ LOG_LEVEL: "info", MODE: "chaos" });
    const records = await engine.ledger.list();
    expect(records.map((record) => `${record.path} ${record.outcome?.kind ?? record.state}`).sort()).toEqual([
      "/data/LOG_LEVEL reverted",
      "/data/MODE active",
    ]);
    expect(resource.status?.observedGeneration).toBe(2);
    expect(resource.object?.metadata.finalizers).toEqual([revertFinalizer]);
  });

  it("takes no finalizer when nothing was injected", async () => {
    const { resource, reconcile } = fixture();
    resource.annotate({ "broadside.dev/paused": "true" });
    await reconcile();
    resource.delete();
    expect(resource.object).toBeUndefined();
  });
});

describe("a ConfigDrift refused or held back changes nothing in the cluster", () => {
  it("fails InvalidSpec naming the field, without a finalizer or a ledger record", async () => {
    const { engine, resource, log, events, reconcile } = fixture("ConfigDrift", {
      ...driftSpec,
      key: "no/slash",
    });
    await reconcile();
    expect(conditionOf(resource.status, "Failed")).toMatchObject({ status: "True", reason: "InvalidSpec" });
    expect(conditionOf(resource.status, "Failed")?.message).toMatch(/^spec\.key: /);
    expect(log).toEqual(["report"]);
    expect(await engine.ledger.list()).toEqual([]);
    expect(events.events.map((event) => `${event.type} ${event.reason}`)).toEqual(["Warning InvalidSpec"]);
  });

  it("fails InvalidSpec when the target does not exist, naming spec.name", async () => {
    const { engine, resource, reconcile } = fixture("ConfigDrift", { ...driftSpec, name: "nothere" });
    await reconcile();
    expect(conditionOf(resource.status, "Failed")?.message).toBe(
      "spec.name: configmap shop/nothere not found",
    );
    expect(engine.cluster.writes).toEqual([]);
    expect(resource.object?.metadata.finalizers).toBeUndefined();
  });

  it("is Paused while the kill switch is held, and looks again in 10 s", async () => {
    const { engine, resource, reconcile } = fixture();
    await engine.halt.hold({ reason: "gameday over", by: "ops", since: engine.clock.now() });
    expect(await reconcile()).toEqual({ requeueAfterMs: 10_000 });
    expect(conditionOf(resource.status, "Paused")).toMatchObject({ status: "True", reason: "Halted" });
    expect(engine.cluster.writes).toEqual([]);
    expect(await engine.ledger.list()).toEqual([]);
  });

  it("injects nothing when the claim loses to a newer version", async () => {
    const { engine, resource, reconcile } = fixture();
    const stale = resource.get();
    resource.annotate({ note: "someone edited it" });
    const reconcileStale = configDriftReconciler({
      resource: { apiVersion: "broadside.dev/v1alpha1", kind: "ConfigDrift", plural: "configdrifts" },
      ctx: engine.ctx,
      get: () => stale,
      status: resource,
      finalizers: resource,
      events: new MemoryEventRecorder(),
      haltedRetryMs: 10_000,
      pendingCheckMs: 5_000,
    });
    await expect(reconcileStale("shop/drift-1")).rejects.toThrow(ConflictError);
    expect(engine.cluster.writes).toEqual([]);
    expect(await reconcile()).toEqual({ requeueAfterMs: 5_000 });
  });
});

describe("a ConfigDrift whose agent stopped mid-injection", () => {
  it("is not injected again: Interrupted, its ledger record followed to Recovered and the finalizer released", async () => {
    const { engine, resource, reconcile, ledgerPass } = fixture();
    // The first agent wrote the finalizer, the claim and the record, applied the change, and died.
    resource.failReports = true;
    await expect(reconcile()).rejects.toThrow("SIGKILL");
    resource.failReports = false;
    expect(logLevel(engine)).toBe("debug");
    expect(conditionOf(resource.status, "Injected")?.status).toBe("Unknown");

    await reconcile();
    expect(await engine.ledger.list()).toHaveLength(1);
    expect(conditionOf(resource.status, "Failed")).toMatchObject({ status: "True", reason: "Interrupted" });
    expect(conditionOf(resource.status, "Injected")).toMatchObject({ status: "True", reason: "Interrupted" });
    await engine.clock.advance(3_000);
    await ledgerPass();
    await reconcile();
    await reconcile();
    expect(conditionOf(resource.status, "Recovered")?.status).toBe("True");
    expect(resource.object?.metadata.finalizers).toEqual([]);
    expect(logLevel(engine)).toBe("info");
  });
});

describe("ResourceSqueeze and Scale share the reconciler", () => {
  function withWeb(fix: Fixture): Fixture {
    fix.engine.cluster.put({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { namespace: "shop", name: "web" },
      spec: {
        replicas: 3,
        template: {
          spec: { containers: [{ name: "web", resources: { limits: { cpu: "1", memory: "512Mi" } } }] },
        },
      },
    });
    return fix;
  }
  const web = () => fix.engine.cluster.get("Deployment", "shop", "web")?.spec as Record<string, unknown>;
  let fix: Fixture;

  it("squeezes a Deployment's limits and puts them back at the deadline", async () => {
    fix = withWeb(
      fixture(
        "ResourceSqueeze",
        { namespace: "shop", kind: "deployment", name: "web", cpu: "100m", memory: "64Mi", duration: "3s" },
        resourceSqueezeReconciler,
      ),
    );
    const before = structuredClone(web());
    await fix.reconcile();
    expect(JSON.stringify(web())).toContain('"cpu":"100m"');
    await fix.engine.clock.advance(3_000);
    await fix.ledgerPass();
    await fix.reconcile();
    await fix.reconcile();
    expect(web()).toEqual(before);
    expect(conditionOf(fix.resource.status, "Recovered")?.status).toBe("True");
    expect(fix.resource.object?.metadata.finalizers).toEqual([]);
  });

  it("scales a Deployment and puts its replicas back when the Scale is deleted", async () => {
    fix = withWeb(
      fixture(
        "Scale",
        { namespace: "shop", kind: "deployment", name: "web", replicas: 1, duration: "1h" },
        scaleReconciler,
      ),
    );
    await fix.reconcile();
    expect(web().replicas).toBe(1);
    fix.resource.delete();
    await fix.reconcile();
    expect(web().replicas).toBe(3);
    expect(fix.resource.object).toBeUndefined();
  });
});

describe("a PodChaos pod-failure: paused for its duration, put back by the ledger, at once on delete", () => {
  const webImage = "ghcr.io/shop/web:1.4@sha256:" + "c".repeat(64);
  const failureSpec = {
    action: "pod-failure",
    mode: "one",
    selector: { labelSelectors: { app: "web" } },
    duration: "3s",
  };

  /** The shop's four web pods, each running the web image, in the fixture's opted-in namespace. */
  function withPods(fix: Fixture): Fixture {
    putShop(fix.engine);
    fix.engine.cluster.put({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "shop", annotations: { "broadside.dev/chaos": "enabled" } },
    });
    for (const n of [1, 2, 3, 4]) {
      const pod = webPod(`web-abc-${String(n)}`);
      pod.spec = { nodeName: "kwok-node-0", containers: [{ name: "web", image: webImage }] };
      fix.engine.cluster.put(pod);
    }
    return fix;
  }

  function images(fix: Fixture): string[] {
    return [1, 2, 3, 4].map((n) => {
      const spec = fix.engine.cluster.get("Pod", "shop", `web-abc-${String(n)}`)?.spec as
        { containers: { image: string }[] } | undefined;
      return spec?.containers[0]?.image ?? "";
    });
  }

  const paused = (fix: Fixture) => images(fix).filter((image) => image === defaultPauseImage).length;

  it("records, then pauses one pod's container; the ledger puts the exact image back at the deadline", async () => {
    const fix = withPods(fixture("PodChaos", failureSpec, podFailureReconciler));
    expect(await fix.reconcile()).toEqual({ requeueAfterMs: 5_000 });
    expect(paused(fix)).toBe(1);
    expect(fix.log.filter((line) => line.startsWith("cluster"))).toEqual([
      expect.stringMatching(/^cluster patch Pod shop\/web-abc-\d \(ledger records: 1\)$/),
    ]);
    expect(conditionsOf(fix.resource.status)).toContain("Injected=True/Injected");
    expect(fix.resource.status?.targets).toEqual([
      expect.objectContaining({ kind: "Pod", outcome: "injected" }),
    ]);

    await fix.engine.clock.advance(3_000);
    await fix.ledgerPass();
    expect(images(fix)).toEqual([webImage, webImage, webImage, webImage]);
    await fix.reconcile();
    await fix.reconcile();
    expect(conditionOf(fix.resource.status, "Recovered")).toMatchObject({
      status: "True",
      reason: "Reverted",
    });
    expect(fix.resource.object?.metadata.finalizers).toEqual([]);
  });

  it("puts the images back at once when the PodChaos is deleted", async () => {
    const fix = withPods(fixture("PodChaos", { ...failureSpec, mode: "all" }, podFailureReconciler));
    await fix.reconcile();
    // mode all, but the blast-radius cap allows half of web's four Ready pods down.
    expect(paused(fix)).toBe(2);
    fix.resource.delete();
    await fix.reconcile();
    expect(paused(fix)).toBe(0);
    expect(fix.resource.object).toBeUndefined();
  });

  it("fails NoTarget, writing nothing, when no pod matches", async () => {
    const fix = withPods(
      fixture(
        "PodChaos",
        { ...failureSpec, selector: { labelSelectors: { app: "nothere" } } },
        podFailureReconciler,
      ),
    );
    await fix.reconcile();
    expect(conditionOf(fix.resource.status, "Failed")).toMatchObject({ status: "True", reason: "NoTarget" });
    expect(conditionOf(fix.resource.status, "Failed")?.message).toMatch(
      /^no pod selected; 4 left out \(4 by selector: /,
    );
    expect(fix.engine.cluster.writes).toEqual([]);
    expect(fix.resource.object?.metadata.finalizers).toBeUndefined();
  });

  it("fails InvalidSpec without a duration, naming it, writing nothing", async () => {
    const withoutDuration = { action: "pod-failure", mode: "one", selector: failureSpec.selector };
    const fix = withPods(fixture("PodChaos", withoutDuration, podFailureReconciler));
    await fix.reconcile();
    expect(conditionOf(fix.resource.status, "Failed")).toMatchObject({
      status: "True",
      reason: "InvalidSpec",
    });
    expect(conditionOf(fix.resource.status, "Failed")?.message).toContain("duration");
    expect(fix.engine.cluster.writes).toEqual([]);
  });

  it("is one PodChaos kind with two reconcilers, chosen by the object's action", async () => {
    const served: string[] = [];
    const objects: Record<string, { spec: { action: string } }> = {
      "shop/pause": { spec: { action: "pod-failure" } },
      "shop/kill": { spec: { action: "pod-kill" } },
    };
    const reconcile = byAction((namespace, name) => objects[`${namespace}/${name}`], {
      failure: (key) => {
        served.push(`failure ${key}`);
        return Promise.resolve({});
      },
      kill: (key) => {
        served.push(`kill ${key}`);
        return Promise.resolve({});
      },
    });
    for (const key of ["shop/pause", "shop/kill", "shop/gone"]) await reconcile(key);
    // A gone object goes to kill's reconciler, which has nothing to revert.
    expect(served).toEqual(["failure shop/pause", "kill shop/kill", "kill shop/gone"]);
  });
});

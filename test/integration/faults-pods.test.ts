import type { V1Deployment, V1Pod, V1StatefulSet } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import type { PodFacts } from "../../src/core/targeting/types.js";
import { podEvict } from "../../src/faults/pod-evict.js";
import { podKill } from "../../src/faults/pod-kill.js";
import { podFaults } from "../../src/faults/pod-registry.js";
import type { PodShotContext } from "../../src/faults/types.js";
import { gatherPodFacts } from "../../src/kube/pod-facts.js";
import { ClusterPods } from "../../src/kube/pods.js";
import { timeRecovery } from "../../src/kube/recovery/session.js";
import type { RecoveryReport, VictimTimeline } from "../../src/kube/recovery/types.js";
import { clientNodeSources } from "../../src/kube/watch/client-node-source.js";
import { adminClients, eventually, httpStatusOf, isReady, useTestNamespace } from "./harness.js";

// A short grace period keeps victims' graceful shutdown, which kwok honours, from slowing the tests down.
const gracePeriodSeconds = 2;

function podTemplate(app: string) {
  return {
    metadata: { labels: { app } },
    spec: {
      terminationGracePeriodSeconds: gracePeriodSeconds,
      containers: [{ name: "app", image: "registry.invalid/app:1" }],
    },
  };
}

function deployment(name: string, replicas: number): V1Deployment {
  return {
    metadata: { name },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate(name) },
  };
}

function statefulSet(name: string, replicas: number): V1StatefulSet {
  return {
    metadata: { name },
    spec: {
      replicas,
      serviceName: name,
      podManagementPolicy: "Parallel",
      selector: { matchLabels: { app: name } },
      template: podTemplate(name),
    },
  };
}

/** Ready pods of `app` that are not on their way out. */
async function readyPods(namespace: string, app: string): Promise<V1Pod[]> {
  const pods = await adminClients().core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return pods.items.filter((pod) => isReady(pod) && pod.metadata?.deletionTimestamp === undefined);
}

async function allReady(namespace: string, app: string, replicas: number): Promise<V1Pod[]> {
  return eventually(`${replicas} Ready pods of ${app}`, async () => {
    const pods = await readyPods(namespace, app);
    return pods.length === replicas ? pods : undefined;
  });
}

async function deploy(namespace: string, name: string, replicas: number): Promise<V1Pod[]> {
  await adminClients().apps.createNamespacedDeployment({ namespace, body: deployment(name, replicas) });
  await eventually(`Deployment ${name} to be available`, async () => {
    const read = await adminClients().apps.readNamespacedDeployment({ name, namespace });
    return read.status?.availableReplicas === replicas ? true : undefined;
  });
  return allReady(namespace, name, replicas);
}

/** The facts of the app's pods, as the engine would see them, with the pods they came from. */
async function targetsOf(namespace: string, app: string, count: number) {
  const { pods, facts } = await gatherPodFacts(adminClients(), [namespace]);
  const chosen = facts
    .map((fact, index) => ({ fact, pod: pods[index] }))
    .filter(
      (entry): entry is { fact: PodFacts; pod: V1Pod } =>
        entry.pod !== undefined && entry.fact.labels.app === app && entry.fact.ready && !entry.fact.deleting,
    )
    .slice(0, count);
  expect(chosen).toHaveLength(count);
  return chosen.map(({ fact, pod }) => ({ pod, owner: fact.owner }));
}

/** What pod faults act through, as the engine builds it: the cluster's pod API and the real clock. */
function shots(): PodShotContext {
  return { pods: new ClusterPods(adminClients()), clock: systemClock };
}

function kill(targets: Awaited<ReturnType<typeof targetsOf>>): Promise<RecoveryReport> {
  const watch = { watches: clientNodeSources(adminClients().config), clock: systemClock };
  return timeRecovery(watch, targets, { timeoutMs: 90_000, waitForVictimsGone: true }, (target) =>
    podFaults["pod-kill"].fire(shots(), target.pod, {}),
  );
}

/** accepted <= created <= scheduled <= Ready, every milestone seen, and the victim gone. */
function expectCompleteTimeline(timeline: VictimTimeline | undefined): void {
  if (timeline === undefined) throw new Error("no timeline");
  const { replacement } = timeline;
  expect(timeline.shot?.accepted).toBe(true);
  if (!replacement.expected) throw new Error(`no replacement expected: ${replacement.why}`);
  const figures = [replacement.createdMs, replacement.scheduledMs, replacement.readyMs];
  for (const figure of [timeline.acceptedMs, ...figures]) expect(figure).toBeTypeOf("number");
  const numbers = figures.map((figure) => figure ?? Number.NaN);
  expect([...numbers].sort((a, b) => a - b)).toEqual(numbers);
  // The DELETE's answer and the replacement's ADDED event race to this process: the ReplicaSet controller
  // may create the replacement before the answer is read (CI saw created at 17 ms, accepted at 20). Only
  // the answer before the replacement is Ready is a fact.
  expect(timeline.acceptedMs ?? Number.NaN).toBeLessThanOrEqual(replacement.readyMs ?? Number.NaN);
  expect(timeline.goneMs).toBeGreaterThanOrEqual(0);
  expect(replacement.pod?.uid).not.toBe(timeline.pod.uid);
}

describe("pod faults against a real control plane", () => {
  const namespace = useTestNamespace("it-faults-pods");

  it("gathers pod facts: Deployment and StatefulSet owners, bare pods, namespace annotations", async () => {
    const { core, apps } = adminClients();
    await core.patchNamespace({
      name: namespace(),
      body: [{ op: "add", path: "/metadata/annotations", value: { "broadside.dev/chaos": "enabled" } }],
    });
    await deploy(namespace(), "facts", 2);
    await apps.createNamespacedStatefulSet({ namespace: namespace(), body: statefulSet("facts-db", 1) });
    await core.createNamespacedPod({
      namespace: namespace(),
      body: { metadata: { name: "loner", labels: { app: "loner" } }, spec: podTemplate("loner").spec },
    });
    await allReady(namespace(), "facts-db", 1);

    const { pods, facts } = await gatherPodFacts(adminClients(), [namespace()]);
    expect(pods).toHaveLength(facts.length);
    const ownerOf = (app: string) => facts.filter((f) => f.labels.app === app).map((f) => f.owner);
    expect(ownerOf("facts")).toEqual([
      { kind: "Deployment", name: "facts" },
      { kind: "Deployment", name: "facts" },
    ]);
    expect(ownerOf("facts-db")).toEqual([{ kind: "StatefulSet", name: "facts-db" }]);
    expect(ownerOf("loner")).toEqual([undefined]);
    for (const fact of facts) {
      expect(fact.namespace).toBe(namespace());
      expect(fact.namespaceAnnotations["broadside.dev/chaos"]).toBe("enabled");
    }
    const ready = facts.find((f) => f.labels.app === "facts");
    expect(ready).toMatchObject({ phase: "Running", ready: true, deleting: false });
    expect(ready?.nodeName).toMatch(/^kwok-node-/);
  });

  it("kills one pod of a 3-replica Deployment and times its replacement and the Deployment's recovery", async () => {
    await deploy(namespace(), "solo", 3);
    const report = await kill(await targetsOf(namespace(), "solo", 1));
    expect(report.watchFailure).toBeUndefined();
    expect(report.complete).toBe(true);
    const [timeline] = report.victims;
    expectCompleteTimeline(timeline);
    expect(timeline?.workload).toEqual({ kind: "Deployment", namespace: namespace(), name: "solo" });
    expect(report.workloads).toMatchObject([{ status: "restored", desired: 3, available: 3 }]);
    const [restoration] = report.workloads;
    expect(restoration?.restoredMs).toBeGreaterThanOrEqual(
      timeline?.replacement.expected === true ? (timeline.replacement.readyMs ?? 0) : 0,
    );
    await allReady(namespace(), "solo", 3);
  });

  it("kills two pods of one Deployment at once and gives each its own replacement", async () => {
    await deploy(namespace(), "pair", 3);
    const targets = await targetsOf(namespace(), "pair", 2);
    const report = await kill(targets);
    expect(report.complete).toBe(true);
    expect(report.victims).toHaveLength(2);
    for (const timeline of report.victims) expectCompleteTimeline(timeline);
    const replacements = report.victims.map((t) =>
      t.replacement.expected ? t.replacement.pod?.uid : undefined,
    );
    expect(new Set(replacements).size).toBe(2);
    expect(report.workloads).toMatchObject([{ status: "restored", dipped: true }]);
  });

  it("kills a StatefulSet pod, whose replacement comes back under the same name with a new uid", async () => {
    await adminClients().apps.createNamespacedStatefulSet({
      namespace: namespace(),
      body: statefulSet("db", 2),
    });
    await allReady(namespace(), "db", 2);
    const report = await kill(await targetsOf(namespace(), "db", 1));
    expect(report.complete).toBe(true);
    const [timeline] = report.victims;
    expectCompleteTimeline(timeline);
    expect(timeline?.replacement.expected === true ? timeline.replacement.pod?.name : undefined).toBe(
      timeline?.pod.name,
    );
    // The StatefulSet controller waits for the old pod to be gone before it makes the new one.
    const created = timeline?.replacement.expected === true ? timeline.replacement.createdMs : undefined;
    expect(created).toBeGreaterThanOrEqual(timeline?.goneMs ?? Number.POSITIVE_INFINITY);
    expect(report.workloads).toMatchObject([
      { workload: { kind: "StatefulSet", name: "db" }, status: "restored" },
    ]);
  });

  it("reports that nothing replaces a bare pod", async () => {
    await adminClients().core.createNamespacedPod({
      namespace: namespace(),
      body: { metadata: { name: "stray", labels: { app: "stray" } }, spec: podTemplate("stray").spec },
    });
    await allReady(namespace(), "stray", 1);
    const report = await kill(await targetsOf(namespace(), "stray", 1));
    expect(report.complete).toBe(true);
    expect(report.victims[0]).toMatchObject({
      shot: { accepted: true },
      replacement: { expected: false, why: "a bare pod: no controller recreates it" },
    });
    expect(report.victims[0]?.goneMs).toBeGreaterThanOrEqual(0);
    expect(report.workloads).toEqual([]);
  });

  it("refuses to evict a pod whose PDB is at its minimum, leaving it untouched, and evicts once there is room", async () => {
    const { policy, core } = adminClients();
    const [victim] = await deploy(namespace(), "guarded", 2);
    if (victim === undefined) throw new Error("no pod to evict");
    await policy.createNamespacedPodDisruptionBudget({
      namespace: namespace(),
      body: {
        metadata: { name: "guarded-pdb" },
        spec: { minAvailable: 2, selector: { matchLabels: { app: "guarded" } } },
      },
    });
    const budgetSettled = (allowed: number) =>
      eventually(`the PDB to allow ${allowed} disruptions`, async () => {
        const pdb = await policy.readNamespacedPodDisruptionBudget({
          name: "guarded-pdb",
          namespace: namespace(),
        });
        const settled = pdb.status?.observedGeneration === pdb.metadata?.generation;
        return settled && pdb.status?.disruptionsAllowed === allowed ? true : undefined;
      });
    await budgetSettled(0);

    const refused = await podEvict.fire(shots(), victim, { gracePeriodSeconds: 1 });
    expect(refused).toMatchObject({ accepted: false, reason: "blocked by PDB guarded-pdb" });
    const untouched = await core.readNamespacedPod({
      name: victim.metadata?.name ?? "",
      namespace: namespace(),
    });
    expect(untouched.metadata?.uid).toBe(victim.metadata?.uid);
    expect(untouched.metadata?.deletionTimestamp).toBeUndefined();

    await policy.patchNamespacedPodDisruptionBudget({
      name: "guarded-pdb",
      namespace: namespace(),
      body: [{ op: "replace", path: "/spec/minAvailable", value: 1 }],
    });
    await budgetSettled(1);
    expect(await podEvict.fire(shots(), victim, {})).toMatchObject({ accepted: true });
    const evicted = await core
      .readNamespacedPod({ name: victim.metadata?.name ?? "", namespace: namespace() })
      .then(
        (pod) => pod.metadata?.deletionTimestamp !== undefined,
        (error: unknown) => httpStatusOf(error) === 404,
      );
    expect(evicted).toBe(true);
  });

  it("never kills a pod recreated under the victim's name: the uid precondition stops it", async () => {
    const { core } = adminClients();
    const body = {
      metadata: { name: "phoenix", labels: { app: "phoenix" } },
      spec: podTemplate("phoenix").spec,
    };
    const first = await core.createNamespacedPod({ namespace: namespace(), body });
    await core.deleteNamespacedPod({ name: "phoenix", namespace: namespace(), gracePeriodSeconds: 0 });
    await eventually("the first phoenix to be gone", () =>
      core.readNamespacedPod({ name: "phoenix", namespace: namespace() }).then(
        () => undefined,
        (error: unknown) => (httpStatusOf(error) === 404 ? true : undefined),
      ),
    );
    expect(await podKill.fire(shots(), first, {})).toMatchObject({
      accepted: false,
      reason: "already gone",
    });

    const second = await core.createNamespacedPod({ namespace: namespace(), body });
    expect(second.metadata?.uid).not.toBe(first.metadata?.uid);
    expect(await podKill.fire(shots(), first, {})).toMatchObject({
      accepted: false,
      reason: "already gone: a newer pod now has its name",
    });
    const survivor = await core.readNamespacedPod({ name: "phoenix", namespace: namespace() });
    expect(survivor.metadata?.uid).toBe(second.metadata?.uid);
    expect(survivor.metadata?.deletionTimestamp).toBeUndefined();
  });
});

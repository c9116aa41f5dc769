import type { V1Pod } from "@kubernetes/client-node";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { deployDemoFleet } from "../../src/demo/demo.js";
import { exampleRunArgs, withFlag } from "../../src/demo/example-command.js";
import { demoNamespaces } from "../../src/demo/fleet.js";
import { parseRunReport } from "../../src/experiments/report/json.js";
import { podRestarts } from "../../src/kube/pod-facts.js";
import type { RunReport } from "../../src/experiments/report/run-report.js";
import { adminClients, broadside, eventually, repoRoot, sandboxDoors } from "./harness.js";
import { integrationSandboxName } from "./names.js";

/**
 * pod-failure on the sandbox, from the seed-style example examples/chaos-mesh-podfailure.yaml run as its
 * header says: one storefront pod runs a pause image for 15 s. The sandbox's kubelet (a kwok Stage)
 * restarts the container, and its readinessProbe fails, so the pod turns unready; the images come back
 * exactly and the pod turns Ready again. Bad input writes nothing.
 */

const example = "chaos-mesh-podfailure.yaml";
const storefrontImage = "ghcr.io/stefanprodan/podinfo:6.7.1";
let reportDir = "";

beforeAll(async () => {
  reportDir = await mkdtemp(join(tmpdir(), "broadside-pod-failure-"));
  await deployDemoFleet(adminClients(), {
    frontDoorPorts: { kind: "auto" },
    doors: () => sandboxDoors(),
    clock: systemClock,
  });
  await storefrontReady(3);
}, 300_000);

afterAll(async () => {
  const kube = adminClients();
  for (const namespace of demoNamespaces()) {
    await kube.core.deleteNamespace({ name: namespace.metadata?.name ?? "" }).catch(() => undefined);
  }
}, 120_000);

async function storefrontPods(): Promise<V1Pod[]> {
  const list = await adminClients().core.listNamespacedPod({
    namespace: "demo-shop",
    labelSelector: "app=storefront",
  });
  return list.items;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

function storefrontReady(count: number): Promise<true> {
  return eventually(
    `${String(count)} storefront pods Ready`,
    async () => ((await storefrontPods()).filter(isReady).length === count ? true : undefined),
    180_000,
  );
}

/** Every write in demo-shop and every ledger record: equal before and after means nothing was written. */
async function writes(): Promise<string[]> {
  const kube = adminClients();
  const [pods, ledger] = await Promise.all([
    kube.core.listNamespacedPod({ namespace: "demo-shop" }),
    kube.core.listNamespacedConfigMap({ namespace: "broadside-system" }).catch(() => ({ items: [] })),
  ]);
  return [...pods.items, ...ledger.items]
    .map((o) => `${o.metadata?.name ?? ""}@${o.metadata?.resourceVersion ?? ""}`)
    .sort();
}

function runArgs(file: string, text: string): string[] {
  const args = exampleRunArgs(text, file);
  return withFlag(withFlag(args, "--sandbox", integrationSandboxName), "--report-dir", reportDir);
}

/** The file as the example has it, edited, written where run can read it. */
async function editedExample(edit: (text: string) => string): Promise<{ path: string; text: string }> {
  const text = edit(await readFile(join(repoRoot, "examples", example), "utf8"));
  const path = join(reportDir, `edited-${String(Date.now())}.yaml`);
  await writeFile(path, text);
  return { path, text: text.replace(`examples/${example}`, path) };
}

async function reportOf(stderr: string): Promise<RunReport> {
  const path = /reports: (\S+\.json)/.exec(stderr)?.[1];
  if (path === undefined) throw new Error(`no report written:\n${stderr}`);
  return parseRunReport(await readFile(path, "utf8"), path);
}

async function readinessLostAndRegained(seen: Map<string, boolean[]>, targetUid: string): Promise<void> {
  // Readiness lost during the pause, then regained; no other storefront pod lost it.
  expect(seen.get(targetUid) ?? []).toContain(false);
  await storefrontReady(3);
  for (const [uid, samples] of seen) if (uid !== targetUid) expect(samples.every(Boolean), uid).toBe(true);
}

/** The pod was never replaced; its image is back exactly; the kubelet restarted it twice (in, out). */
async function restoredExactly(targetUid: string, report: RunReport): Promise<void> {
  const after = (await storefrontPods()).find((pod) => pod.metadata?.uid === targetUid);
  expect(after?.spec?.containers.map((c) => c.image)).toEqual([storefrontImage]);
  await eventually("the restored container restarted and Ready", async () => {
    const pod = (await storefrontPods()).find((p) => p.metadata?.uid === targetUid);
    const status = pod?.status?.containerStatuses?.[0];
    const restarted = status?.image === storefrontImage && status.restartCount === 2;
    return restarted && pod !== undefined && isReady(pod) ? true : undefined;
  });
  expect(report.restarts?.targets).toEqual([
    expect.objectContaining({ name: after?.metadata?.name, change: 2 }),
  ]);
}

async function recordClosed(ledgerId: string): Promise<void> {
  const record = await adminClients().core.readNamespacedConfigMap({
    name: `ledger-${ledgerId}`,
    namespace: "broadside-system",
  });
  expect(record.metadata?.labels?.["broadside.dev/state"]).toBe("closed");
}

/** The pod-failure ledger records of a pod (by uid), with their state (from the record's label). */
async function podFailureRecords(uid: string): Promise<{ id: string; state: string }[]> {
  const listed = await adminClients().core.listNamespacedConfigMap({ namespace: "broadside-system" });
  return listed.items.flatMap((map) => {
    const record = JSON.parse(map.data?.["record.json"] ?? "{}") as RecordJson;
    if (record.faultKind !== "pod-failure" || record.target?.uid !== uid) return [];
    return [{ id: map.metadata?.name ?? "", state: stateOf(map.metadata?.labels) }];
  });
}

function stateOf(labels: Record<string, string> | undefined): string {
  return labels?.["broadside.dev/state"] ?? "";
}

interface RecordJson {
  faultKind?: string;
  target?: { uid?: string };
}

/** A bare pod in demo-shop (an init container and two containers, images pinned by digest), Running. */
async function bareHaltTarget(images: { init: string; web: string; side: string }): Promise<string> {
  const created = await adminClients().core.createNamespacedPod({
    namespace: "demo-shop",
    body: {
      metadata: { name: "halt-target", namespace: "demo-shop" },
      spec: {
        initContainers: [{ name: "init", image: images.init }],
        containers: [
          { name: "web", image: images.web },
          { name: "side", image: images.side },
        ],
      },
    },
  });
  await eventually("the pod Running", async () =>
    (await haltTargetNow()).phase === "Running" ? true : undefined,
  );
  return created.metadata?.uid ?? "";
}

async function haltTargetNow() {
  const read = await adminClients().core.readNamespacedPod({ name: "halt-target", namespace: "demo-shop" });
  return {
    phase: read.status?.phase,
    init: read.spec?.initContainers?.map((c) => c.image),
    containers: read.spec?.containers.map((c) => c.image),
  };
}

function defined<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`the report has no ${what}`);
  return value;
}

/** The paused pods of the report's first fault, a pod-failure. */
function pausedPods(report: RunReport) {
  const fault = report.faults[0];
  if (fault?.type !== "object") throw new Error("the first fault is not pod-failure's");
  return { pods: defined(fault.pods, "paused pods"), traffic: defined(fault.traffic?.[0], "traffic") };
}

/**
 * The outage: from the first failed sample to the last, every failed sample inside, traffic back at the
 * next sample (within one probe interval); nothing failed before the first pod was paused.
 */
function outageHoldsTheFailedSamples(report: RunReport): void {
  const failed = report.samples.filter((sample) => !sample.ok).map((sample) => sample.sentAt);
  expect(failed.length).toBeGreaterThan(0);
  const outage = defined(report.overall.probes[0]?.outage, "outage");
  expect(outage).toMatchObject({
    from: Math.min(...failed),
    lastFailedAt: Math.max(...failed),
    failures: failed.length,
    stillFailing: false,
  });
  const interval = defined(report.probes[0], "probe").intervalMs;
  expect(outage.to - outage.lastFailedAt).toBeLessThanOrEqual(interval + 50);
  const { pods, traffic } = pausedPods(report);
  expect(outage.from).toBeGreaterThanOrEqual(Math.min(...pods.map((pod) => pod.injectedAt)));
  expect(traffic.failures).toBe(failed.length);
  expect(traffic.returnedMs).not.toBeNull();
}

/**
 * Each paused pod lost readiness and regained it, and restarted twice (the pause image in, its own back);
 * its counts in the report are those of its status, read from the API server now.
 */
async function pausedPodsAsTheirStatus(report: RunReport): Promise<void> {
  const { pods } = pausedPods(report);
  expect(pods).toHaveLength(3);
  const now = new Map((await storefrontPods()).map((pod) => [pod.metadata?.uid ?? "", pod]));
  for (const paused of pods) {
    const lost = defined(paused.readyLostMs, "Ready lost");
    expect(defined(paused.readyRegainedMs, "Ready regained")).toBeGreaterThan(lost);
    const restarts = podRestarts(defined(now.get(paused.pod.uid), `pod ${paused.pod.name}`));
    expect(paused.restartsAfter).toBe(restarts);
    expect(restarts - paused.restartsBefore).toBe(2);
    expect(report.restarts?.targets).toContainEqual(
      expect.objectContaining({ name: paused.pod.name, before: paused.restartsBefore, after: restarts }),
    );
  }
}

/** The rounds of a Schedule one after the other: each starts after the last one's revert and pods back. */
async function roundsInTurn(report: RunReport): Promise<void> {
  const rounds = report.faults.filter((fault) => fault.type === "object" && fault.kind === "pod-failure");
  expect(rounds.length).toBeGreaterThanOrEqual(2);
  let previousEnd = 0;
  for (const round of rounds) {
    if (round.type !== "object") continue;
    const start = Math.min(...round.changes.map((change) => change.injectedAt));
    expect(start).toBeGreaterThan(previousEnd);
    expect(round.changes.map((change) => change.result)).toEqual(["reverted"]);
    for (const change of round.changes) await recordClosed(change.ledgerId);
    const back = (round.pods ?? []).map((pod) => pod.injectedAt + (pod.readyRegainedMs ?? 0));
    previousEnd = Math.max(...round.changes.map((change) => change.resolvedAt), ...back);
  }
}

/** Readiness of every storefront pod as the API shows it, sampled every 250 ms until stopped. */
function sampleReadiness(): { stop(): Promise<Map<string, boolean[]>> } {
  const seen = new Map<string, boolean[]>();
  const done = new AbortController();
  const loop = (async () => {
    while (!done.signal.aborted) {
      for (const pod of await storefrontPods()) {
        const uid = pod.metadata?.uid ?? "";
        seen.set(uid, [...(seen.get(uid) ?? []), isReady(pod)]);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return {
    stop: async () => {
      done.abort();
      await loop;
      return seen;
    },
  };
}

describe("pod-failure from a Chaos Mesh PodChaos, on the sandbox", () => {
  it("pauses one storefront pod: its readiness is lost and regained, its image restored exactly, its record closed", async () => {
    const before = new Map((await storefrontPods()).map((pod) => [pod.metadata?.uid ?? "", pod]));
    const sampler = sampleReadiness();
    const text = await readFile(join(repoRoot, "examples", example), "utf8");
    const run = await broadside("run", ...runArgs(example, text));
    const seen = await sampler.stop();
    expect(run.code, run.stderr).toBe(0);

    const report = await reportOf(run.stderr);
    const fault = report.faults[0];
    if (fault?.type !== "object") throw new Error(`unexpected fault ${JSON.stringify(fault)}`);
    expect(fault.kind).toBe("pod-failure");
    // podinfo has one container and no init container: one change, reverted.
    expect(fault.changes.map((change) => [change.path, change.result])).toEqual([
      ["/spec/containers/0/image", "reverted"],
    ]);
    const targetUid = fault.changes[0]?.target.uid ?? "";
    expect(before.has(targetUid)).toBe(true);

    await readinessLostAndRegained(seen, targetUid);
    await restoredExactly(targetUid, report);
    await recordClosed(fault.changes[0]?.ledgerId ?? "");
  }, 300_000);

  it("pausing every storefront pod: the report's outage window holds exactly the probe's failed samples, and its restart counts are the pods' status", async () => {
    await storefrontReady(3);
    const probe =
      "name=storefront,url=front-door://storefront.demo-shop/,frequency=10,tolerance=longest-failure<=1m";
    // All three pods (--unsafe lifts the blast-radius cap): the front door has no endpoint left, a real outage.
    const edited = await editedExample((text) => text.replace('mode: fixed\n  value: "1"\n', "mode: all\n"));
    const args = [...withFlag(runArgs(edited.path, edited.text), "--probe", probe), "--unsafe"];
    const run = await broadside("run", ...args);
    expect(run.code, run.stderr).toBe(0);
    const report = await reportOf(run.stderr);

    outageHoldsTheFailedSamples(report);
    await pausedPodsAsTheirStatus(report);
  }, 300_000);

  it("a Schedule of pod-failure: each round journaled and reverted, none started on a pod still paused (Forbid)", async () => {
    await storefrontReady(3);
    const file = "chaos-mesh-schedule-podfailure.yaml";
    const text = await readFile(join(repoRoot, "examples", file), "utf8");
    const run = await broadside("run", ...runArgs(file, text));
    expect(run.code, run.stderr).toBe(0);
    const report = await reportOf(run.stderr);
    // @every 10s for 35 s, rounds of 12 s: the instant during a round is skipped, so rounds never overlap.
    expect(run.stderr).toContain("skipped");
    await roundsInTurn(report);
    await storefrontReady(3);
    for (const pod of await storefrontPods()) {
      expect(pod.spec?.containers.map((c) => c.image)).toEqual([storefrontImage]);
    }
  }, 300_000);

  it.each([
    [
      "without a duration",
      (text: string) => text.replace("  duration: 15s\n", ""),
      "spec.duration: is required for action pod-failure",
    ],
    [
      "with a selector field Chaos Mesh does not have",
      (text: string) => text.replace("  selector:\n", "  selector:\n    podLabels:\n      app: storefront\n"),
      "spec.selector.podLabels",
    ],
  ])("refuses the manifest %s, naming the field, and writes nothing", async (_, edit, message) => {
    await storefrontReady(3);
    const before = await writes();
    const edited = await editedExample(edit);
    const run = await broadside("run", ...runArgs(edited.path, edited.text));
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(message);
    expect(await writes()).toEqual(before);
  });

  it("broadside halt reverts an active pod-failure at once: every image back exactly, digests included, its records closed", async () => {
    const kubeconfig = inject("adminKubeconfig");
    // Images pinned by digest, with and without a tag, and an init container: what must come back exactly.
    const images = {
      init: `registry.invalid/init:3@sha256:${"c".repeat(64)}`,
      web: `registry.invalid/web@sha256:${"a".repeat(64)}`,
      side: `registry.invalid/side:1.2@sha256:${"b".repeat(64)}`,
    };
    const uid = await bareHaltTarget(images);
    try {
      // A bare pod is a workload of its own, of one ready pod: the blast-radius cap (half of a workload's
      // ready pods, rounded down) lets none of it be paused, and fail says so ("Changes: none", exit 0).
      // That is what left the images unchanged in this test's first run, which had no --unsafe.
      const capped = await broadside(
        ...["fail", "halt-target", "-n", "demo-shop", "--duration", "5m", "--no-wait"],
        ...["--kubeconfig", kubeconfig],
      );
      expect(capped.code, capped.stderr).toBe(0);
      expect(capped.stdout).toMatch(
        /skip +demo-shop\/halt-target: blast-radius cap: at most 0 of 1 ready pod/,
      );
      expect(capped.stdout).toContain("Changes: none");
      expect(await haltTargetNow()).toMatchObject({
        init: [images.init],
        containers: [images.web, images.side],
      });
      expect(await podFailureRecords(uid)).toEqual([]);

      const fail = await broadside(
        ...["fail", "halt-target", "-n", "demo-shop", "--duration", "5m", "--no-wait", "--unsafe"],
        ...["--kubeconfig", kubeconfig],
      );
      expect(fail.code, fail.stderr).toBe(0);
      const paused = await haltTargetNow();
      expect([...(paused.init ?? []), ...(paused.containers ?? [])]).toEqual([
        "registry.k8s.io/pause:3.10",
        "registry.k8s.io/pause:3.10",
        "registry.k8s.io/pause:3.10",
      ]);
      const open = await podFailureRecords(uid);
      expect(open.map((record) => record.state)).toEqual(["active", "active", "active"]);

      const started = Date.now();
      const halt = await broadside("halt", "--kubeconfig", kubeconfig);
      const took = Date.now() - started;
      expect(halt.code, halt.stderr).toBe(0);
      // Restored when halt returns, 5 minutes before the deadline: the exact strings, digests included.
      expect(await haltTargetNow()).toMatchObject({
        init: [images.init],
        containers: [images.web, images.side],
      });
      const closed = await podFailureRecords(uid);
      expect(closed.map((record) => record.state)).toEqual(["closed", "closed", "closed"]);
      process.stderr.write(
        `halt reverted a 5 min pod-failure of 3 containers in ${String(took)} ms (the whole command)\n`,
      );
    } finally {
      await adminClients()
        .core.deleteNamespacedPod({ name: "halt-target", namespace: "demo-shop", gracePeriodSeconds: 0 })
        .catch(() => undefined);
    }
  });

  it("refuses broadside fail without --duration, naming it, and writes nothing", async () => {
    const before = await writes();
    const fail = await broadside(
      "fail",
      "-n",
      "demo-shop",
      "-l",
      "app=storefront",
      "--kubeconfig",
      inject("adminKubeconfig"),
    );
    expect(fail.code).toBe(2);
    expect(fail.stderr).toContain("--duration: is required");
    expect(await writes()).toEqual(before);
  });
});

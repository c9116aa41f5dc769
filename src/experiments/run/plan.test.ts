import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Duration } from "../../core/duration.js";
import { parseExperimentFile } from "../files/load.js";
import { probesFromFlags } from "../../cli/probe-flag.js";
import { runPlanOf, type PlanOptions } from "./plan.js";

const examples = join(import.meta.dirname, "..", "..", "..", "examples");

async function load(file: string) {
  return parseExperimentFile(await readFile(join(examples, file), "utf8"), file);
}

const options: PlanOptions = {
  extraProbes: probesFromFlags(["url=http://127.0.0.1:18080/,frequency=5"]),
  window: Duration.parse("5s", "--window"),
  maxFaultDuration: Duration.parse("1h", "max"),
  loopbackOnly: true,
};

describe("what broadside run will do with each kind of file", () => {
  it("runs a Schedule as one schedule step for --for, judged by the --probe probes before, during and after", async () => {
    const plan = runPlanOf(await load("schedule-pod-kill-2-replicas.yaml"), {
      ...options,
      runFor: Duration.parse("50s", "--for"),
    });
    expect(plan.hypothesis).toMatchObject({
      checks: ["before", "during", "after"],
      abortOnBreach: true,
      window: { milliseconds: 5000 },
    });
    expect(plan.hypothesis.probes.map((p) => p.name)).toEqual(["probe-1"]);
    expect(plan.method).toHaveLength(1);
    expect(plan.method[0]).toMatchObject({
      type: "schedule",
      cronText: "*/30 * * * * *",
      concurrencyPolicy: "Forbid",
      historyLimit: 3,
      runFor: { milliseconds: 50_000 },
      shot: { type: "pod-fault", fault: "pod-kill", gracePeriodSeconds: 5, mode: { kind: "one" } },
    });
  });

  it("runs a Schedule of pod-failure as a schedule step whose rounds each pause pods for their duration", async () => {
    const plan = runPlanOf(await load("chaos-mesh-schedule-podfailure.yaml"), {
      ...options,
      runFor: Duration.parse("35s", "--for"),
    });
    expect(plan.method[0]).toMatchObject({
      type: "schedule",
      concurrencyPolicy: "Forbid",
      shot: { type: "pod-failure", duration: { milliseconds: 12_000 }, mode: { kind: "one" } },
    });
  });

  it("refuses a Schedule whose pod-failure rounds last longer than BROADSIDE_MAX_FAULT_DURATION", async () => {
    const loaded = await load("chaos-mesh-schedule-podfailure.yaml");
    expect(() =>
      runPlanOf(loaded, {
        ...options,
        runFor: Duration.parse("5s", "--for"),
        maxFaultDuration: Duration.parse("10s", "max"),
      }),
    ).toThrow(
      "chaos-mesh-schedule-podfailure.yaml: spec.podChaos.duration: 12s is longer than the longest fault allowed, 10s",
    );
  });

  it("needs --for to know when a Schedule ends", async () => {
    await expect(
      load("schedule-pod-kill-2-replicas.yaml").then((l) => runPlanOf(l, options)),
    ).rejects.toThrow("--for: schedule-pod-kill-2-replicas.yaml is a Schedule, which runs until stopped");
  });

  it("needs a --probe for a Chaos Mesh manifest, which has no hypothesis of its own", async () => {
    await expect(
      load("chaos-mesh-podchaos.yaml").then((l) => runPlanOf(l, { ...options, extraProbes: [] })),
    ).rejects.toThrow(
      "--probe: chaos-mesh-podchaos.yaml is a Chaos Mesh manifest, which has no steady-state hypothesis",
    );
  });

  it("keeps an Experiment's own hypothesis and adds --probe probes to it", async () => {
    const plan = runPlanOf(await load("experiment-checkout-pod-loss.yaml"), options);
    expect(plan.hypothesis.probes.map((p) => p.name)).toEqual(["checkout-http", "checkout-ready", "probe-1"]);
    expect(plan.method.map((s) => s.type)).toEqual(["pod-fault", "wait", "object-fault"]);
  });

  it("refuses a fault longer than BROADSIDE_MAX_FAULT_DURATION, naming the field", async () => {
    const loaded = await load("experiment-config-drift.yaml");
    expect(() => runPlanOf(loaded, { ...options, maxFaultDuration: Duration.parse("10s", "max") })).toThrow(
      "experiment-config-drift.yaml: spec.method[0].duration: 15s is longer than the longest fault allowed, 10s",
    );
  });

  it("refuses a probe that leaves the machine when the cluster is on this machine", async () => {
    const loaded = await load("experiment-config-drift.yaml");
    const outside = probesFromFlags(["url=http://10.0.0.1/"]);
    expect(() => runPlanOf(loaded, { ...options, extraProbes: outside })).toThrow(
      "probe probe-1: http://10.0.0.1/ is not a loopback address",
    );
    expect(
      runPlanOf(loaded, { ...options, extraProbes: outside, loopbackOnly: false }).hypothesis.probes,
    ).toHaveLength(2);
  });

  it("runs examples/chaos-mesh-networkchaos.yaml as one network-fault step filtered to its target (ADR 0041)", async () => {
    const plan = runPlanOf(await load("chaos-mesh-networkchaos.yaml"), options);
    expect(plan.method).toHaveLength(1);
    const step = plan.method[0];
    if (step?.type !== "network-fault") throw new Error("not a network-fault step");
    expect(step.kind).toBe("delay");
    expect(step.selector).toMatchObject({ namespaces: ["demo-payments"], labelSelector: "app=checkout" });
    expect(step.network).toEqual({
      device: "eth0",
      delay: { latencyMs: 100, jitterMs: 10, correlation: 25 },
      backend: "auto",
    });
    expect(step.filter).toMatchObject({
      target: {
        selector: { namespaces: ["demo-shop"], labelSelector: "app=storefront" },
        mode: { kind: "all" },
      },
      externalTargets: [],
      direction: "to",
    });
  });

  it("runs examples/chaos-mesh-stresschaos.yaml as one stress-fault step (ADR 0040)", async () => {
    const plan = runPlanOf(await load("chaos-mesh-stresschaos.yaml"), options);
    expect(plan.method).toEqual([
      expect.objectContaining({
        type: "stress-fault",
        stress: { memory: { bytes: 256_000_000, workers: 2 }, cpu: { workers: 1, load: 80 } },
      }),
    ]);
  });

  it("runs examples/chaos-mesh-networkchaos-bandwidth.yaml as one network-fault step, its rate in tc's bytes/s", async () => {
    const plan = runPlanOf(await load("chaos-mesh-networkchaos-bandwidth.yaml"), options);
    expect(plan.method).toEqual([
      expect.objectContaining({
        type: "network-fault",
        kind: "bandwidth",
        network: { device: "eth0", bandwidth: { rate: "128000bps", limit: 20_971_520, buffer: 10_000 } },
      }),
    ]);
  });

  it("runs a NetworkChaos delay or loss as one network-fault step, the backend left to the node (auto)", () => {
    const manifest = (section: string, action: string) => `apiVersion: chaos-mesh.org/v1alpha1
kind: NetworkChaos
metadata: {name: slow, namespace: shop}
spec:
  action: ${action}
  mode: all
  selector: {labelSelectors: {app: web}}
  ${section}
  duration: 30s
`;
    const delay = runPlanOf(
      parseExperimentFile(
        manifest('delay: {latency: 200ms, jitter: 50ms, correlation: "25"}', "delay"),
        "d.yaml",
      ),
      options,
    );
    expect(delay.method).toEqual([
      expect.objectContaining({
        type: "network-fault",
        kind: "delay",
        network: {
          device: "eth0",
          delay: { latencyMs: 200, jitterMs: 50, correlation: 25 },
          backend: "auto",
        },
      }),
    ]);
    const loss = runPlanOf(parseExperimentFile(manifest('loss: {loss: "25"}', "loss"), "l.yaml"), options);
    expect(loss.method).toEqual([
      expect.objectContaining({
        kind: "loss",
        network: { device: "eth0", loss: { percent: 25, correlation: 0 }, backend: "auto" },
      }),
    ]);
  });

  it("runs a PodChaos container-kill as one container-kill step with its containerNames", () => {
    const yaml = podFailureYaml("  containerNames: [web]\n").replace(
      "action: pod-failure",
      "action: container-kill",
    );
    const plan = runPlanOf(parseExperimentFile(yaml, "ck.yaml"), options);
    expect(plan.method).toEqual([
      expect.objectContaining({
        type: "container-kill",
        name: "container-kill (PodChaos storefront-pause)",
        mode: { kind: "fixed", count: 1 },
        containerNames: ["web"],
      }),
    ]);
  });

  it("runs a Schedule of PodChaos container-kill: each round a container-kill step with its containerNames", () => {
    const yaml = `apiVersion: chaos-mesh.org/v1alpha1
kind: Schedule
metadata: {name: kill-app, namespace: demo-shop}
spec:
  schedule: "@every 30s"
  type: PodChaos
  podChaos:
    action: container-kill
    mode: one
    containerNames: [app]
    selector: {labelSelectors: {app: storefront}}
`;
    const plan = runPlanOf(parseExperimentFile(yaml, "sck.yaml"), {
      ...options,
      runFor: Duration.parse("2m", "--for"),
    });
    expect(plan.method).toEqual([
      expect.objectContaining({
        type: "schedule",
        concurrencyPolicy: "Forbid",
        shot: expect.objectContaining({ type: "container-kill", containerNames: ["app"] }) as unknown,
      }),
    ]);
  });

  it("runs a PodChaos pod-failure as one pod-failure step for its duration, with the default pause image", () => {
    const plan = runPlanOf(parseExperimentFile(podFailureYaml("  duration: 20s\n"), "pf.yaml"), options);
    expect(plan.method).toHaveLength(1);
    const step = plan.method[0];
    if (step?.type !== "pod-failure") throw new Error(`unexpected step ${String(step?.type)}`);
    expect(step).toMatchObject({
      name: "pod-failure (PodChaos storefront-pause)",
      mode: { kind: "fixed", count: 1 },
      pauseImage: "registry.k8s.io/pause:3.10",
    });
    expect(step.duration.milliseconds).toBe(20_000);
    expect(() =>
      runPlanOf(parseExperimentFile(podFailureYaml("  duration: 2h\n"), "pf.yaml"), options),
    ).toThrow("pf.yaml: spec.duration: 2h is longer than the longest fault allowed, 1h");
  });

  it("refuses a PodChaos pod-failure without a duration, naming spec.duration", () => {
    expect(() => parseExperimentFile(podFailureYaml(""), "pf.yaml")).toThrow(
      "pf.yaml: spec.duration: is required for action pod-failure",
    );
  });
});

function podFailureYaml(duration: string): string {
  return `apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata: {name: storefront-pause, namespace: demo-shop}
spec:
  action: pod-failure
  mode: fixed
  value: "1"
  selector: {labelSelectors: {app: storefront}}
${duration}`;
}

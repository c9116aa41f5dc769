import { describe, expect, it } from "vitest";
import { BroadsideError } from "../../core/errors.js";
import { nextRuns } from "./cron.js";
import { parseExperimentFile } from "./load.js";
import type { LoadedExperiment } from "./model.js";

/**
 * The story of `broadside run FILE` before anything runs: each kind Broadside reads, from the kind of file
 * a user writes, and each way a file can be wrong, named down to the field.
 */

/** Broadside's own kind against the demo fleet (src/demo/fleet.ts): checkout survives losing a pod. */
const experimentYaml = `# yaml-language-server: $schema=../docs/schema/experiment.schema.json
apiVersion: broadside.dev/v1alpha1
kind: Experiment
metadata:
  name: checkout-survives-pod-loss
  namespace: demo-payments
spec:
  title: Checkout keeps serving while one of its two pods is killed
  description: Two replicas and a readiness probe should hide the loss of one pod from clients.
  hypothesis:
    checks: [before, during, after]
    abortOnBreach: true
    window: 20s
    probes:
      - name: checkout-http
        http:
          url: http://127.0.0.1:18080/healthz
          expectStatus: [2xx, 301]
          latencyThreshold: 500ms
          frequency: 10
          timeout: 1s
        tolerances:
          - availability >= 99%
          - p95 <= 200ms
          - longest-failure <= 2s
      - name: checkout-ready
        kubernetes:
          kind: deployment
          namespace: demo-payments
          name: checkout
          condition:
            readyReplicasAtLeast: 1
      - name: checkout-errors
        prometheus:
          url: http://127.0.0.1:9090
          query: sum(rate(http_requests_total{namespace="demo-payments",code=~"5.."}[1m]))
          comparator: "<"
          value: 0.5
  method:
    - name: kill one checkout pod
      fault: pod-kill
      selector:
        labelSelectors:
          app: checkout
      mode: one
      gracePeriod: 0
    - wait: 30s
    - name: slow payments down
      fault: config-drift
      params:
        namespace: demo-payments
        kind: configmap
        name: checkout-config
        key: payment.timeout
        value: 30s
      duration: 1m
  rollbacks:
    - name: let the reconciler settle
      wait: 15s
`;

/** A Chaos Mesh PodChaos as Chaos Mesh's documentation writes one. */
const podChaosYaml = `apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata:
  name: storefront-pod-kill
  namespace: demo-shop
spec:
  action: pod-kill
  mode: fixed
  value: "1"
  selector:
    labelSelectors:
      app: storefront
  gracePeriod: 5
`;

/** The chaos monkey: a Schedule killing one storefront pod every 30 seconds, seconds field included. */
const scheduleYaml = `---
apiVersion: chaos-mesh.org/v1alpha1
kind: Schedule
metadata:
  name: storefront-monkey
  namespace: demo-shop
spec:
  schedule: "*/30 * * * * *"
  concurrencyPolicy: Forbid
  historyLimit: 5
  startingDeadlineSeconds: 10
  type: PodChaos
  podChaos:
    action: pod-kill
    mode: one
    selector:
      namespaces: [demo-shop]
      labelSelectors:
        app: storefront
---
`;

const networkChaosYaml = `apiVersion: chaos-mesh.org/v1alpha1
kind: NetworkChaos
metadata:
  name: checkout-delay
  namespace: demo-payments
spec:
  action: delay
  mode: all
  selector:
    labelSelectors:
      app: checkout
  delay:
    latency: 100ms
    jitter: 10ms
    correlation: "25"
  direction: to
  target:
    mode: all
    selector:
      namespaces: [demo-shop]
      labelSelectors:
        app: storefront
  duration: 2m
`;

const stressChaosYaml = `apiVersion: chaos-mesh.org/v1alpha1
kind: StressChaos
metadata:
  name: ledger-writer-memory
  namespace: demo-batch
spec:
  mode: one
  selector:
    labelSelectors:
      app: ledger-writer
  stressors:
    memory:
      workers: 2
      size: 256MB
    cpu:
      workers: 1
      load: 80
  duration: 5m
`;

function parse(text: string, fileName = "exp.yaml"): LoadedExperiment {
  return parseExperimentFile(text, fileName, { defaultNamespace: "default" });
}

/** The message of the usage error parsing `text` throws. */
function problemsOf(text: string, fileName = "exp.yaml"): string {
  try {
    parse(text, fileName);
  } catch (error) {
    expect(error).toBeInstanceOf(BroadsideError);
    expect((error as BroadsideError).code).toBe("BRD_USAGE");
    expect((error as BroadsideError).exitCode).toBe(2);
    return (error as BroadsideError).message;
  }
  throw new Error("expected the file to be refused");
}

/** The line `needle` is on in `text`, as messages number lines. */
function lineOf(text: string, needle: string): number {
  const index = text.indexOf(needle);
  expect(index).toBeGreaterThanOrEqual(0);
  return text.slice(0, index).split("\n").length;
}

/** The experiment example with one line replaced, to make one thing wrong at a time. */
function experimentWith(from: string, to: string): string {
  expect(experimentYaml).toContain(from);
  return experimentYaml.replace(from, to);
}

describe("Broadside's Experiment kind", () => {
  it("reads a pod-failure step: targets as a pod fault's, its duration, and the default pause image", () => {
    const loaded = parse(
      experimentWith("      fault: pod-kill", "      fault: pod-failure\n      duration: 45s").replace(
        "      gracePeriod: 0\n",
        "",
      ),
    );
    if (loaded.kind !== "Experiment") throw new Error(`unexpected kind ${loaded.kind}`);
    const step = loaded.method[0];
    if (step?.type !== "pod-failure") throw new Error(`unexpected step ${String(step?.type)}`);
    expect(step).toMatchObject({
      name: "kill one checkout pod",
      selector: { labelSelector: "app=checkout", namespaces: ["demo-payments"] },
      mode: { kind: "one" },
      pauseImage: "registry.k8s.io/pause:3.10",
    });
    expect(step.duration.milliseconds).toBe(45_000);
  });

  it("refuses a pod-failure step without a duration, or with a pause image that is no image, naming the field", () => {
    const step = experimentWith("      fault: pod-kill", "      fault: pod-failure").replace(
      "      gracePeriod: 0\n",
      "",
    );
    expect(problemsOf(step)).toContain("exp.yaml: spec.method[0].duration: ");
    expect(
      problemsOf(
        step.replace(
          "      mode: one\n",
          "      mode: one\n      duration: 1m\n      pauseImage: Not An Image\n",
        ),
      ),
    ).toContain("exp.yaml: spec.method[0].pauseImage: must be an image reference");
  });

  it("reads the hypothesis, the method and the rollbacks into the model the runner consumes", () => {
    const loaded = parse(experimentYaml);
    if (loaded.kind !== "Experiment") throw new Error(`unexpected kind ${loaded.kind}`);
    expect(loaded).toMatchObject({
      apiVersion: "broadside.dev/v1alpha1",
      name: "checkout-survives-pod-loss",
      namespace: "demo-payments",
      title: "Checkout keeps serving while one of its two pods is killed",
      runnable: true,
      warnings: [],
    });
    const { hypothesis, method, rollbacks } = loaded;
    expect(hypothesis.checks).toEqual(["before", "during", "after"]);
    expect(hypothesis.abortOnBreach).toBe(true);
    expect(hypothesis.window.seconds).toBe(20);

    const [http, ready, errors] = hypothesis.probes;
    expect(http).toMatchObject({
      type: "http",
      name: "checkout-http",
      url: "http://127.0.0.1:18080/healthz",
      method: "GET",
      expectStatus: [
        { from: 200, to: 299 },
        { from: 301, to: 301 },
      ],
      frequencyHz: 10,
    });
    expect(http?.type === "http" && http.latencyThreshold?.milliseconds).toBe(500);
    expect(http?.tolerances.map((tolerance) => tolerance.metric)).toEqual([
      "availability",
      "latency",
      "longest-failure",
    ]);
    expect(ready).toMatchObject({
      type: "kubernetes",
      target: { kind: "deployment", namespace: "demo-payments", name: "checkout" },
      condition: { type: "readyReplicasAtLeast", count: 1 },
      // Without tolerances a probe must succeed every time.
      tolerances: [{ metric: "availability", ratio: 1 }],
    });
    expect(errors).toMatchObject({ type: "prometheus", comparator: "<", threshold: 0.5, frequencyHz: 0.2 });

    expect(method.map((step) => step.type)).toEqual(["pod-fault", "wait", "object-fault"]);
    expect(method[0]).toMatchObject({
      name: "kill one checkout pod",
      fault: "pod-kill",
      // The selector names no namespace: it defaults to the experiment's, as Chaos Mesh's webhook does.
      selector: { namespaces: ["demo-payments"], labelSelector: "app=checkout" },
      mode: { kind: "one" },
      gracePeriodSeconds: 0,
      waitForRecovery: true,
    });
    expect(method[1]?.type === "wait" && method[1].duration.seconds).toBe(30);
    expect(method[2]).toMatchObject({
      fault: "config-drift",
      params: { namespace: "demo-payments", kind: "configmap", key: "payment.timeout", value: "30s" },
    });
    expect(method[2]?.type === "object-fault" && method[2].duration.seconds).toBe(60);
    expect(rollbacks).toEqual([expect.objectContaining({ type: "wait", name: "let the reconciler settle" })]);
  });

  it("fills in the defaults a short file leaves out", () => {
    const loaded = parse(`
apiVersion: broadside.dev/v1alpha1
kind: Experiment
metadata: {name: short}
spec:
  title: Storefront under a scale-down
  hypothesis:
    probes:
      - name: storefront
        http: {url: "http://localhost:18081/"}
  method:
    - fault: scale
      params: {namespace: demo-shop, kind: deployment, name: storefront, replicas: 1}
`);
    if (loaded.kind !== "Experiment") throw new Error(loaded.kind);
    const probe = loaded.hypothesis.probes[0];
    if (probe?.type !== "http") throw new Error("expected an http probe");
    expect(probe.method).toBe("GET");
    expect(probe.expectStatus).toEqual([{ from: 200, to: 299 }]);
    expect(probe.frequencyHz).toBe(1);
    expect(probe.timeout.milliseconds).toBe(1000);
    expect(loaded.hypothesis.checks).toEqual(["before", "during", "after"]);
    expect(loaded.hypothesis.window.seconds).toBe(10);
    expect(loaded.method[0]).toMatchObject({ type: "object-fault", params: { replicas: 1, unsafe: false } });
    expect(loaded.method[0]?.type === "object-fault" && loaded.method[0].duration.toString()).toBe("5m");
    expect(loaded.rollbacks).toEqual([]);
  });

  it("warns when a window is too short for the availability it asks for", () => {
    const loaded = parse(experimentWith("window: 20s", "window: 5s"));
    expect(loaded.warnings).toEqual([
      expect.stringContaining('probe checkout-http: "availability >= 99%" over 50 samples per window'),
    ]);
  });
});

describe("Chaos Mesh manifests, as they are", () => {
  it("reads a PodChaos pod-kill, runnable, with Chaos Mesh's selector and mode", () => {
    expect(parse(podChaosYaml)).toMatchObject({
      kind: "PodChaos",
      name: "storefront-pod-kill",
      action: "pod-kill",
      selector: { namespaces: ["demo-shop"], labelSelector: "app=storefront" },
      mode: { kind: "fixed", count: 1 },
      gracePeriodSeconds: 5,
      runnable: true,
    });
  });

  it("defaults gracePeriod to 0 as Chaos Mesh does: delete at once", () => {
    expect(parse(podChaosYaml.replace("  gracePeriod: 5\n", ""))).toMatchObject({ gracePeriodSeconds: 0 });
  });

  it("reads a PodChaos container-kill as runnable through the node daemon, its containers kept", () => {
    const loaded = parse(
      podChaosYaml.replace("action: pod-kill", "action: container-kill\n  containerNames: [app]"),
    );
    expect(loaded).toMatchObject({
      kind: "PodChaos",
      action: "container-kill",
      containerNames: ["app"],
      runnable: true,
    });
  });

  it("reads a PodChaos pod-failure with its duration, runnable; containerNames is ignored, and said so", () => {
    const loaded = parse(
      podChaosYaml.replace(
        "action: pod-kill",
        "action: pod-failure\n  duration: 30s\n  containerNames: [app]",
      ),
    );
    expect(loaded).toMatchObject({ kind: "PodChaos", action: "pod-failure", runnable: true });
    expect(loaded.kind === "PodChaos" && loaded.duration?.milliseconds).toBe(30_000);
    expect(loaded.warnings).toContainEqual(expect.stringContaining("spec.containerNames is ignored"));
  });

  it("reads a Schedule of PodChaos pod-failure with its duration, runnable", () => {
    const loaded = parse(scheduleYaml.replace("action: pod-kill", "action: pod-failure\n    duration: 10s"));
    expect(loaded).toMatchObject({
      kind: "Schedule",
      runnable: true,
      chaos: { kind: "PodChaos", action: "pod-failure" },
    });
    expect(
      loaded.kind === "Schedule" && loaded.chaos.kind === "PodChaos" && loaded.chaos.duration?.milliseconds,
    ).toBe(10_000);
  });

  it("refuses a Schedule of PodChaos pod-failure without a duration, naming spec.podChaos.duration", () => {
    expect(() => parse(scheduleYaml.replace("action: pod-kill", "action: pod-failure"))).toThrow(
      "spec.podChaos.duration: is required for action pod-failure",
    );
  });

  it("reads a Schedule driving a PodChaos, with a seconds field Chaos Mesh would refuse", () => {
    const loaded = parse(scheduleYaml);
    if (loaded.kind !== "Schedule") throw new Error(loaded.kind);
    expect(loaded).toMatchObject({
      name: "storefront-monkey",
      cron: { kind: "cron", pattern: "*/30 * * * * *", seconds: true },
      concurrencyPolicy: "Forbid",
      historyLimit: 5,
      startingDeadlineSeconds: 10,
      chaos: { kind: "PodChaos", action: "pod-kill", mode: { kind: "one" } },
      runnable: true,
    });
    expect(loaded.warnings).toEqual([expect.stringContaining("Chaos Mesh documents five fields")]);
    const from = new Date("2025-06-01T12:00:10Z");
    expect(nextRuns(loaded.cron, from, 2).map((run) => run.toISOString())).toEqual([
      "2025-06-01T12:00:30.000Z",
      "2025-06-01T12:01:00.000Z",
    ]);
  });

  it("reads @every and Allow, and a Schedule of a kind that cannot run yet is not runnable either", () => {
    const loaded = parse(`
apiVersion: chaos-mesh.org/v1alpha1
kind: Schedule
metadata: {name: slow-every-ten-minutes, namespace: demo-payments}
spec:
  schedule: "@every 10m"
  concurrencyPolicy: Allow
  type: NetworkChaos
  networkChaos:
    action: loss
    mode: one
    selector: {labelSelectors: {app: checkout}}
    loss: {loss: "10"}
    duration: 1m
`);
    expect(loaded).toMatchObject({
      kind: "Schedule",
      cron: { kind: "every", interval: { milliseconds: 600_000 } },
      concurrencyPolicy: "Allow",
      chaos: { kind: "NetworkChaos", loss: { loss: 10, correlation: 0 } },
      runnable: false,
      reason:
        "its NetworkChaos: a Schedule of NetworkChaos does not run yet (a NetworkChaos on its own does)",
    });
  });

  it("reads a NetworkChaos field by field; a delay towards a target runs (filtered rules, ADR 0041)", () => {
    expect(parse(networkChaosYaml)).toMatchObject({
      kind: "NetworkChaos",
      action: "delay",
      mode: { kind: "all" },
      direction: "to",
      delay: { latencyMs: 100, jitterMs: 10, correlation: 25 },
      target: {
        selector: { namespaces: ["demo-shop"], labelSelector: "app=storefront" },
        mode: { kind: "all" },
      },
      duration: { milliseconds: 120_000 },
      runnable: true,
    });
  });

  it("runs a NetworkChaos delay, loss or duplicate of the whole pod (ADR 0039); netem and reorder say why not", () => {
    const manifest = (action: string, section: string, extra = "") =>
      [
        "apiVersion: chaos-mesh.org/v1alpha1",
        "kind: NetworkChaos",
        "metadata: { name: lossy, namespace: shop }",
        "spec:",
        `  action: ${action}`,
        "  mode: one",
        "  selector: { labelSelectors: { app: web } }",
        `  ${section}`,
        "  duration: 30s",
        extra,
        "",
      ].join("\n");
    expect(parse(manifest("loss", 'loss: { loss: "25", correlation: "10" }'))).toMatchObject({
      action: "loss",
      loss: { loss: 25, correlation: 10 },
      runnable: true,
    });
    expect(
      parse(manifest("delay", 'delay: { latency: 200ms, jitter: 50ms, correlation: "25" }')),
    ).toMatchObject({
      action: "delay",
      delay: { latencyMs: 200, jitterMs: 50, correlation: 25 },
      runnable: true,
    });
    // duplicate and corrupt run where the node has netem; the writer refuses them before any write elsewhere.
    expect(parse(manifest("duplicate", 'duplicate: { duplicate: "5" }'))).toMatchObject({
      duplicate: { duplicate: 5, correlation: 0 },
      runnable: true,
    });
    expect(parse(manifest("netem", 'loss: { loss: "5" }'))).toMatchObject({
      runnable: false,
      reason: expect.stringContaining("action netem does not run yet") as string,
    });
    expect(
      parse(manifest("delay", 'delay: { latency: 10ms, reorder: { reorder: "5", gap: 2 } }')),
    ).toMatchObject({
      runnable: false,
      reason: expect.stringContaining("delay.reorder does not run yet") as string,
    });
  });

  it("runs a NetworkChaos bandwidth or partition with a duration, filtered or not, and says why not otherwise", () => {
    const bandwidth = [
      "apiVersion: chaos-mesh.org/v1alpha1",
      "kind: NetworkChaos",
      "metadata: { name: slow, namespace: shop }",
      "spec:",
      "  action: bandwidth",
      "  mode: one",
      "  selector: { labelSelectors: { app: web } }",
      "  bandwidth: { rate: 125kbps, limit: 20971520, buffer: 10000 }",
      "  duration: 30s",
      "",
    ].join("\n");
    expect(parse(bandwidth)).toMatchObject({
      action: "bandwidth",
      bandwidth: { rateBytesPerSecond: 128_000, limit: 20_971_520, buffer: 10_000 },
      runnable: true,
    });
    expect(parse(bandwidth.replace("  duration: 30s\n", ""))).toMatchObject({
      runnable: false,
      reason: expect.stringContaining("spec.duration is required") as string,
    });
    expect(
      parse(
        bandwidth.replace(
          "  duration: 30s",
          "  duration: 30s\n  direction: both\n  target: { mode: all, selector: { labelSelectors: { app: db } } }",
        ),
      ),
    ).toMatchObject({ direction: "both", runnable: true });
    expect(
      parse(
        bandwidth.replace(
          "  duration: 30s",
          "  duration: 30s\n  externalTargets: [10.1.0.0/16, example.com]",
        ),
      ),
    ).toMatchObject({
      runnable: false,
      reason: expect.stringContaining(
        'spec.externalTargets[1]: "example.com" is not an IPv4 address or CIDR; domain names are not resolved',
      ) as string,
    });
    const partition = bandwidth
      .replace("action: bandwidth", "action: partition")
      .replace("  bandwidth: { rate: 125kbps, limit: 20971520, buffer: 10000 }\n", "  direction: both\n");
    expect(parse(partition)).toMatchObject({ action: "partition", direction: "both", runnable: true });
  });

  it("reads a StressChaos field by field, runnable with a size and a duration (ADR 0040)", () => {
    expect(parse(stressChaosYaml)).toMatchObject({
      kind: "StressChaos",
      memory: { workers: 2, size: { bytes: 256_000_000 } },
      cpu: { workers: 1, load: 80 },
      runnable: true,
    });
    expect(
      parse(stressChaosYaml.replace("stressors:", "stressngStressors: --vm 1\n  stressors:")),
    ).toMatchObject({
      runnable: false,
      reason:
        "stressngStressors and stress-ng options do not run: Broadside runs its own stressor, not stress-ng",
    });
  });
});

describe("PodChaos and Schedule under Broadside's group, as kubectl applies them", () => {
  const inBroadsideGroup = (text: string) =>
    text.replace("apiVersion: chaos-mesh.org/v1alpha1", "apiVersion: broadside.dev/v1alpha1");

  it.each([
    ["PodChaos", podChaosYaml],
    ["Schedule", scheduleYaml],
  ])("reads a %s the same as Chaos Mesh's, once its apiVersion is changed", (_, yaml) => {
    const chaosMesh = parse(yaml);
    const broadside = parse(inBroadsideGroup(yaml));
    expect(broadside).toEqual({ ...chaosMesh, apiVersion: "broadside.dev/v1alpha1" });
  });

  it("checks the same fields, with the same words", () => {
    const bad = podChaosYaml.replace("mode: fixed", "mode: some");
    expect(problemsOf(inBroadsideGroup(bad))).toBe(problemsOf(bad));
  });

  it.each([
    ["ConfigDrift", "broadside drift", "config-drift"],
    ["ResourceSqueeze", "broadside squeeze", "resource-squeeze"],
    ["Scale", "broadside scale", "scale"],
  ])(
    "says a %s is a resource for the cluster, and what runs it from the command line",
    (kind, verb, step) => {
      const message = problemsOf(
        `apiVersion: broadside.dev/v1alpha1\nkind: ${kind}\nmetadata: {name: x}\nspec: {}\n`,
      );
      expect(message).toContain(`kind: ${kind} is a resource for the cluster`);
      expect(message).toContain(`\`${verb}\``);
      expect(message).toContain(`a ${step} step`);
    },
  );
});

describe("malformed files: each problem names the path of the field, and nothing is injected", () => {
  it("bad YAML names file, line and column", () => {
    expect(problemsOf("apiVersion: broadside.dev/v1alpha1\nkind: [Experiment\n")).toMatch(
      /^exp\.yaml:3:1: Flow sequence/,
    );
  });

  it("a duplicate key is bad YAML too", () => {
    expect(problemsOf("kind: PodChaos\nkind: Schedule\n")).toMatch(/^exp\.yaml:2:1: Map keys must be unique/);
  });

  it("an unknown field, at any depth", () => {
    expect(problemsOf(experimentWith("    window: 20s", "    window: 20s\n    windw: 30s"))).toBe(
      `exp.yaml: spec.hypothesis.windw: unknown field (line ${lineOf(experimentYaml, "window: 20s") + 1})`,
    );
    expect(problemsOf(podChaosYaml.replace("  gracePeriod: 5", "  gracePeriods: 5"))).toMatch(
      /^exp\.yaml: spec\.gracePeriods: unknown field/,
    );
  });

  it("a wrong type", () => {
    const line = lineOf(experimentYaml, "frequency: 10");
    expect(problemsOf(experimentWith("frequency: 10", "frequency: fast"))).toBe(
      `exp.yaml: spec.hypothesis.probes[0].http.frequency: must be a number of samples per second (Hz), got "fast" (line ${line})`,
    );
    expect(problemsOf(experimentWith("- wait: 30s", "- wait: 30"))).toBe(
      `exp.yaml: spec.method[1].wait: must be a duration such as 30s, got 30 (line ${lineOf(experimentYaml, "- wait: 30s")})`,
    );
  });

  it.each([
    ["61 * * * *", "is not a valid cron expression: invalid value for minute: 61"],
    ["* * 31 2 *", "never fires: no date matches every field (such as the 31st of February)"],
    [
      "* * * *",
      "must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got 4",
    ],
    ["0 0 L * *", `field "L" uses L, W, # or +, which Chaos Mesh's cron parser refuses`],
    ["@every -5s", '@every must not be negative, got "-5s"'],
  ])("an impossible cron: %s", (schedule, message) => {
    expect(problemsOf(scheduleYaml.replace("*/30 * * * * *", schedule))).toBe(
      `exp.yaml: spec.schedule: ${JSON.stringify(schedule)}: ${message} (line ${lineOf(scheduleYaml, "schedule:")})`,
    );
  });

  it("negative durations, in either syntax", () => {
    expect(problemsOf(experimentWith("duration: 1m", "duration: -5s"))).toBe(
      `exp.yaml: spec.method[2].duration: must not be negative, got "-5s" (line ${lineOf(experimentYaml, "duration: 1m")})`,
    );
    expect(problemsOf(networkChaosYaml.replace("duration: 2m", "duration: -1.5h"))).toBe(
      `exp.yaml: spec.duration: must not be negative, got "-1.5h" (line ${lineOf(networkChaosYaml, "duration: 2m")})`,
    );
  });

  it("an HTTP probe asked for 100 Hz", () => {
    expect(problemsOf(experimentWith("frequency: 10", "frequency: 100"))).toBe(
      `exp.yaml: spec.hypothesis.probes[0].http.frequency: must be at most 50 Hz, got 100 (line ${lineOf(experimentYaml, "frequency: 10")})`,
    );
  });

  it("an unknown kind, naming it and listing the supported ones", () => {
    const message = problemsOf(podChaosYaml.replace("kind: PodChaos", "kind: IOChaos"));
    expect(message).toBe(
      'exp.yaml: kind: "IOChaos" (apiVersion "chaos-mesh.org/v1alpha1") is not supported; Broadside reads ' +
        "broadside.dev/v1alpha1 Experiment, PodChaos, Schedule, NetworkChaos; chaos-mesh.org/v1alpha1 PodChaos, Schedule, NetworkChaos, StressChaos",
    );
    expect(problemsOf(experimentYaml.replace("broadside.dev/v1alpha1", "broadside.dev/v2"))).toContain(
      'kind: "Experiment" (apiVersion "broadside.dev/v2") is not supported',
    );
  });

  it("reports every problem of a file at once, a line each, in the order of the file", () => {
    const message = problemsOf(
      experimentWith("frequency: 10", "frequency: 100")
        .replace("- p95 <= 200ms", "- p95 >= 200ms")
        .replace("duration: 1m", "duration: -5s")
        .replace("app: checkout", "-app: checkout"),
    );
    const line = (needle: string) => lineOf(experimentYaml, needle);
    expect(message.split("\n")).toEqual([
      `exp.yaml: spec.hypothesis.probes[0].http.frequency: must be at most 50 Hz, got 100 (line ${line("frequency: 10")})`,
      `exp.yaml: spec.hypothesis.probes[0].tolerances[1]: p95 is a ceiling: write "p95 <= 200ms" (line ${line("- p95")})`,
      expect.stringMatching(
        /^exp\.yaml: spec\.method\[0\]\.selector\.labelSelectors\["-app"\]: key "-app" must be 1 to 63 letters/,
      ),
      `exp.yaml: spec.method[2].duration: must not be negative, got "-5s" (line ${line("duration: 1m")})`,
    ]);
  });

  it("names the branch the user meant in a step or a probe, or says what is expected", () => {
    const line = (needle: string) => lineOf(experimentYaml, needle);
    expect(problemsOf(experimentWith("fault: pod-kill", "fault: pod-kil"))).toBe(
      "exp.yaml: spec.method[0].fault: must be one of pod-kill, pod-evict, pod-failure, config-drift, resource-squeeze, scale " +
        `(line ${line("fault: pod-kill")})`,
    );
    expect(problemsOf(experimentWith("- wait: 30s", "- sleep: 30s"))).toBe(
      "exp.yaml: spec.method[1]: must be a step: either fault: <kind> with its fields, or wait: <duration> " +
        `(line ${line("- wait: 30s")})`,
    );
    expect(problemsOf(experimentWith("readyReplicasAtLeast: 1", "readyReplicasAtLeast: -1"))).toBe(
      "exp.yaml: spec.hypothesis.probes[1].kubernetes.condition.readyReplicasAtLeast: must not be negative " +
        `(line ${line("readyReplicasAtLeast")})`,
    );
  });

  it("refuses faults among the rollbacks, with the reason", () => {
    expect(problemsOf(experimentWith("      wait: 15s", "      fault: scale"))).toContain(
      "exp.yaml: spec.rollbacks[0]: faults cannot be rollbacks: Broadside reverts every fault of the method itself",
    );
  });

  it("checks what relates fields: unique probe names, a latency threshold within the timeout, metrics per probe", () => {
    const line = (needle: string) => lineOf(experimentYaml, needle);
    expect(problemsOf(experimentWith("name: checkout-ready", "name: checkout-http"))).toBe(
      "exp.yaml: spec.hypothesis.probes[1].name: is the name of an earlier probe; names must be unique " +
        `(line ${line("name: checkout-ready")})`,
    );
    expect(problemsOf(experimentWith("latencyThreshold: 500ms", "latencyThreshold: 2s"))).toBe(
      "exp.yaml: spec.hypothesis.probes[0].http.latencyThreshold: is longer than timeout 1s, so it would never apply " +
        `(line ${line("latencyThreshold")})`,
    );
    expect(
      problemsOf(
        experimentWith("readyReplicasAtLeast: 1", "readyReplicasAtLeast: 1\n        tolerances: [p99 <= 1s]"),
      ),
    ).toContain("spec.hypothesis.probes[1].tolerances[0]: latency percentiles apply to http probes only");
  });

  it("checks Chaos Mesh's rules that relate fields", () => {
    expect(problemsOf(podChaosYaml.replace("action: pod-kill", "action: pod-failure"))).toContain(
      "exp.yaml: spec.duration: is required for action pod-failure",
    );
    expect(problemsOf(networkChaosYaml.replace("action: delay", "action: loss"))).toContain(
      "exp.yaml: spec.loss: is required for action loss",
    );
    expect(
      problemsOf(networkChaosYaml.replace("direction: to", "direction: both\n  externalTargets: [1.1.1.1]")),
    ).toContain("exp.yaml: spec.direction: externalTargets cannot be used with direction from or both");
    expect(problemsOf(stressChaosYaml.replace(/ {2}stressors:[\s\S]*load: 80\n/, ""))).toContain(
      "exp.yaml: spec.stressors: is required: give stressors or stressngStressors",
    );
  });

  it("keeps Chaos Mesh's string fields strings, as its CRD does", () => {
    expect(problemsOf(podChaosYaml.replace('value: "1"', "value: 1"))).toContain(
      'exp.yaml: spec.value: must be a string in a Chaos Mesh manifest; quote it: "1"',
    );
  });

  it("checks the embedded spec of a Schedule against its type", () => {
    const message = problemsOf(
      scheduleYaml
        .replace("type: PodChaos", "type: IOChaos")
        .replace("concurrencyPolicy: Forbid", "concurrencyPolicy: Never"),
    );
    expect(message).toContain("exp.yaml: spec.concurrencyPolicy: must be Forbid (the default) or Allow");
    expect(message).toContain(
      'exp.yaml: spec.type: "IOChaos" is not supported; Broadside schedules PodChaos',
    );
    expect(problemsOf(scheduleYaml.replace("podChaos:", "stressChaos:"))).toContain(
      "exp.yaml: spec.podChaos: is required for type PodChaos",
    );
  });

  it("refuses a file with no experiment, or with two", () => {
    expect(problemsOf("# nothing here\n---\n")).toBe("exp.yaml: holds no experiment: the file is empty");
    const twoManifests = `${podChaosYaml}---\n${stressChaosYaml}`;
    expect(problemsOf(twoManifests)).toBe(
      `exp.yaml: holds 2 YAML documents (at lines 1, ${lineOf(twoManifests, "kind: StressChaos") - 1}); ` +
        "broadside run takes one experiment per file: put each in its own file",
    );
    expect(problemsOf("- just\n- a list\n")).toBe(
      "exp.yaml: must be a mapping with apiVersion, kind, metadata and spec, got a list",
    );
  });

  it("refuses an alias to an anchor that was never set, and a file that expands without end", () => {
    expect(problemsOf("apiVersion: *version\n")).toMatch(/^exp\.yaml: Unresolved alias/);
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]"]
      .concat("c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]")
      .join("\n");
    expect(problemsOf(bomb)).toBe("exp.yaml: Excessive alias count indicates a resource exhaustion attack");
  });

  it("reads anchors and merge keys, as Kubernetes YAML often uses them", () => {
    const merged = podChaosYaml
      .replace("spec:\n", "spec:\n  <<: {mode: all}\n")
      .replace('  mode: fixed\n  value: "1"\n', "");
    expect(parse(merged)).toMatchObject({ kind: "PodChaos", mode: { kind: "all" } });
  });
});

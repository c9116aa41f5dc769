import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Duration } from "../../src/core/duration.js";
import { systemClock } from "../../src/core/clock.js";
import type { BroadsideError } from "../../src/core/errors.js";
import { startHttpProbe } from "../../src/experiments/probes/http-probe.js";
import { startKubernetesProbe } from "../../src/experiments/probes/kubernetes-probe.js";
import type { Sample } from "../../src/experiments/report/samples.js";
import { startTraffic } from "../../src/sandbox/traffic/traffic.js";
import type { Traffic } from "../../src/sandbox/traffic/traffic.js";
import { adminClients, deployAndWait, eventually, testDeployment, useTestNamespace } from "./harness.js";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("probes against the sandbox", () => {
  const namespace = useTestNamespace("it-probes");
  const errors: BroadsideError[] = [];
  let traffic: Traffic | undefined;

  beforeAll(async () => {
    const served = testDeployment("web", 2);
    const labels = served.spec?.template.metadata?.labels;
    if (labels !== undefined) labels["broadside.dev/serve"] = "http";
    const container = served.spec?.template.spec?.containers[0];
    if (container !== undefined) container.ports = [{ containerPort: 8080 }];
    await deployAndWait(namespace(), served);
    await adminClients().core.createNamespacedService({
      namespace: namespace(),
      body: {
        metadata: { name: "web", labels: { "broadside.dev/serve": "http" } },
        spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    await deployAndWait(namespace(), testDeployment("solo", 1, 1));
    traffic = await startTraffic(adminClients(), {
      clock: systemClock,
      namespaces: [namespace()],
      onError: (error) => errors.push(error),
    });
  });

  afterAll(async () => {
    await traffic?.stop();
  });

  it("sees readyReplicasAtLeast fail when the only pod is deleted, and hold again once replaced", async () => {
    const samples: Sample[] = [];
    const probe = await startKubernetesProbe(
      {
        type: "kubernetes",
        name: "solo-ready",
        tolerances: [],
        target: { kind: "deployment", namespace: namespace(), name: "solo" },
        condition: { type: "readyReplicasAtLeast", count: 1 },
      },
      { config: adminClients().config, onSample: (sample) => samples.push(sample) },
    );
    try {
      await eventually("a first passing sample", () => (samples.some((s) => s.ok) ? true : undefined));
      const { core } = adminClients();
      const pods = await core.listNamespacedPod({ namespace: namespace(), labelSelector: "app=solo" });
      const victim = pods.items[0]?.metadata?.name ?? "";
      const deletedAt = Date.now();
      await core.deleteNamespacedPod({ name: victim, namespace: namespace() });
      await eventually("a failed sample after the deletion", () =>
        samples.some((s) => !s.ok && s.sentAt >= deletedAt) ? true : undefined,
      );
      const failedAt = samples.find((s) => !s.ok && s.sentAt >= deletedAt)?.sentAt ?? 0;
      await eventually("a passing sample again", () =>
        samples.some((s) => s.ok && s.sentAt > failedAt) ? true : undefined,
      );
    } finally {
      await probe.stop();
    }
    const failed = samples.filter((s) => !s.ok);
    expect(failed.every((s) => s.error === "too few ready replicas" && s.latencyMs === 0)).toBe(true);
    // The ticker kept sampling at 1 Hz besides the events.
    expect(samples.length).toBeGreaterThan(2);
  });

  it("keeps an http probe through the front door all-ok at 5 Hz while nothing happens", async () => {
    const port = await eventually("the front door", () => traffic?.frontDoorPort(namespace(), "web"));
    await eventually("two ready endpoints", () =>
      traffic?.readyEndpoints(namespace(), "web").length === 2 ? true : undefined,
    );
    const probe = startHttpProbe(
      {
        type: "http",
        name: "web",
        tolerances: [],
        url: `http://127.0.0.1:${port}/`,
        method: "GET",
        headers: {},
        expectStatus: [{ from: 200, to: 299 }],
        frequencyHz: 5,
        timeout: Duration.ofMilliseconds(2000),
      },
      { loopbackOnly: true },
    );
    await sleep(3000);
    const samples = await probe.stop();
    expect(samples.length).toBeGreaterThanOrEqual(14);
    expect(samples.filter((s) => !s.ok)).toEqual([]);
    expect(errors.map((error) => error.message)).toEqual([]);
  });
});

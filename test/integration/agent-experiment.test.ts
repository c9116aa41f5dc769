import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { applyManifest, logged, optIntoChaos, startAgent, useBroadsideCrds } from "./agent-process.js";
import {
  adminClients,
  broadside,
  deployAndWait,
  eventually,
  kubectl,
  testDeployment,
  useTestNamespace,
} from "./harness.js";

/**
 * An Experiment applied with kubectl runs from the agent, as `broadside run FILE` runs it: its HTTP probe
 * (a server of this test on 127.0.0.1) is sampled before, during and after a pod of a Deployment is
 * killed, and the verdict, the probe's checks, the pod shot and the Events are on the object. Deleting an
 * Experiment while it runs stops it and reverts what it injected at once, long before its deadline; so
 * does the kill switch.
 */

interface ExperimentStatus {
  observedGeneration?: number;
  verdict?: string;
  startTime?: string;
  completionTime?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  probes?: { name: string; sent: number; failed: number; checks?: { phase: string; passed: boolean }[] }[];
  targets?: { kind: string; namespace: string; outcome: string }[];
}

let server: Server;
let url = "";

beforeAll(async () => {
  server = createServer((_request, response) => {
    response.writeHead(200).end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/`;
});

afterAll(async () => {
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
});

useBroadsideCrds("experiments.broadside.dev");

describe("an Experiment reconciled by the agent", () => {
  const namespace = useTestNamespace("it-experiment");

  beforeAll(async () => {
    await optIntoChaos(namespace());
  });

  async function statusOf(name: string): Promise<ExperimentStatus | undefined> {
    const found = (await adminClients().custom.getNamespacedCustomObject({
      group: "broadside.dev",
      version: "v1alpha1",
      namespace: namespace(),
      plural: "experiments",
      name,
    })) as { status?: ExperimentStatus };
    return found.status;
  }

  async function eventReasons(name: string): Promise<string[]> {
    const listed = await adminClients().core.listNamespacedEvent({
      namespace: namespace(),
      fieldSelector: `involvedObject.kind=Experiment,involvedObject.name=${name}`,
    });
    return listed.items.map((event) => event.reason ?? "").sort();
  }

  /** Ledger records still open that name this test's namespace. */
  async function openRecordsHere(): Promise<number> {
    const open = await adminClients().core.listNamespacedConfigMap({
      namespace: "broadside-system",
      labelSelector: "broadside.dev/state in (pending,active)",
    });
    return open.items.filter((record) => JSON.stringify(record.data ?? {}).includes(namespace())).length;
  }

  const webProbe = () => ({
    name: "web",
    http: { url, frequency: 10, timeout: "1s" },
    tolerances: ["availability >= 99%"],
  });

  it("kills a pod, probes before, during and after, and reports passed with its probe, target and Events", async () => {
    await deployAndWait(namespace(), testDeployment("web", 2));
    const agent = startAgent("--resync", "5s");
    await logged(agent, "leading: reconciling");
    await applyManifest({
      apiVersion: "broadside.dev/v1alpha1",
      kind: "Experiment",
      metadata: { name: "web-survives", namespace: namespace() },
      spec: {
        title: "web keeps answering while one of its pods is killed",
        hypothesis: { checks: ["before", "during", "after"], window: "2s", probes: [webProbe()] },
        method: [
          {
            name: "kill one web pod",
            fault: "pod-kill",
            selector: { labelSelectors: { app: "web" } },
            mode: "one",
          },
        ],
      },
    });
    const status = await eventually(
      "the experiment's verdict",
      async () => {
        const now = await statusOf("web-survives");
        return now?.verdict === undefined ? undefined : now;
      },
      120_000,
    );
    expect(status.verdict, JSON.stringify(status.conditions)).toBe("passed");
    expect(status.observedGeneration).toBe(1);
    expect(Date.parse(status.completionTime ?? "")).toBeGreaterThanOrEqual(
      Date.parse(status.startTime ?? ""),
    );
    const conditions = Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c.status]));
    expect(conditions).toMatchObject({
      Selected: "True",
      Injected: "True",
      Recovered: "True",
      Failed: "False",
    });
    const [probe] = status.probes ?? [];
    expect(probe?.name).toBe("web");
    expect(probe?.sent).toBeGreaterThan(0);
    expect(probe?.failed).toBe(0);
    expect(probe?.checks?.map((check) => [check.phase, check.passed])).toEqual([
      ["before", true],
      ["during", true],
      ["after", true],
    ]);
    expect(status.targets).toEqual([
      expect.objectContaining({ kind: "Pod", namespace: namespace(), outcome: "recovered" }),
    ]);
    expect(
      await eventually("the Events", async () => {
        const reasons = await eventReasons("web-survives");
        return reasons.includes("Passed") ? reasons : undefined;
      }),
    ).toEqual(["Passed", "Started"]);
    expect(await openRecordsHere()).toBe(0);
  });

  it("stops when deleted mid-run: the drift it made is reverted at once and the run ends aborted", async () => {
    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "app" }, data: { LOG_LEVEL: "info" } },
    });
    const agent = startAgent("--resync", "5s");
    await logged(agent, "leading: reconciling");
    await applyManifest({
      apiVersion: "broadside.dev/v1alpha1",
      kind: "Experiment",
      metadata: { name: "long-drift", namespace: namespace() },
      spec: {
        title: "a drift that lasts far longer than the test",
        hypothesis: { checks: ["before"], window: "1s", probes: [webProbe()] },
        method: [
          {
            name: "drift the log level",
            fault: "config-drift",
            params: {
              namespace: namespace(),
              kind: "configmap",
              name: "app",
              key: "LOG_LEVEL",
              value: "debug",
            },
            duration: "30m",
          },
        ],
      },
    });
    const level = async () =>
      (await adminClients().core.readNamespacedConfigMap({ name: "app", namespace: namespace() })).data
        ?.LOG_LEVEL;
    await eventually(
      "the drift injected",
      async () => ((await level()) === "debug" ? true : undefined),
      120_000,
    );
    expect(await openRecordsHere()).toBe(1);

    const deleted = await kubectl(
      inject("adminKubeconfig"),
      "-n",
      namespace(),
      "delete",
      "experiment",
      "long-drift",
    );
    expect(deleted.code, deleted.stderr).toBe(0);
    await eventually("the drift reverted", async () => ((await level()) === "info" ? true : undefined));
    expect(
      await eventually("the run's end told", async () => {
        const reasons = await eventReasons("long-drift");
        return reasons.includes("Deleted") ? reasons : undefined;
      }),
    ).toEqual(["Deleted", "Started"]);
    await eventually("the ledger record closed", async () =>
      (await openRecordsHere()) === 0 ? true : undefined,
    );
    // This agent also found the first test's Experiment finished: that generation ran once, not again.
    expect(await eventReasons("web-survives")).toEqual(["Passed", "Started"]);
  });

  it("stops on `broadside halt --hold`: the drift is reverted and the run ends aborted, Paused (Halted)", async () => {
    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "held" }, data: { LOG_LEVEL: "info" } },
    });
    const agent = startAgent("--resync", "5s");
    await logged(agent, "leading: reconciling");
    await applyManifest({
      apiVersion: "broadside.dev/v1alpha1",
      kind: "Experiment",
      metadata: { name: "halted-drift", namespace: namespace() },
      spec: {
        title: "a drift the kill switch stops",
        hypothesis: { checks: ["before"], window: "1s", probes: [webProbe()] },
        method: [
          {
            fault: "config-drift",
            params: {
              namespace: namespace(),
              kind: "configmap",
              name: "held",
              key: "LOG_LEVEL",
              value: "debug",
            },
            duration: "30m",
          },
          { wait: "30m" },
        ],
      },
    });
    const level = async () =>
      (await adminClients().core.readNamespacedConfigMap({ name: "held", namespace: namespace() })).data
        ?.LOG_LEVEL;
    await eventually(
      "the drift injected",
      async () => ((await level()) === "debug" ? true : undefined),
      120_000,
    );
    const admin = inject("adminKubeconfig");
    try {
      const halted = await broadside("halt", "--hold", "--reason", "it-experiment", "--kubeconfig", admin);
      expect(halted.code, halted.stderr).toBe(0);
      const status = await eventually("the run to end", async () => {
        const now = await statusOf("halted-drift");
        return now?.verdict === undefined ? undefined : now;
      });
      expect(status.verdict).toBe("aborted");
      const conditions = Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c.reason]));
      expect(conditions).toMatchObject({ Paused: "Halted", Failed: "Halted" });
      expect(await level()).toBe("info");
    } finally {
      const resumed = await broadside("resume", "--kubeconfig", admin);
      expect(resumed.code, resumed.stderr).toBe(0);
    }
  });

  it("refuses a front-door URL it cannot resolve, naming the field, and runs nothing", async () => {
    const agent = startAgent("--resync", "5s");
    await logged(agent, "leading: reconciling");
    await applyManifest({
      apiVersion: "broadside.dev/v1alpha1",
      kind: "Experiment",
      metadata: { name: "door", namespace: namespace() },
      spec: {
        title: "a door only the CLI knows",
        hypothesis: {
          window: "1s",
          probes: [
            { name: "door", http: { url: "front-door://web.default/" }, tolerances: ["availability >= 99%"] },
          ],
        },
        method: [{ wait: "1s" }],
      },
    });
    const failed = await eventually("the refusal", async () => {
      const now = await statusOf("door");
      return now?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
    });
    expect(failed.reason).toBe("InvalidSpec");
    expect(failed.message).toContain("spec.hypothesis.probes[0].http.url");
    const status = await statusOf("door");
    expect(status?.startTime).toBeUndefined();
    expect(status?.verdict).toBeUndefined();
  });
});

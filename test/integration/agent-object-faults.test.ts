import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  adminClients,
  deployAndWait,
  eventually,
  kubectl,
  repoRoot,
  testDeployment,
  useTestNamespace,
} from "./harness.js";
import { installCrds, optIntoChaos } from "./agent-process.js";

/**
 * The object faults as resources: ConfigDrift, ResourceSqueeze, Scale and PodChaos's pod-failure applied with kubectl to the
 * sandbox, reconciled by `broadside agent` running as a process of its own. Each is injected, reverted at
 * its deadline from the ledger, and reports Recovered; the finalizer `broadside.dev/revert` is held only
 * while the revert is pending: deleting the resource reverts at once, and a deleted target lets it go.
 */

const finalizer = "broadside.dev/revert";

interface Status {
  observedGeneration?: number;
  conditions?: {
    type: string;
    status: string;
    reason?: string;
    message?: string;
    lastTransitionTime?: string;
  }[];
  targets?: { kind: string; name: string; outcome: string; ledgerRecord?: string }[];
}

interface Resource {
  metadata?: { finalizers?: string[]; deletionTimestamp?: string };
  status?: Status;
}

let agent: { child: ChildProcess; logs: string[]; exited: Promise<number | null> } | undefined;
let installedCrds = false;

beforeAll(async () => {
  const admin = inject("adminKubeconfig");
  installedCrds = await installCrds(join(repoRoot, "deploy", "crds"), "configdrifts.broadside.dev");
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, "bin", "broadside.js"),
      "agent",
      "--kubeconfig",
      admin,
      "--no-leader-elect",
      "--health-probe-bind-address",
      "127.0.0.1:0",
      "--metrics-bind-address",
      "127.0.0.1:0",
      "--resync",
      "5s",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const logs: string[] = [];
  child.stderr.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  agent = { child, logs, exited };
  await eventually("the agent to reconcile", () =>
    logs.join("").includes('"msg":"leading: reconciling"') ? true : undefined,
  );
});

afterAll(async () => {
  if (agent !== undefined) {
    agent.child.kill("SIGTERM");
    await agent.exited;
  }
  if (installedCrds)
    await kubectl(inject("adminKubeconfig"), "delete", "-f", join(repoRoot, "deploy", "crds"));
});

describe("the object faults as resources, reconciled by the agent", () => {
  const namespace = useTestNamespace("it-objfaults");

  beforeAll(async () => {
    await optIntoChaos(namespace());
  });

  async function apply(kind: string, name: string, spec: Record<string, unknown>): Promise<void> {
    const manifest = join(tmpdir(), `${kind}-${name}-${namespace()}.json`);
    const body = {
      apiVersion: "broadside.dev/v1alpha1",
      kind,
      metadata: { name, namespace: namespace() },
      spec,
    };
    await writeFile(manifest, JSON.stringify(body));
    const applied = await kubectl(inject("adminKubeconfig"), "apply", "-f", manifest);
    expect(applied.code, applied.stderr).toBe(0);
  }

  async function read(plural: string, name: string): Promise<Resource | undefined> {
    try {
      return (await adminClients().custom.getNamespacedCustomObject({
        group: "broadside.dev",
        version: "v1alpha1",
        plural,
        namespace: namespace(),
        name,
      })) as Resource;
    } catch {
      return undefined;
    }
  }

  const condition = (resource: Resource | undefined, type: string) =>
    resource?.status?.conditions?.find((c) => c.type === type);

  async function until(
    what: string,
    plural: string,
    name: string,
    test: (r: Resource | undefined) => boolean,
  ) {
    try {
      return await eventually(
        what,
        async () => {
          const current = await read(plural, name);
          return test(current) ? (current ?? {}) : undefined;
        },
        60_000,
      );
    } catch (error: unknown) {
      const seen = JSON.stringify(await read(plural, name));
      const tail = (agent?.logs ?? []).join("").split("\n").slice(-15).join("\n");
      throw new Error(`${String(error)}\n${plural}/${name}: ${seen}\nagent:\n${tail}`, { cause: error });
    }
  }

  const injected = (r: Resource | undefined) => condition(r, "Injected")?.status === "True";
  const recovered = (r: Resource | undefined) => condition(r, "Recovered")?.status === "True";
  const released = (r: Resource | undefined) =>
    recovered(r) && !(r?.metadata?.finalizers ?? []).includes(finalizer);

  async function ledgerState(id: string | undefined): Promise<string | undefined> {
    const record = await adminClients().core.readNamespacedConfigMap({
      name: `ledger-${id ?? ""}`,
      namespace: "broadside-system",
    });
    return record.metadata?.labels?.["broadside.dev/state"];
  }

  async function configMapData(name: string) {
    return (await adminClients().core.readNamespacedConfigMap({ name, namespace: namespace() })).data;
  }

  it("injects a ConfigDrift, reverts it at its deadline byte for byte, reports Recovered and drops the finalizer", async () => {
    const data = { LOG_LEVEL: "info", "app.properties": "a=1\nb= 2 \n" };
    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "app" }, data },
    });
    await apply("ConfigDrift", "drift-app", {
      namespace: namespace(),
      kind: "configmap",
      name: "app",
      key: "LOG_LEVEL",
      value: "debug",
      duration: "3s",
    });
    const whileInjected = await until("the drift injected", "configdrifts", "drift-app", injected);
    expect(whileInjected.metadata?.finalizers).toContain(finalizer);
    expect(whileInjected.status?.targets).toEqual([
      expect.objectContaining({ kind: "ConfigMap", name: "app", outcome: "injected" }),
    ]);
    // Seen in the target while held (unless the 3 s were already over on a loaded machine).
    const during = (await configMapData("app"))?.LOG_LEVEL;
    const over = recovered(await read("configdrifts", "drift-app"));
    expect(over ? "debug" : during).toBe("debug");

    const done = await until("the drift recovered, finalizer gone", "configdrifts", "drift-app", released);
    expect(condition(done, "Recovered")?.reason).toBe("Reverted");
    expect(done.status?.targets).toEqual([expect.objectContaining({ outcome: "reverted" })]);
    expect(await configMapData("app")).toEqual(data);
    expect(await ledgerState(done.status?.targets?.[0]?.ledgerRecord)).toBe("closed");
  });

  it("reverts at once when a ConfigDrift is deleted before its deadline, and the object goes", async () => {
    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "early" }, data: { LOG_LEVEL: "info" } },
    });
    await apply("ConfigDrift", "drift-early", {
      namespace: namespace(),
      kind: "configmap",
      name: "early",
      key: "LOG_LEVEL",
      value: "debug",
      duration: "1h",
    });
    await until("the drift injected", "configdrifts", "drift-early", injected);
    expect((await configMapData("early"))?.LOG_LEVEL).toBe("debug");

    // kubectl delete waits for the object to be gone: a stuck finalizer would time it out.
    const deleted = await kubectl(
      inject("adminKubeconfig"),
      "delete",
      "configdrift",
      "drift-early",
      "-n",
      namespace(),
      "--timeout=60s",
    );
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(await read("configdrifts", "drift-early")).toBeUndefined();
    expect((await configMapData("early"))?.LOG_LEVEL).toBe("info");
  });

  it("lets the finalizer go when the target is deleted under a pending revert", async () => {
    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "doomed" }, data: { LOG_LEVEL: "info" } },
    });
    await apply("ConfigDrift", "drift-doomed", {
      namespace: namespace(),
      kind: "configmap",
      name: "doomed",
      key: "LOG_LEVEL",
      value: "debug",
      duration: "1h",
    });
    await until("the drift injected", "configdrifts", "drift-doomed", injected);
    await adminClients().core.deleteNamespacedConfigMap({ name: "doomed", namespace: namespace() });

    const done = await until("the finalizer released", "configdrifts", "drift-doomed", released);
    expect(condition(done, "Recovered")?.reason).toBe("TargetGone");
    expect(done.status?.targets).toEqual([expect.objectContaining({ outcome: "gone" })]);
  });

  it("squeezes a Deployment's limits with a ResourceSqueeze and puts them back at the deadline", async () => {
    await adminClients().apps.createNamespacedDeployment({
      namespace: namespace(),
      body: testDeployment("squeezed", 1),
    });
    const resources = async () =>
      (await adminClients().apps.readNamespacedDeployment({ name: "squeezed", namespace: namespace() })).spec
        ?.template.spec?.containers[0]?.resources;
    const before = await resources();
    await apply("ResourceSqueeze", "squeeze", {
      namespace: namespace(),
      kind: "deployment",
      name: "squeezed",
      cpu: "50m",
      memory: "32Mi",
      duration: "3s",
    });
    await until("the squeeze injected", "resourcesqueezes", "squeeze", injected);
    const done = await until("the squeeze recovered", "resourcesqueezes", "squeeze", released);
    expect(done.status?.targets).toEqual([
      expect.objectContaining({ kind: "Deployment", outcome: "reverted" }),
    ]);
    expect(await resources()).toEqual(before);
  });

  it("scales a Deployment with a Scale and puts its replicas back at the deadline", async () => {
    await adminClients().apps.createNamespacedDeployment({
      namespace: namespace(),
      body: testDeployment("scaled", 2),
    });
    const replicas = async () =>
      (await adminClients().apps.readNamespacedDeployment({ name: "scaled", namespace: namespace() })).spec
        ?.replicas;
    await apply("Scale", "scale-down", {
      namespace: namespace(),
      kind: "deployment",
      name: "scaled",
      replicas: 1,
      duration: "3s",
    });
    await until("the scale injected", "scales", "scale-down", injected);
    const done = await until("the scale recovered", "scales", "scale-down", released);
    expect(done.status?.targets).toEqual([
      expect.objectContaining({ kind: "Deployment", outcome: "reverted" }),
    ]);
    expect(await replicas()).toBe(2);
  });

  it("pauses a pod with a PodChaos pod-failure and puts its exact image back at the deadline", async () => {
    await deployAndWait(namespace(), testDeployment("paused", 2, 1));
    const images = async () =>
      (
        await adminClients().core.listNamespacedPod({ namespace: namespace(), labelSelector: "app=paused" })
      ).items.map((pod) => pod.spec?.containers[0]?.image);
    await apply("PodChaos", "pause-one", {
      action: "pod-failure",
      mode: "one",
      selector: { labelSelectors: { app: "paused" } },
      duration: "4s",
    });
    const whileInjected = await until("the pod paused", "podchaos", "pause-one", injected);
    expect(whileInjected.metadata?.finalizers).toContain(finalizer);
    expect(whileInjected.status?.targets).toEqual([
      expect.objectContaining({ kind: "Pod", outcome: "injected" }),
    ]);
    // One of the two pods runs the pause image while held (unless the 4 s were over on a loaded machine).
    const during = await images();
    const over = recovered(await read("podchaos", "pause-one"));
    if (!over) expect(during.filter((image) => image === "registry.k8s.io/pause:3.10")).toHaveLength(1);

    const done = await until("the pod restored, finalizer gone", "podchaos", "pause-one", released);
    expect(condition(done, "Recovered")?.reason).toBe("Reverted");
    expect(done.status?.targets).toEqual([expect.objectContaining({ kind: "Pod", outcome: "reverted" })]);
    expect(await images()).toEqual(["registry.invalid/app:1", "registry.invalid/app:1"]);
    expect(await ledgerState(done.status?.targets?.[0]?.ledgerRecord)).toBe("closed");
  });

  /** The second round created only once the first had its images back (Recovered True): Forbid. */
  async function roundsApart(two: readonly (Resource & { metadata: { creationTimestamp: string } })[]) {
    const [first, second] = two;
    if (first === undefined || second === undefined) throw new Error("expected two rounds");
    const firstBack = Date.parse(condition(first, "Recovered")?.lastTransitionTime ?? "");
    expect(Date.parse(second.metadata.creationTimestamp)).toBeGreaterThanOrEqual(firstBack);
    for (const round of two) await roundReverted(round);
  }

  async function roundReverted(round: Resource): Promise<void> {
    expect(condition(round, "Recovered")?.reason).toBe("Reverted");
    expect(round.status?.targets).toEqual([expect.objectContaining({ kind: "Pod", outcome: "reverted" })]);
    expect(await ledgerState(round.status?.targets?.[0]?.ledgerRecord)).toBe("closed");
  }

  it("runs a Schedule of pod-failure: each round journaled and reverted, the next only after the last is back (Forbid)", async () => {
    await deployAndWait(namespace(), testDeployment("rounds", 2, 1));
    await apply("Schedule", "pause-rounds", {
      schedule: "@every 5s",
      type: "PodChaos",
      historyLimit: 5,
      podChaos: {
        action: "pod-failure",
        mode: "one",
        selector: { labelSelectors: { app: "rounds" } },
        duration: "7s",
      },
    });
    const children = async () =>
      (
        (await adminClients().custom.listNamespacedCustomObject({
          group: "broadside.dev",
          version: "v1alpha1",
          plural: "podchaos",
          namespace: namespace(),
        })) as { items: (Resource & { metadata: { name: string; creationTimestamp: string } })[] }
      ).items
        .filter((child) => child.metadata.name.startsWith("pause-rounds-"))
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const two = await eventually(
      "two rounds, both reverted",
      async () => {
        const now = await children();
        return now.length >= 2 && now.slice(0, 2).every(recovered) ? now.slice(0, 2) : undefined;
      },
      90_000,
    );
    await kubectl(
      inject("adminKubeconfig"),
      "delete",
      "schedules.broadside.dev",
      "pause-rounds",
      "-n",
      namespace(),
    );
    await roundsApart(two);
    // A round the deletion caught is reverted at once (its PodChaos goes with the Schedule, its finalizer first).
    await eventually("every image back", async () => {
      const pods = await adminClients().core.listNamespacedPod({
        namespace: namespace(),
        labelSelector: "app=rounds",
      });
      const images = pods.items.map((pod) => pod.spec?.containers[0]?.image);
      return images.every((image) => image === "registry.invalid/app:1") ? true : undefined;
    });
  });

  it("refuses a spec naming a missing key to remove: Failed InvalidSpec, no finalizer, nothing changed", async () => {
    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "untouched" }, data: { A: "1" } },
    });
    await apply("ConfigDrift", "drift-bad", {
      namespace: namespace(),
      kind: "configmap",
      name: "untouched",
      key: "MISSING",
      remove: true,
      duration: "3s",
    });
    const failed = await until(
      "the drift failed",
      "configdrifts",
      "drift-bad",
      (r) => condition(r, "Failed")?.status === "True",
    );
    expect(condition(failed, "Failed")?.reason).toBe("InvalidSpec");
    expect(condition(failed, "Failed")?.message).toMatch(/^spec\.key: /);
    expect(failed.metadata?.finalizers ?? []).not.toContain(finalizer);
    expect(await configMapData("untouched")).toEqual({ A: "1" });
  });
});

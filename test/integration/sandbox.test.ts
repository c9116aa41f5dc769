import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, inject, it } from "vitest";
import { kubernetesVersion } from "../../src/sandbox/versions.js";
import {
  adminClients,
  deployAndWait,
  broadside,
  eventually,
  httpStatusOf,
  isReady,
  kubectl,
  testDeployment,
  useTestNamespace,
} from "./harness.js";
import { integrationSandboxName } from "./names.js";

async function readyPods(namespace: string, app: string): Promise<V1Pod[]> {
  const pods = await adminClients().core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return pods.items.filter((pod) => isReady(pod) && pod.metadata?.deletionTimestamp === undefined);
}

async function deployReady(namespace: string, name: string, replicas: number): Promise<V1Pod[]> {
  await deployAndWait(namespace, testDeployment(name, replicas, 5));
  return readyPods(namespace, name);
}

describe("the sandbox is a real Kubernetes control plane", () => {
  const namespace = useTestNamespace("it-sandbox");

  it("prints its admin kubeconfig path, which kubectl uses to reach the pinned upstream server version", async () => {
    const printed = await broadside("sandbox", "kubeconfig", "--name", integrationSandboxName);
    expect(printed.code).toBe(0);
    expect(printed.stdout.trim()).toBe(inject("adminKubeconfig"));
    const version = await kubectl(printed.stdout.trim(), "version", "-o", "json");
    expect(version.code, version.stderr).toBe(0);
    const parsed = JSON.parse(version.stdout) as { serverVersion: { gitVersion: string } };
    expect(parsed.serverVersion.gitVersion).toBe(kubernetesVersion);
  });

  it("has three Ready nodes played by kwok", async () => {
    const nodes = await kubectl(inject("adminKubeconfig"), "get", "nodes", "-o", "json");
    const list = JSON.parse(nodes.stdout) as {
      items: { status: { conditions: { type: string; status: string }[] } }[];
    };
    const ready = list.items.filter((node) =>
      node.status.conditions.some((c) => c.type === "Ready" && c.status === "True"),
    );
    expect(ready).toHaveLength(3);
  });

  it("runs a 3-replica Deployment to Available, spread by the scheduler over the nodes", async () => {
    const pods = await deployReady(namespace(), "web", 3);
    expect(pods).toHaveLength(3);
    expect(new Set(pods.map((pod) => pod.spec?.nodeName)).size).toBeGreaterThan(1);
    for (const pod of pods) expect(pod.status?.podIP).toMatch(/^10\.244\./);
  });

  it("replaces a deleted pod: ReplicaSet controller, scheduler and kwok all at work", async () => {
    const before = await readyPods(namespace(), "web");
    const victim = before[0];
    expect(victim).toBeDefined();
    const deleted = await kubectl(
      inject("adminKubeconfig"),
      "-n",
      namespace(),
      "delete",
      "pod",
      victim?.metadata?.name ?? "",
      "--wait=false",
    );
    expect(deleted.code, deleted.stderr).toBe(0);
    const oldUids = new Set(before.map((pod) => pod.metadata?.uid));
    const replacement = await eventually("a Ready replacement pod", async () => {
      const pods = await readyPods(namespace(), "web");
      return pods.find((pod) => !oldUids.has(pod.metadata?.uid));
    });
    expect(replacement.spec?.nodeName).toMatch(/^kwok-node-/);
    expect(replacement.metadata?.ownerReferences?.[0]?.kind).toBe("ReplicaSet");
  });

  it("refuses with 429 to evict a pod whose PodDisruptionBudget is at its minimum, and allows it when there is room", async () => {
    const pods = await deployReady(namespace(), "guarded", 2);
    const { policy, core } = adminClients();
    await policy.createNamespacedPodDisruptionBudget({
      namespace: namespace(),
      body: {
        metadata: { name: "guarded" },
        spec: { minAvailable: 2, selector: { matchLabels: { app: "guarded" } } },
      },
    });
    await eventually("the PDB controller to compute the budget", async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({ name: "guarded", namespace: namespace() });
      return pdb.status?.currentHealthy === 2 && pdb.status.observedGeneration === pdb.metadata?.generation
        ? true
        : undefined;
    });
    const victim = pods[0]?.metadata?.name ?? "";
    const evict = () =>
      core.createNamespacedPodEviction({
        name: victim,
        namespace: namespace(),
        body: { metadata: { name: victim, namespace: namespace() } },
      });
    const refusal = await evict().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(httpStatusOf(refusal)).toBe(429);
    expect(
      (await core.readNamespacedPod({ name: victim, namespace: namespace() })).metadata?.deletionTimestamp,
    ).toBeUndefined();

    await policy.patchNamespacedPodDisruptionBudget({
      name: "guarded",
      namespace: namespace(),
      body: [{ op: "replace", path: "/spec/minAvailable", value: 1 }],
    });
    await eventually("the eviction to be allowed once the budget has room", () =>
      evict().then(
        () => true,
        () => undefined,
      ),
    );
  });

  it("lets the restricted user read pods but forbids it to delete them", async () => {
    const viewer = inject("viewerKubeconfig");
    const list = await kubectl(viewer, "-n", namespace(), "get", "pods");
    expect(list.code, list.stderr).toBe(0);
    const pod = (await readyPods(namespace(), "web"))[0]?.metadata?.name ?? "";
    const deletion = await kubectl(viewer, "-n", namespace(), "delete", "pod", pod);
    expect(deletion.code).not.toBe(0);
    expect(deletion.stderr).toMatch(/Forbidden/);
    expect(deletion.stderr).toContain('cannot delete resource "pods"');
    const stillThere = await adminClients().core.readNamespacedPod({ name: pod, namespace: namespace() });
    expect(stillThere.metadata?.deletionTimestamp).toBeUndefined();
  });

  it("reuses the running sandbox on a second `up`: same API server, same processes", async () => {
    const before = JSON.parse(
      (await broadside("sandbox", "status", "--name", integrationSandboxName, "-o", "json")).stdout,
    ) as { apiServer: string; components: { pid: number }[] };
    const again = await broadside("sandbox", "up", "--name", integrationSandboxName);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("already up; reusing it");
    const after = JSON.parse(
      (await broadside("sandbox", "status", "--name", integrationSandboxName, "-o", "json")).stdout,
    ) as typeof before;
    expect(after.apiServer).toBe(before.apiServer);
    expect(after.components.map((c) => c.pid)).toEqual(before.components.map((c) => c.pid));
  });
});

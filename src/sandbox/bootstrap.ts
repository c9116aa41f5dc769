import type { V1Node } from "@kubernetes/client-node";
import type { Clock } from "../core/clock.js";
import { BroadsideError } from "../core/errors.js";
import { type KubeClients } from "../kube/client.js";
import { apiStatus, createIfMissing } from "../kube/api-errors.js";
import { viewerUserName } from "./pki.js";

/**
 * Polls `check` every 200 ms until it returns true; used only while a sandbox (or the demo fleet) is
 * being set up. The sandbox passes its clock; the default serves callers that have none of their own yet.
 */
export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  clock: Clock,
): Promise<void> {
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (clock.now() > deadline) {
      throw new BroadsideError("BRD_TIMEOUT", `timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    }
    await clock.sleep(200);
  }
}

/** Pods are refused until the service-account controller has made the `default` ServiceAccount. */
export async function waitForDefaultServiceAccount(kube: KubeClients, clock: Clock): Promise<void> {
  await waitFor(
    "the default ServiceAccount",
    60_000,
    async () => {
      try {
        await kube.core.readNamespacedServiceAccount({ name: "default", namespace: "default" });
        return true;
      } catch (error: unknown) {
        if (apiStatus(error) === 404) return false;
        throw error;
      }
    },
    clock,
  );
}

export const viewerRoleName = "broadside-sandbox-pod-reader";

/** The restricted user may get, list and watch pods, and nothing else. */
export async function grantViewerPodReadAccess(kube: KubeClients): Promise<void> {
  await createIfMissing(() =>
    kube.rbac.createClusterRole({
      body: {
        metadata: { name: viewerRoleName },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
      },
    }),
  );
  await createIfMissing(() =>
    kube.rbac.createClusterRoleBinding({
      body: {
        metadata: { name: viewerRoleName },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: viewerRoleName },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: viewerUserName }],
      },
    }),
  );
}

export function nodeName(index: number): string {
  return `kwok-node-${index}`;
}

/** A fake node for kwok to play kubelet for; sized like a mid-range cloud VM. */
export function fakeNode(name: string): V1Node {
  const resources = { cpu: "8", memory: "32Gi", pods: "110" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake" },
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        type: "kwok",
      },
    },
    spec: { providerID: `kwok://${name}` },
    status: { allocatable: resources, capacity: resources },
  };
}

export async function createNodes(kube: KubeClients, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    await createIfMissing(() => kube.core.createNode({ body: fakeNode(nodeName(index)) }));
  }
}

/** Ready, and the not-ready taint removed by the node-lifecycle controller, so pods can be scheduled. */
export function isSchedulable(node: V1Node): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  const tainted = node.spec?.taints?.some((t) => t.key.startsWith("node.kubernetes.io/")) ?? false;
  return ready && !tainted && node.spec?.unschedulable !== true;
}

export async function waitForSchedulableNodes(kube: KubeClients, count: number, clock: Clock): Promise<void> {
  await waitFor(
    `${count} Ready nodes`,
    120_000,
    async () => {
      const nodes = await kube.core.listNode();
      return nodes.items.filter(isSchedulable).length >= count;
    },
    clock,
  );
}

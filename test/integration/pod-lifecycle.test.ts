import { Watch, type V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { defaultLifecycle } from "../../src/sandbox/sandbox.js";
import { adminClients, eventually, isReady, useTestNamespace } from "./harness.js";

interface Seen {
  scheduledAt?: number;
  readyAt?: number;
  terminatingAt?: number;
  goneAt?: number;
}

/** Notes when (epoch ms, as each watch event arrives) a pod was first scheduled, Ready, Terminating, gone. */
function record(seen: Seen, type: string, pod: V1Pod, now: number): void {
  const reached: [keyof Seen, boolean][] = [
    ["scheduledAt", pod.spec?.nodeName !== undefined],
    ["readyAt", isReady(pod)],
    ["terminatingAt", pod.metadata?.deletionTimestamp !== undefined],
    ["goneAt", type === "DELETED"],
  ];
  for (const [milestone, isReached] of reached) if (isReached) seen[milestone] ??= now;
}

async function watchPod(namespace: string, name: string) {
  const seen: Seen = {};
  const kube = adminClients();
  const controller = await new Watch(kube.config).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    { fieldSelector: `metadata.name=${name}` },
    (type: string, pod: V1Pod) => {
      record(seen, type, pod, Date.now());
    },
    () => undefined,
  );
  return {
    seen,
    stop: () => {
      controller.abort();
    },
  };
}

function pod(name: string, gracePeriodSeconds: number, annotations: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name, annotations },
    spec: {
      terminationGracePeriodSeconds: gracePeriodSeconds,
      containers: [{ name: "app", image: "registry.invalid/app:1" }],
    },
  };
}

describe("simulated pods have a realistic lifecycle", () => {
  const namespace = useTestNamespace("it-lifecycle");

  it(`take at least the configured ready delay (${defaultLifecycle.readyDelay.toString()}) from scheduling to Ready`, async () => {
    const watch = await watchPod(namespace(), "slow-start");
    try {
      await adminClients().core.createNamespacedPod({ namespace: namespace(), body: pod("slow-start", 5) });
      const { scheduledAt, readyAt } = await eventually("the pod to become Ready", () =>
        watch.seen.readyAt === undefined ? undefined : watch.seen,
      );
      expect(scheduledAt).toBeDefined();
      expect((readyAt ?? 0) - (scheduledAt ?? 0)).toBeGreaterThanOrEqual(
        defaultLifecycle.readyDelay.milliseconds,
      );
    } finally {
      watch.stop();
    }
  });

  it("start faster when a pod asks for it with kwok's per-pod delay annotation", async () => {
    const watch = await watchPod(namespace(), "quick-start");
    try {
      const annotations = {
        "pod-ready.stage.kwok.x-k8s.io/delay": "0s",
        "pod-ready.stage.kwok.x-k8s.io/jitter-delay": "0s",
      };
      await adminClients().core.createNamespacedPod({
        namespace: namespace(),
        body: pod("quick-start", 5, annotations),
      });
      const seen = await eventually("the pod to become Ready", () =>
        watch.seen.readyAt === undefined ? undefined : watch.seen,
      );
      expect((seen.readyAt ?? 0) - (seen.scheduledAt ?? 0)).toBeLessThan(
        defaultLifecycle.readyDelay.milliseconds,
      );
    } finally {
      watch.stop();
    }
  });

  it(`stay Terminating after a graceful delete, for at least the shutdown delay (${defaultLifecycle.shutdownDelay.toString()}), then go away`, async () => {
    const name = "graceful";
    const { core } = adminClients();
    await core.createNamespacedPod({ namespace: namespace(), body: pod(name, 3) });
    await eventually("the pod to become Ready", async () =>
      isReady(await core.readNamespacedPod({ name, namespace: namespace() })) ? true : undefined,
    );
    const watch = await watchPod(namespace(), name);
    try {
      const deleteSentAt = Date.now();
      await core.deleteNamespacedPod({ name, namespace: namespace() });
      // Right after the DELETE the pod still exists: with no kubelet it would stay forever; kwok ends it.
      const terminating = await core.readNamespacedPod({ name, namespace: namespace() });
      expect(terminating.metadata?.deletionTimestamp).toBeDefined();
      const goneAt = await eventually("the pod to be gone", () => watch.seen.goneAt);
      expect(watch.seen.terminatingAt).toBeDefined();
      expect(goneAt - deleteSentAt).toBeGreaterThanOrEqual(defaultLifecycle.shutdownDelay.milliseconds);
    } finally {
      watch.stop();
    }
  });
});

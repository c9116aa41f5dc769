import type { V1Pod } from "@kubernetes/client-node";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { BroadsideError } from "../../src/core/errors.js";
import { startTraffic } from "../../src/sandbox/traffic/traffic.js";
import type { Traffic } from "../../src/sandbox/traffic/traffic.js";
import { adminClients, eventually, isReady, kubectl, useTestNamespace } from "./harness.js";

/** What one request through 127.0.0.1 gave: an HTTP answer, or the socket error that came instead. */
interface Outcome {
  readonly status?: number;
  readonly pod?: string;
  readonly error?: string;
  readonly ms: number;
  readonly at: number;
}

/** One GET to 127.0.0.1:port on its own connection; never throws. Only loopback is ever dialed here. */
function get(port: number): Promise<Outcome> {
  const started = performance.now();
  const at = Date.now();
  return new Promise<Outcome>((resolve) => {
    const sent = request(
      { host: "127.0.0.1", port, path: "/", agent: false, timeout: 10_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", (error: NodeJS.ErrnoException) => {
          resolve({ error: error.code ?? error.message, ms: performance.now() - started, at });
        });
        response.on("end", () => {
          const status = response.statusCode ?? 0;
          const ms = performance.now() - started;
          const pod = response.headers["x-broadside-pod"];
          resolve(typeof pod === "string" ? { status, pod, ms, at } : { status, ms, at });
        });
      },
    );
    sent.on("timeout", () => sent.destroy(new Error("timeout")));
    sent.on("error", (error: NodeJS.ErrnoException) => {
      resolve({ error: error.code ?? error.message, ms: performance.now() - started, at });
    });
    sent.end();
  });
}

async function getMany(port: number, count: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let i = 0; i < count; i += 1) outcomes.push(await get(port));
  return outcomes;
}

const app = "web";

/** Waits until `check` holds, looking every 2 ms, and returns when it first held (epoch ms). */
async function stampWhen(check: () => boolean, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return Date.now();
}

interface Moments {
  readonly deletedAt: number;
  readonly closedAt: number;
  readonly droppedAt: number;
}

/** What the deletion did to the traffic, for the log: the figures the issue asks to see. */
function windowFigures(outcomes: readonly Outcome[], moments: Moments): Record<string, unknown> {
  const { deletedAt, closedAt, droppedAt } = moments;
  const failed = outcomes.filter((o) => o.status !== 200);
  // From the DELETE to the endpoint's removal: requests sent just before the listener closed fail too.
  const inWindow = outcomes.filter((o) => o.at >= deletedAt && o.at <= droppedAt);
  return {
    requests: outcomes.length,
    failed: failed.length,
    failures: [...new Set(failed.map((o) => o.error ?? String(o.status)))],
    listenerClosedAfterMs: closedAt - deletedAt,
    endpointDroppedAfterMs: droppedAt - deletedAt,
    deadEndpointMs: droppedAt - closedAt,
    requestsStartedInWindow: inWindow.length,
    failedInWindow: inWindow.filter((o) => o.status !== 200).length,
    failuresAfterDrop: failed.filter((o) => o.at > droppedAt).length,
  };
}

describe("sandbox traffic: real HTTP on loopback for demo workloads", () => {
  const namespace = useTestNamespace("it-traffic");
  const errors: BroadsideError[] = [];
  let traffic: Traffic | undefined;

  function started(): Traffic {
    if (traffic === undefined) throw new Error("traffic did not start");
    return traffic;
  }

  function frontDoor(): number {
    const port = started().frontDoorPort(namespace(), app);
    if (port === undefined) throw new Error("the front door is not listening");
    return port;
  }

  async function readyPods(): Promise<V1Pod[]> {
    const pods = await adminClients().core.listNamespacedPod({
      namespace: namespace(),
      labelSelector: `app=${app}`,
    });
    return pods.items.filter((pod) => isReady(pod) && pod.metadata?.deletionTimestamp === undefined);
  }

  /** Two Ready pods, both routed to by the front door and both with a listener. */
  async function twoServingPods(): Promise<V1Pod[]> {
    return eventually("two ready endpoints with listeners", async () => {
      const endpoints = started().readyEndpoints(namespace(), app);
      if (
        endpoints.length !== 2 ||
        !endpoints.every((uid) => started().podListener(uid)?.port !== undefined)
      ) {
        return undefined;
      }
      const pods = await readyPods();
      const uids = pods.map((pod) => pod.metadata?.uid ?? "").sort();
      return JSON.stringify(uids) === JSON.stringify(endpoints) ? pods : undefined;
    });
  }

  async function annotate(annotation: string): Promise<void> {
    const result = await kubectl(
      inject("adminKubeconfig"),
      "-n",
      namespace(),
      "annotate",
      "pods",
      "-l",
      `app=${app}`,
      "--overwrite",
      annotation,
    );
    expect(result.code, result.stderr).toBe(0);
  }

  async function behaviourApplied(check: (latencyMs: number, errorRate: number) => boolean): Promise<void> {
    await eventually("the annotation to reach every listener", () => {
      const endpoints = started().readyEndpoints(namespace(), app);
      const applied = endpoints.every((uid) => {
        const behaviour = started().podListener(uid)?.behaviour;
        return behaviour !== undefined && check(behaviour.latencyMs, behaviour.errorRate);
      });
      return endpoints.length === 2 && applied ? true : undefined;
    });
  }

  beforeAll(async () => {
    const { apps, core } = adminClients();
    await apps.createNamespacedDeployment({
      namespace: namespace(),
      body: {
        metadata: { name: app },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels: { app, "broadside.dev/serve": "http" } },
            spec: {
              terminationGracePeriodSeconds: 5,
              containers: [
                { name: "app", image: "registry.invalid/app:1", ports: [{ containerPort: 8080 }] },
              ],
            },
          },
        },
      },
    });
    await core.createNamespacedService({
      namespace: namespace(),
      body: {
        metadata: { name: app, labels: { "broadside.dev/serve": "http" } },
        spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    });
    traffic = await startTraffic(adminClients(), {
      namespaces: [namespace()],
      onError: (error) => errors.push(error),
    });
  });

  afterAll(async () => {
    await traffic?.stop();
  });

  it("serves requests through the front door from both pods of the Deployment", async () => {
    const pods = await twoServingPods();
    const outcomes = await getMany(frontDoor(), 60);
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
    const names = new Set(pods.map((pod) => pod.metadata?.name));
    expect(new Set(outcomes.map((o) => o.pod))).toEqual(names);
    // The listener answers with its pod's identity, on a loopback port of its own.
    const uid = pods[0]?.metadata?.uid ?? "";
    const listener = started().podListener(uid);
    expect(listener?.pod).toBe(pods[0]?.metadata?.name);
    expect(listener?.port).toBeGreaterThan(0);
  });

  it("closes a deleted pod's listener at once; requests fail until EndpointSlices drop it, then all succeed", async () => {
    const pods = await twoServingPods();
    const victim = pods[0];
    const victimUid = victim?.metadata?.uid ?? "";
    const victimName = victim?.metadata?.name ?? "";
    const victimPort = started().podListener(victimUid)?.port ?? 0;
    expect((await get(victimPort)).status).toBe(200);

    // Four clients hammer the front door across the deletion, as a probe under load would.
    const outcomes: Outcome[] = [];
    let running = true;
    const clients = Array.from({ length: 4 }, async () => {
      while (running) outcomes.push(await get(frontDoor()));
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const deletedAt = Date.now();
    await adminClients().core.deleteNamespacedPod({ name: victimName, namespace: namespace() });
    // Stamped by polling Broadside's in-memory view every 2 ms: cheap, and close to the watch events.
    const closedAt = await stampWhen(() => started().podListener(victimUid) === undefined);
    const droppedAt = await stampWhen(() => !started().readyEndpoints(namespace(), app).includes(victimUid));
    expect((await get(victimPort)).error).toBe("ECONNREFUSED");
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await Promise.all(clients);

    const failed = outcomes.filter((o) => o.status !== 200);
    const byVictimAfterDrop = outcomes.filter((o) => o.pod === victimName && o.at > droppedAt);
    const figures = windowFigures(outcomes, { deletedAt, closedAt, droppedAt });
    process.stderr.write(`[traffic] deletion window: ${JSON.stringify(figures)}\n`);
    expect(failed.every((o) => o.status === 502)).toBe(true);
    expect(byVictimAfterDrop).toEqual([]);

    // Once the endpoint is gone, every request succeeds, via the survivor (or its replacement).
    const after = await getMany(frontDoor(), 60);
    expect(after.filter((o) => o.status !== 200)).toEqual([]);
    expect(after.some((o) => o.pod === victimName)).toBe(false);
  });

  it("fails the share of requests the error-rate annotation asks for", async () => {
    await twoServingPods();
    await annotate("broadside.dev/error-rate=1");
    await behaviourApplied((_latency, rate) => rate === 1);
    const all = await getMany(frontDoor(), 30);
    expect(all.map((o) => o.status)).toEqual(Array.from({ length: 30 }, () => 500));

    await annotate("broadside.dev/error-rate=0.3");
    await behaviourApplied((_latency, rate) => rate === 0.3);
    const some = await getMany(frontDoor(), 400);
    const share = some.filter((o) => o.status === 500).length / some.length;
    process.stderr.write(`[traffic] error-rate 0.3: ${share} of ${some.length} requests failed\n`);
    // n = 400: one standard deviation is 0.023, so this bound is more than six of them either side.
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.45);
    expect(some.every((o) => o.status === 200 || o.status === 500)).toBe(true);

    await annotate("broadside.dev/error-rate-");
    await behaviourApplied((_latency, rate) => rate === 0);
    expect((await getMany(frontDoor(), 20)).every((o) => o.status === 200)).toBe(true);
  });

  it("slows every answer by at least the latency annotation", async () => {
    await twoServingPods();
    await annotate("broadside.dev/latency=250ms");
    await behaviourApplied((latency) => latency === 250);
    const slow = await getMany(frontDoor(), 10);
    expect(slow.every((o) => o.status === 200)).toBe(true);
    const fastest = Math.min(...slow.map((o) => o.ms));
    process.stderr.write(`[traffic] latency 250ms: fastest answer ${fastest.toFixed(1)} ms\n`);
    expect(fastest).toBeGreaterThanOrEqual(249);
    await annotate("broadside.dev/latency-");
  });

  it("reported no errors while serving", () => {
    expect(errors.map((error) => error.message)).toEqual([]);
  });
});

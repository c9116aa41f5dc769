import type { V1Deployment, V1Pod, V1Service } from "@kubernetes/client-node";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import type { BroadsideError } from "../../src/core/errors.js";
import { freePorts } from "../../src/sandbox/ports.js";
import type { DoorsReport } from "../../src/sandbox/traffic/front-doors.js";
import { startTraffic } from "../../src/sandbox/traffic/traffic.js";
import type { Traffic } from "../../src/sandbox/traffic/traffic.js";
import {
  adminClients,
  broadside,
  deployAndWait,
  eventually,
  holdPort,
  isReady,
  kubectl,
  testDeployment,
  useTestNamespace,
} from "./harness.js";
import { integrationSandboxName } from "./names.js";

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
const serve = { "broadside.dev/serve": "http" };

/** A Deployment whose pods opt in to real HTTP, with a 5 s grace period (Terminating for 1 to 5 s). */
function servedDeployment(name: string, replicas: number): V1Deployment {
  const deployment = testDeployment(name, replicas, 5);
  const template = deployment.spec?.template;
  if (template?.metadata?.labels !== undefined) Object.assign(template.metadata.labels, serve);
  const container = template?.spec?.containers[0];
  if (container !== undefined) container.ports = [{ containerPort: 8080 }];
  return deployment;
}

function servedService(name: string, annotations: Record<string, string> = {}): V1Service {
  return {
    metadata: { name, labels: serve, annotations },
    spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
  };
}

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
  return {
    requests: outcomes.length,
    failed: failed.length,
    failures: [...new Set(failed.map((o) => o.error ?? String(o.status)))],
    endpointDroppedAfterMs: droppedAt - deletedAt,
    listenerClosedAfterMs: closedAt - deletedAt,
    drainedForMs: closedAt - droppedAt,
    requestsWhileTerminating: outcomes.filter((o) => o.at >= deletedAt && o.at <= closedAt).length,
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
    await adminClients().apps.createNamespacedDeployment({
      namespace: namespace(),
      body: servedDeployment(app, 2),
    });
    await adminClients().core.createNamespacedService({ namespace: namespace(), body: servedService(app) });
    // In this process, for this namespace only: the sandbox's own traffic process is tested further down.
    traffic = await startTraffic(adminClients(), {
      clock: systemClock,
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

  it("drains a deleted pod: it leaves the routing before its listener closes, so with two replicas no request fails", async () => {
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
    // With its grace period (5 s): Terminating for at least the sandbox's shutdown delay (1 s).
    await adminClients().core.deleteNamespacedPod({ name: victimName, namespace: namespace() });
    // Stamped by polling Broadside's in-memory view every 2 ms: cheap, and close to the watch events.
    const droppedAt = await stampWhen(() => !started().readyEndpoints(namespace(), app).includes(victimUid));
    // Out of the routing, and still serving: it drains.
    const drainingPort = started().podListener(victimUid)?.port;
    const drainingAnswer = await get(victimPort);
    const closedAt = await stampWhen(() => started().podListener(victimUid) === undefined);
    expect((await get(victimPort)).error).toBe("ECONNREFUSED");
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await Promise.all(clients);

    const figures = windowFigures(outcomes, { deletedAt, closedAt, droppedAt });
    process.stderr.write(`[traffic] graceful drain: ${JSON.stringify(figures)}\n`);
    expect(drainingPort).toBe(victimPort);
    expect(drainingAnswer.status).toBe(200);
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
    expect(outcomes.filter((o) => o.pod === victimName && o.at > droppedAt)).toEqual([]);
  });

  it("answers 503 while a single replica's pod terminates, and serves again once its replacement is Ready", async () => {
    const solo = "solo";
    await deployAndWait(namespace(), servedDeployment(solo, 1));
    await adminClients().core.createNamespacedService({ namespace: namespace(), body: servedService(solo) });
    const door = await eventually("the front door of solo", () => started().frontDoorPort(namespace(), solo));
    const [victimUid = ""] = await eventually("one ready endpoint with a listener", () => {
      const endpoints = started().readyEndpoints(namespace(), solo);
      return endpoints.length === 1 && started().podListener(endpoints[0] ?? "") !== undefined
        ? endpoints
        : undefined;
    });
    const victimName = started().podListener(victimUid)?.pod ?? "";

    const outcomes: Outcome[] = [];
    let running = true;
    const clients = Array.from({ length: 2 }, async () => {
      while (running) {
        outcomes.push(await get(door));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const deletedAt = Date.now();
    await adminClients().core.deleteNamespacedPod({ name: victimName, namespace: namespace() });
    const replacedAt = await stampWhen(() => {
      const endpoints = started().readyEndpoints(namespace(), solo);
      return endpoints.length === 1 && endpoints[0] !== victimUid;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await Promise.all(clients);

    const failed = outcomes.filter((o) => o.status !== 200);
    process.stderr.write(
      `[traffic] single replica: ${failed.length} of ${outcomes.length} requests answered 503 over ${replacedAt - deletedAt} ms until the replacement was Ready\n`,
    );
    // Only 503 (no endpoint), never a refused or cut connection: the pod drained while it was routed to.
    expect(new Set(failed.map((o) => o.status ?? o.error))).toEqual(new Set([503]));
    expect(outcomes.filter((o) => o.at < deletedAt).every((o) => o.pod === victimName)).toBe(true);
    const afterReplacement = outcomes.filter((o) => o.at > replacedAt);
    expect(afterReplacement.length).toBeGreaterThan(0);
    expect(afterReplacement.every((o) => o.status === 200 && o.pod !== victimName)).toBe(true);
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

/** `broadside sandbox status -o json` of the integration sandbox: its front doors, as the daemon reports them. */
async function sandboxDoors(): Promise<DoorsReport | null> {
  const status = await broadside("sandbox", "status", "--name", integrationSandboxName, "-o", "json");
  expect(status.code, status.stderr).toBe(0);
  return (JSON.parse(status.stdout) as { frontDoors: DoorsReport | null }).frontDoors;
}

describe("the sandbox's traffic process: every namespace, no set-up in the test", () => {
  const namespace = useTestNamespace("it-daemon");

  it("answers a served Service on the port its annotation fixes, and sandbox status lists the door", async () => {
    // A free port rather than a demo port (18080-18082), which another sandbox on this machine may hold.
    const [port = 0] = await freePorts(1);
    await deployAndWait(namespace(), servedDeployment("shop", 2));
    await adminClients().core.createNamespacedService({
      namespace: namespace(),
      body: servedService("shop", { "broadside.dev/front-door-port": String(port) }),
    });
    // Nothing in this process serves this namespace: whatever answers is the sandbox's traffic process.
    const pods = await adminClients().core.listNamespacedPod({
      namespace: namespace(),
      labelSelector: "app=shop",
    });
    const names = new Set(pods.items.map((pod) => pod.metadata?.name));
    const answers = await eventually("both pods to answer on the fixed port", async () => {
      const outcomes = await getMany(port, 30);
      return outcomes.every((o) => o.status === 200) && new Set(outcomes.map((o) => o.pod)).size === 2
        ? outcomes
        : undefined;
    });
    expect(new Set(answers.map((o) => o.pod))).toEqual(names);
    expect((await sandboxDoors())?.open).toContainEqual({ namespace: namespace(), service: "shop", port });
  });

  it("keeps the door of a Service whose annotation is not a port shut, and status says why", async () => {
    await adminClients().core.createNamespacedService({
      namespace: namespace(),
      body: servedService("typo", { "broadside.dev/front-door-port": "80800" }),
    });
    const failed = await eventually("the failed door in sandbox status", async () =>
      (await sandboxDoors())?.failed.find(
        (door) => door.namespace === namespace() && door.service === "typo",
      ),
    );
    expect(failed).toEqual({
      namespace: namespace(),
      service: "typo",
      port: null,
      reason: `service ${namespace()}/typo: annotation broadside.dev/front-door-port is "80800", not a port from 1 to 65535; its front door stays shut`,
    });
  });

  it("names the process that holds a door's port, and sandbox up exits 3 saying so", async () => {
    const [port = 0] = await freePorts(1);
    const holder = await holdPort(port);
    try {
      await adminClients().core.createNamespacedService({
        namespace: namespace(),
        body: servedService("held", { "broadside.dev/front-door-port": String(port) }),
      });
      const failed = await eventually("the blocked door in sandbox status", async () =>
        (await sandboxDoors())?.failed.find(
          (door) => door.namespace === namespace() && door.service === "held",
        ),
      );
      expect(failed.reason).toBe(
        `127.0.0.1:${port} is in use (EADDRINUSE) by pid ${holder.pid} (${holder.command}); trying again every 2000 ms`,
      );

      const up = await broadside("sandbox", "up", "--name", integrationSandboxName);
      expect(up.code, up.stderr).toBe(3);
      expect(up.stdout).toContain(`sandbox "${integrationSandboxName}" is up`);
      expect(up.stderr).toContain(
        `error [BRD_PORT_IN_USE]: sandbox "${integrationSandboxName}" is up, but not every front door can open: ` +
          `127.0.0.1:${port} (the front door of ${namespace()}/held) is in use by pid ${holder.pid} (${holder.command}); ` +
          "stop it, or move the door: change the Service's broadside.dev/front-door-port annotation",
      );
    } finally {
      // The Service goes first, so the traffic process does not take the port once it is free.
      await adminClients()
        .core.deleteNamespacedService({ namespace: namespace(), name: "held" })
        .catch(() => undefined);
      await holder.release();
    }
  });
});

import type { V1EndpointSlice, V1Pod, V1Service } from "@kubernetes/client-node";
import { KubeConfig } from "@kubernetes/client-node";
import { request } from "node:http";
import { createServer } from "node:net";
import type { Server } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../core/clock.js";
import type { BroadsideError } from "../../core/errors.js";
import { freePorts } from "../ports.js";
import { frontDoorPortAnnotation } from "./front-door-port.js";
import { MemoryCollections } from "./memory-source.js";
import { startTraffic } from "./traffic.js";
import type { Traffic, TrafficOptions } from "./traffic.js";

/**
 * The traffic layer against an in-memory API server: which informers it makes, how pods' listeners
 * drain, and how front doors pick, hold, retry and give up their ports.
 */

interface Reply {
  readonly status?: number;
  readonly pod?: string;
  readonly error?: string;
}

/** One GET to 127.0.0.1:port on its own connection; never throws. */
function get(port: number): Promise<Reply> {
  return new Promise<Reply>((resolve) => {
    const sent = request({ host: "127.0.0.1", port, path: "/", agent: false }, (response) => {
      response.resume();
      response.on("end", () => {
        const pod = response.headers["x-broadside-pod"];
        const status = response.statusCode ?? 0;
        resolve(typeof pod === "string" ? { status, pod } : { status });
      });
    });
    sent.on("error", (error: NodeJS.ErrnoException) => {
      resolve({ error: error.code ?? error.message });
    });
    sent.end();
  });
}

const serve = { "broadside.dev/serve": "http" };

function pod(name: string, options: { ready?: boolean; deleting?: boolean } = {}): V1Pod {
  return {
    metadata: {
      namespace: "shop",
      name,
      uid: `uid-${name}`,
      labels: { app: "web", ...serve },
      ...(options.deleting === true ? { deletionTimestamp: new Date("2026-01-01T00:00:00Z") } : {}),
    },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True" }],
    },
  };
}

function service(name: string, annotations: Record<string, string> = {}, namespace = "shop"): V1Service {
  return { metadata: { namespace, name, labels: serve, annotations }, spec: { selector: { app: name } } };
}

interface EndpointState {
  readonly uid: string;
  readonly terminating?: boolean;
}

/** The Service's slice as the EndpointSlice controller writes it: a terminating pod is not ready. */
function slice(serviceName: string, ...endpoints: EndpointState[]): V1EndpointSlice {
  return {
    metadata: {
      namespace: "shop",
      name: `${serviceName}-abc`,
      labels: { "kubernetes.io/service-name": serviceName },
    },
    addressType: "IPv4",
    endpoints: endpoints.map(({ uid, terminating = false }) => ({
      addresses: ["10.244.0.1"],
      conditions: { ready: !terminating, serving: true, terminating },
      targetRef: { kind: "Pod", namespace: "shop", name: uid.replace("uid-", ""), uid },
    })),
  };
}

const running: Traffic[] = [];
const blockers: Server[] = [];
afterEach(async () => {
  for (const traffic of running.splice(0)) await traffic.stop();
  for (const blocker of blockers.splice(0)) blocker.close();
});

async function start(
  cluster: MemoryCollections,
  options: Omit<TrafficOptions, "sources" | "clock"> = {},
): Promise<{ traffic: Traffic; errors: BroadsideError[] }> {
  const errors: BroadsideError[] = [];
  const traffic = await startTraffic(
    { config: new KubeConfig() },
    { clock: systemClock, onError: (error) => errors.push(error), ...options, sources: cluster.sources },
  );
  running.push(traffic);
  return { traffic, errors };
}

function doorOf(traffic: Traffic, name = "web"): number {
  const port = traffic.frontDoorPort("shop", name);
  if (port === undefined) throw new Error(`no front door for ${name}`);
  return port;
}

/** Occupies 127.0.0.1:port, as another program holding the port would. */
async function occupy(port: number): Promise<Server> {
  const blocker = createServer();
  blockers.push(blocker);
  await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
  return blocker;
}

describe("what the traffic watches", () => {
  it("watches all namespaces with one informer per resource, unless given namespaces", async () => {
    const everywhere = new MemoryCollections();
    await start(everywhere);
    expect(everywhere.asked.map((c) => [c.plural, c.namespace, c.labelSelector])).toEqual([
      ["pods", undefined, "broadside.dev/serve=http"],
      ["services", undefined, "broadside.dev/serve=http"],
      ["endpointslices", undefined, "kubernetes.io/service-name"],
    ]);

    const two = new MemoryCollections();
    await start(two, { namespaces: ["a", "b"] });
    expect(two.asked.map((c) => `${c.plural}/${c.namespace ?? "*"}`)).toEqual([
      "pods/a",
      "pods/b",
      "services/a",
      "services/b",
      "endpointslices/a",
      "endpointslices/b",
    ]);
  });

  it("serves Services of every namespace when watching them all", async () => {
    const cluster = new MemoryCollections();
    cluster.put("services", service("web", {}, "shop"));
    cluster.put("services", service("api", {}, "billing"));
    const { traffic } = await start(cluster);
    expect(traffic.doors().open.map((d) => `${d.namespace}/${d.service}`)).toEqual([
      "billing/api",
      "shop/web",
    ]);
  });
});

describe("graceful drain: a Terminating pod leaves the routing before its listener closes", () => {
  it("keeps the listener of a deleting pod serving until the pod is gone; the front door stops routing to it first", async () => {
    const cluster = new MemoryCollections();
    cluster.put("pods", pod("web-1"));
    cluster.put("pods", pod("web-2"));
    cluster.put("endpointslices", slice("web", { uid: "uid-web-1" }, { uid: "uid-web-2" }));
    cluster.put("services", service("web"));
    const { traffic, errors } = await start(cluster);
    await vi.waitFor(() => {
      expect(traffic.podListener("uid-web-1")?.port).toBeDefined();
    });
    const listener = traffic.podListener("uid-web-1")?.port ?? 0;

    // Deleted with a grace period: Terminating, and its endpoint marked not ready by the controller.
    cluster.put("pods", pod("web-1", { deleting: true }));
    cluster.put(
      "endpointslices",
      slice("web", { uid: "uid-web-1", terminating: true }, { uid: "uid-web-2" }),
    );
    expect(traffic.readyEndpoints("shop", "web")).toEqual(["uid-web-2"]);
    const through = await Promise.all(Array.from({ length: 20 }, () => get(doorOf(traffic))));
    expect(new Set(through.map((reply) => `${reply.status} ${reply.pod}`))).toEqual(new Set(["200 web-2"]));
    // Still draining: whoever holds a connection to it (or dials it directly) is still answered.
    expect(traffic.podListener("uid-web-1")?.port).toBe(listener);
    expect((await get(listener)).status).toBe(200);

    // Gone: the listener closes.
    cluster.delete("pods", pod("web-1"));
    expect(traffic.podListener("uid-web-1")).toBeUndefined();
    await vi.waitFor(async () => {
      expect((await get(listener)).error).toBe("ECONNREFUSED");
    });
    expect(errors).toEqual([]);
  });

  it("answers 503 through the front door of a single-replica Service while its only pod terminates", async () => {
    const cluster = new MemoryCollections();
    cluster.put("pods", pod("solo-1"));
    cluster.put("endpointslices", slice("solo", { uid: "uid-solo-1" }));
    cluster.put("services", service("solo"));
    const { traffic } = await start(cluster);
    await vi.waitFor(() => {
      expect(traffic.podListener("uid-solo-1")?.port).toBeDefined();
    });
    expect((await get(doorOf(traffic, "solo"))).status).toBe(200);
    cluster.put("pods", pod("solo-1", { deleting: true }));
    cluster.put("endpointslices", slice("solo", { uid: "uid-solo-1", terminating: true }));
    expect((await get(doorOf(traffic, "solo"))).status).toBe(503);
  });

  it("closes the listener of a pod that stops being Ready, deleting or not", async () => {
    const cluster = new MemoryCollections();
    cluster.put("pods", pod("web-1"));
    const { traffic } = await start(cluster);
    await vi.waitFor(() => {
      expect(traffic.podListener("uid-web-1")?.port).toBeDefined();
    });
    cluster.put("pods", pod("web-1", { deleting: true, ready: false }));
    expect(traffic.podListener("uid-web-1")).toBeUndefined();
  });
});

describe("the two watches: EndpointSlices and pods are seen a few milliseconds apart", () => {
  it("holds a request for an endpoint whose pod is not seen Ready yet, rather than failing it", async () => {
    const cluster = new MemoryCollections();
    cluster.put("endpointslices", slice("web", { uid: "uid-web-9" }));
    cluster.put("services", service("web"));
    const { traffic } = await start(cluster);
    const pending = get(doorOf(traffic));
    cluster.put("pods", pod("web-9"));
    expect(await pending).toEqual({ status: 200, pod: "web-9" });
  });

  it("answers 502 for an endpoint still listed whose pod is gone", async () => {
    const cluster = new MemoryCollections();
    cluster.put("pods", pod("web-8"));
    cluster.put("endpointslices", slice("web", { uid: "uid-web-8" }));
    cluster.put("services", service("web"));
    const { traffic } = await start(cluster);
    await vi.waitFor(() => {
      expect(traffic.podListener("uid-web-8")?.port).toBeDefined();
    });
    // Deleted at once (grace period 0): gone before the controller updates the slice.
    cluster.delete("pods", pod("web-8"));
    expect(await get(doorOf(traffic))).toEqual({ status: 502 });
  });
});

describe("front door ports", () => {
  it("opens on the annotated port, and on an ephemeral one without the annotation", async () => {
    const [fixed = 0] = await freePorts(1);
    const cluster = new MemoryCollections();
    cluster.put("services", service("web", { [frontDoorPortAnnotation]: String(fixed) }));
    cluster.put("services", service("api"));
    const { traffic, errors } = await start(cluster);
    expect(traffic.frontDoorPort("shop", "web")).toBe(fixed);
    expect(traffic.frontDoorPort("shop", "api")).toBeGreaterThan(0);
    expect(traffic.doors()).toEqual({
      open: [
        { namespace: "shop", service: "api", port: traffic.frontDoorPort("shop", "api") },
        { namespace: "shop", service: "web", port: fixed },
      ],
      failed: [],
    });
    // No endpoints yet: the door is open and says so.
    expect((await get(fixed)).status).toBe(503);
    expect(errors).toEqual([]);
  });

  it("keeps the door of a Service with a bad annotation shut, saying which Service, annotation and value", async () => {
    const cluster = new MemoryCollections();
    cluster.put("services", service("web", { [frontDoorPortAnnotation]: "80a" }));
    const { traffic, errors } = await start(cluster);
    expect(traffic.frontDoorPort("shop", "web")).toBeUndefined();
    const reason =
      'service shop/web: annotation broadside.dev/front-door-port is "80a", not a port from 1 to 65535; its front door stays shut';
    expect(traffic.doors()).toEqual({
      open: [],
      failed: [{ namespace: "shop", service: "web", port: null, reason }],
    });
    expect(errors.map((error) => [error.code, error.message])).toEqual([["BRD_USAGE", reason]]);

    // Fixing the annotation opens it.
    const [fixed = 0] = await freePorts(1);
    cluster.put("services", service("web", { [frontDoorPortAnnotation]: String(fixed) }));
    await vi.waitFor(() => {
      expect(traffic.frontDoorPort("shop", "web")).toBe(fixed);
    });
    expect(traffic.doors().failed).toEqual([]);
  });

  it("reports a port in use and keeps trying until it is free", async () => {
    const [fixed = 0] = await freePorts(1);
    const blocker = await occupy(fixed);
    const cluster = new MemoryCollections();
    cluster.put("services", service("web", { [frontDoorPortAnnotation]: String(fixed) }));
    const { traffic, errors } = await start(cluster, {
      retryMs: 50,
      describeHolder: (port) => Promise.resolve(`pid 4242 (holder --port ${port})`),
    });
    expect(traffic.doors()).toEqual({
      open: [],
      failed: [
        {
          namespace: "shop",
          service: "web",
          port: fixed,
          reason: `127.0.0.1:${fixed} is in use (EADDRINUSE) by pid 4242 (holder --port ${fixed}); trying again every 50 ms`,
        },
      ],
    });
    expect(errors[0]?.message).toContain("EADDRINUSE");

    blocker.close();
    await vi.waitFor(() => {
      expect(traffic.doors().open).toEqual([{ namespace: "shop", service: "web", port: fixed }]);
    });
    expect(traffic.doors().failed).toEqual([]);
  });

  it("moves the door when the annotation changes, and closes it with the Service", async () => {
    const [first = 0, second = 0] = await freePorts(2);
    const cluster = new MemoryCollections();
    cluster.put("services", service("web", { [frontDoorPortAnnotation]: String(first) }));
    const events: string[] = [];
    const { traffic } = await start(cluster, {
      onDoor: (event) => events.push(`${event.kind} ${event.service} ${event.port}`),
    });
    cluster.put("services", service("web", { [frontDoorPortAnnotation]: String(second) }));
    await vi.waitFor(() => {
      expect(traffic.frontDoorPort("shop", "web")).toBe(second);
    });
    expect((await get(first)).error).toBe("ECONNREFUSED");
    cluster.delete("services", service("web"));
    await vi.waitFor(() => {
      expect(events).toEqual([
        `open web ${first}`,
        `closed web ${first}`,
        `open web ${second}`,
        `closed web ${second}`,
      ]);
    });
    expect(traffic.doors()).toEqual({ open: [], failed: [] });
  });
});

describe("refuse: an outage of a front door, for fidelity tests", () => {
  it("refuses connections for the duration and reports when it closed and reopened", async () => {
    const cluster = new MemoryCollections();
    cluster.put("services", service("web"));
    const { traffic } = await start(cluster);
    const port = doorOf(traffic);
    const outage = traffic.refuse("shop", "web", 200);
    await vi.waitFor(async () => {
      expect((await get(port)).error).toBe("ECONNREFUSED");
    });
    const window = await outage;
    expect(window).toMatchObject({ namespace: "shop", service: "web", port });
    expect(window.reopenedAt - window.closedAt).toBeGreaterThanOrEqual(200);
    expect((await get(port)).status).toBe(503);
    expect(traffic.doors().open).toEqual([{ namespace: "shop", service: "web", port }]);
  });

  it("refuses to refuse a Service without an open front door", async () => {
    const { traffic } = await start(new MemoryCollections());
    await expect(traffic.refuse("shop", "nope", 100)).rejects.toThrow(
      /service shop\/nope has no open front door/,
    );
  });
});

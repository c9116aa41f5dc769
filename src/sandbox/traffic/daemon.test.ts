import { KubeConfig } from "@kubernetes/client-node";
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { deferred } from "../../core/deferred.js";
import { freePorts } from "../ports.js";
import { systemClock } from "../../core/clock.js";
import { parseDaemonArgs, startDaemon } from "./daemon.js";
import type { Daemon, DaemonLog } from "./daemon.js";
import { MemoryCollections } from "./memory-source.js";

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

function call(port: number, path: string, method = "GET"): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const sent = request({ host: "127.0.0.1", port, path, method, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
        });
      });
    });
    sent.on("error", reject);
    sent.end();
  });
}

/** The log lines the daemon wrote, as [message, context]. */
function memoryLog(): DaemonLog & { lines: [string, object][] } {
  const lines: [string, object][] = [];
  const write = (context: object, message: string): void => {
    lines.push([message, context]);
  };
  return { lines, info: write, warn: write, error: write };
}

describe("parseDaemonArgs", () => {
  it("reads the kubeconfig and the health port, in either flag form", () => {
    expect(parseDaemonArgs(["--kubeconfig", "/k", "--health-port", "4000"])).toEqual({
      kubeconfig: "/k",
      healthPort: 4000,
    });
    expect(parseDaemonArgs(["--kubeconfig=/k", "--health-port=65535"])).toEqual({
      kubeconfig: "/k",
      healthPort: 65535,
    });
  });

  it("reads the pod bodies' flags, the ready delay 0 unless given", () => {
    const bodies = ["--pod-bodies=netns", "--sandbox=it", "--pod-cidr=10.244.0.0/16", "--bodies-dir=/s/b"];
    expect(parseDaemonArgs(["--kubeconfig=/k", "--health-port=1", ...bodies]).bodies).toEqual({
      sandbox: "it",
      podCidr: "10.244.0.0/16",
      bodiesDir: "/s/b",
      readyDelayMs: 0,
    });
    const delayed = parseDaemonArgs([
      "--kubeconfig=/k",
      "--health-port=1",
      ...bodies,
      "--ready-delay-ms=2000",
    ]);
    expect(delayed.bodies?.readyDelayMs).toBe(2000);
    for (const bad of ["-1", "2s", "", "3600001"])
      expect(() =>
        parseDaemonArgs(["--kubeconfig=/k", "--health-port=1", ...bodies, `--ready-delay-ms=${bad}`]),
      ).toThrow(`--ready-delay-ms: must be a whole number of milliseconds up to 3600000, got "${bad}"`);
  });

  it("refuses missing, bad and unknown flags, naming them", () => {
    const cases: [string[], RegExp][] = [
      [["--health-port=4000"], /--kubeconfig: is required/],
      [["--kubeconfig=/k"], /--health-port: must be a port from 1 to 65535, got ""/],
      [["--kubeconfig=/k", "--health-port=0"], /--health-port: .* got "0"/],
      [["--kubeconfig=/k", "--health-port=http"], /--health-port: .* got "http"/],
      [["--kubeconfig=/k", "--health-port=1", "--namespace=x"], /--namespace/],
      [["--kubeconfig=/k", "--health-port=1", "extra"], /extra/],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseDaemonArgs(argv), argv.join(" ")).toThrow(message);
    }
  });
});

describe("the traffic daemon's health endpoint", () => {
  let daemon: Daemon | undefined;
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
  });

  it("answers 503 until the traffic is in step with the cluster, then 200 and the doors", async () => {
    const cluster = new MemoryCollections();
    cluster.put("services", {
      metadata: { namespace: "shop", name: "web", annotations: { "broadside.dev/front-door-port": "no" } },
    });
    const listed = deferred<undefined>();
    cluster.hold = listed.promise.then(() => undefined);
    const [healthPort = 0] = await freePorts(1);
    const log = memoryLog();
    daemon = await startDaemon({ kubeconfig: "/k", healthPort }, { config: new KubeConfig() }, log, {
      clock: systemClock,
      sources: cluster.sources,
    });
    expect(await call(healthPort, "/healthz")).toEqual({ status: 503, body: { status: "starting" } });
    expect((await call(healthPort, "/doors")).status).toBe(503);

    listed.resolve(undefined);
    await daemon.ready;
    expect(await call(healthPort, "/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    const doors = await call(healthPort, "/doors");
    expect(doors.status).toBe(200);
    expect(doors.body).toMatchObject({
      open: [],
      failed: [{ namespace: "shop", service: "web", port: null }],
    });
    expect(log.lines.map(([message]) => message)).toEqual([
      "traffic starting",
      "traffic problem",
      "traffic in step with the cluster",
    ]);
  });

  it("is read-only: other methods get 405, other paths 404", async () => {
    const [healthPort = 0] = await freePorts(1);
    daemon = await startDaemon({ kubeconfig: "/k", healthPort }, { config: new KubeConfig() }, memoryLog(), {
      clock: systemClock,
      sources: new MemoryCollections().sources,
    });
    await daemon.ready;
    expect((await call(healthPort, "/doors", "POST")).status).toBe(405);
    expect((await call(healthPort, "/healthz", "DELETE")).status).toBe(405);
    expect((await call(healthPort, "/refuse")).status).toBe(404);
  });

  it("stops cleanly even while the cluster has not answered yet", async () => {
    const cluster = new MemoryCollections();
    cluster.hold = new Promise<void>(() => undefined);
    const [healthPort = 0] = await freePorts(1);
    const log = memoryLog();
    const started = await startDaemon({ kubeconfig: "/k", healthPort }, { config: new KubeConfig() }, log, {
      clock: systemClock,
      sources: cluster.sources,
    });
    await started.stop();
    await expect(started.ready).rejects.toThrow(/stopped/);
    await expect(call(healthPort, "/healthz")).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect(log.lines.at(-1)?.[0]).toBe("traffic stopped");
  });

  it("fails to start when its health port is taken", async () => {
    const [healthPort = 0] = await freePorts(1);
    daemon = await startDaemon({ kubeconfig: "/k", healthPort }, { config: new KubeConfig() }, memoryLog(), {
      clock: systemClock,
      sources: new MemoryCollections().sources,
    });
    await expect(
      startDaemon({ kubeconfig: "/k", healthPort }, { config: new KubeConfig() }, memoryLog(), {
        clock: systemClock,
        sources: new MemoryCollections().sources,
      }),
    ).rejects.toThrow(`the health endpoint could not listen on 127.0.0.1:${healthPort}`);
  });
});

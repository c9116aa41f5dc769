import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parseBehaviour, podServes } from "./behaviour.js";

describe("parseBehaviour", () => {
  it("defaults to no latency and no errors", () => {
    expect(parseBehaviour(undefined)).toEqual({ behaviour: { latencyMs: 0, errorRate: 0 }, problems: [] });
    expect(parseBehaviour({ other: "x" }).behaviour).toEqual({ latencyMs: 0, errorRate: 0 });
  });

  it("reads a duration and a share", () => {
    const parsed = parseBehaviour({ "broadside.dev/latency": "50ms", "broadside.dev/error-rate": "0.1" });
    expect(parsed).toEqual({ behaviour: { latencyMs: 50, errorRate: 0.1 }, problems: [] });
    expect(parseBehaviour({ "broadside.dev/latency": "1.5s" }).behaviour.latencyMs).toBe(1500);
    expect(parseBehaviour({ "broadside.dev/error-rate": "1" }).behaviour.errorRate).toBe(1);
    expect(parseBehaviour({ "broadside.dev/error-rate": "0" }).behaviour.errorRate).toBe(0);
  });

  it("falls back to the default for a bad value and says why", () => {
    for (const rate of ["1.5", "-0.1", "ten", "", "0x1", "NaN"]) {
      const parsed = parseBehaviour({ "broadside.dev/error-rate": rate });
      expect(parsed.behaviour.errorRate, rate).toBe(0);
      expect(parsed.problems, rate).toEqual([
        `broadside.dev/error-rate: "${rate}" is not a number between 0 and 1`,
      ]);
    }
    const latency = parseBehaviour({ "broadside.dev/latency": "50", "broadside.dev/error-rate": "0.5" });
    expect(latency.behaviour).toEqual({ latencyMs: 0, errorRate: 0.5 });
    expect(latency.problems).toEqual(['broadside.dev/latency: "50" is not a duration such as 50ms or 1s']);
  });
});

function pod(phase: string, ready: string, deleting = false): V1Pod {
  return {
    metadata: { name: "web-1", ...(deleting ? { deletionTimestamp: new Date("2026-01-01T00:00:00Z") } : {}) },
    status: { phase, conditions: [{ type: "Ready", status: ready }] },
  };
}

describe("podServes", () => {
  it("holds for a Running, Ready pod, and keeps holding while it is Terminating (graceful drain)", () => {
    expect(podServes(pod("Running", "True"))).toBe(true);
    expect(podServes(pod("Running", "True", true))).toBe(true);
    expect(podServes(pod("Running", "False"))).toBe(false);
    expect(podServes(pod("Running", "False", true))).toBe(false);
    expect(podServes(pod("Pending", "True"))).toBe(false);
    expect(podServes(pod("Succeeded", "True", true))).toBe(false);
    expect(podServes({ metadata: { name: "bare" } })).toBe(false);
  });
});

function running(...images: string[]): V1Pod {
  return {
    metadata: { name: "web-1" },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: images.map((image, index) => ({
        name: `c${String(index)}`,
        image,
        imageID: "",
        ready: true,
        restartCount: 1,
      })),
    },
  };
}

describe("a pod whose container runs a pause image (pod-failure) does not serve, even counted Ready", () => {
  it.each([
    ["registry.k8s.io/pause:3.10", false],
    ["mirror.local:5000/team/pause@sha256:" + "c".repeat(64), false],
    ["pause", false],
    ["ghcr.io/stefanprodan/podinfo:6.7.1", true],
    ["ghcr.io/shop/pauser:1", true],
    ["ghcr.io/pause-app/web:1", true],
  ])("%s: serves %s", (image, serves) => {
    expect(podServes(running("ghcr.io/shop/sidecar:1", image))).toBe(serves);
  });
});

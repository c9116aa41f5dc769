import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import {
  delayParamsSchema,
  lossParamsSchema,
  networkWork,
  planNetworkTargets,
  refuseProxyWithoutPorts,
} from "./network.js";

function pod(name: string, ports: { containerPort: number; protocol?: string }[][]): V1Pod {
  return {
    metadata: { namespace: "shop", name, uid: "0b5a6c1e-1111-4222-8333-944455556666" },
    spec: {
      nodeName: "kwok-node-0",
      containers: ports.map((each, i) => ({ name: `c${i}`, ports: each })),
    },
  };
}

const record = {
  ledgerId: "20261207t133000-abc123",
  createdAt: 1_000,
  deadline: 31_000,
  durationMs: 60_000,
  actor: "admin@laptop",
};

describe("delay and loss targets (ADR 0039)", () => {
  it("a target's ports are its containers' TCP containerPorts, once each", () => {
    const [target] = planNetworkTargets([
      pod("web-1", [
        [{ containerPort: 8080 }, { containerPort: 53, protocol: "UDP" }],
        [{ containerPort: 9090, protocol: "TCP" }, { containerPort: 8080 }],
      ]),
    ]);
    expect(target?.ports).toEqual([8080, 9090]);
  });

  it("the work of a delay carries the pod's ports; a bandwidth's does not", () => {
    const [target] = planNetworkTargets([pod("web-1", [[{ containerPort: 8080 }]])]);
    if (target === undefined) throw new Error("no target");
    const delay = delayParamsSchema.parse({
      device: "eth0",
      delay: { latencyMs: 200, jitterMs: 50, correlation: 25 },
      backend: "auto",
    });
    expect(networkWork("delay", target, delay, record).network).toEqual({ ...delay, ports: [8080] });
    const bandwidth = { device: "eth0", bandwidth: { rate: "1mbit", limit: 1, buffer: 1 } };
    expect(networkWork("bandwidth", target, bandwidth, record).network).toEqual(bandwidth);
  });

  it("--backend proxy on a pod without TCP ports is refused before anything is written, naming the pod", () => {
    const targets = planNetworkTargets([pod("web-1", [[{ containerPort: 8080 }]]), pod("bare", [[]])]);
    const loss = lossParamsSchema.parse({
      device: "eth0",
      loss: { percent: 25, correlation: 0 },
      backend: "proxy",
    });
    expect(() => {
      refuseProxyWithoutPorts(loss, targets);
    }).toThrow(BroadsideError);
    expect(() => {
      refuseProxyWithoutPorts(loss, targets);
    }).toThrow(/--backend proxy: pod shop\/bare declares no TCP containerPort/);
    expect(() => {
      refuseProxyWithoutPorts({ ...loss, backend: "auto" }, targets);
    }).not.toThrow();
  });

  it("percentages and latencies are checked", () => {
    expect(
      lossParamsSchema.safeParse({ device: "eth0", loss: { percent: 0, correlation: 0 }, backend: "auto" })
        .success,
    ).toBe(false);
    expect(
      delayParamsSchema.safeParse({
        device: "eth0",
        delay: { latencyMs: 0, jitterMs: 0, correlation: 0 },
        backend: "auto",
      }).success,
    ).toBe(false);
    expect(
      delayParamsSchema.safeParse({
        device: "eth0",
        delay: { latencyMs: 10, jitterMs: 0, correlation: 101 },
        backend: "auto",
      }).success,
    ).toBe(false);
  });
});

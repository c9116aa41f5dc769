import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import {
  delayParamsSchema,
  externalPeers,
  filteredFaults,
  lossParamsSchema,
  networkWork,
  planNetworkTargets,
  refuseProxyWithoutPorts,
} from "./network.js";

function pod(name: string, ports: { containerPort: number; protocol?: string }[][], podIP?: string): V1Pod {
  return {
    metadata: { namespace: "shop", name, uid: "0b5a6c1e-1111-4222-8333-944455556666" },
    spec: {
      nodeName: "kwok-node-0",
      containers: ports.map((each, i) => ({ name: `c${i}`, ports: each })),
    },
    ...(podIP === undefined ? {} : { status: { podIP } }),
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
    const faults = (network: typeof loss) => targets.map((target) => ({ target, network }));
    expect(() => {
      refuseProxyWithoutPorts(faults(loss));
    }).toThrow(BroadsideError);
    expect(() => {
      refuseProxyWithoutPorts(faults(loss));
    }).toThrow(/--backend proxy: pod shop\/bare declares no TCP containerPort/);
    expect(() => {
      refuseProxyWithoutPorts(faults({ ...loss, backend: "auto" }));
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

describe("filtered faults (NetworkChaos target, externalTargets, direction; ADR 0041)", () => {
  function withIp(name: string, ip: string, port?: number): V1Pod {
    return pod(name, [port === undefined ? [] : [{ containerPort: port }]], ip);
  }
  const sources = planNetworkTargets([withIp("checkout-1", "10.244.0.5", 8080)]);
  const targets = planNetworkTargets([
    withIp("storefront-1", "10.244.0.9", 80),
    withIp("bare", "10.244.0.10"),
  ]);
  const delay = {
    device: "eth0",
    delay: { latencyMs: 100, jitterMs: 10, correlation: 25 },
    backend: "auto" as const,
  };
  const where = (faults: ReturnType<typeof filteredFaults>) =>
    faults.map(({ target, network }) => [target.pod.name, network.peers]);

  it("to: on the chosen pods, filtered to the targets' IPs (with their ports) and the external addresses", () => {
    expect(
      where(filteredFaults("delay", delay, sources, targets, [{ address: "203.0.113.0/24" }], "to")),
    ).toEqual([
      [
        "checkout-1",
        [{ address: "10.244.0.9", ports: [80] }, { address: "10.244.0.10" }, { address: "203.0.113.0/24" }],
      ],
    ]);
  });

  it("from: on each target, filtered to the chosen pods; both: both; a partition stays on the chosen pods", () => {
    const source = [{ address: "10.244.0.5", ports: [8080] }];
    expect(where(filteredFaults("delay", delay, sources, targets, [], "from"))).toEqual([
      ["storefront-1", source],
      ["bare", source],
    ]);
    expect(filteredFaults("delay", delay, sources, targets, [], "both")).toHaveLength(3);
    const partition = { device: "eth0", partition: { direction: "from" as const } };
    expect(
      where(filteredFaults("partition", partition, sources, targets, [], "from")).map(([name]) => name),
    ).toEqual(["checkout-1"]);
  });

  it("externalTargets: IPv4 addresses and CIDRs; a domain name or IPv6 is refused naming the entry", () => {
    expect(externalPeers(["1.2.3.4", "10.0.0.0/8"], "spec.externalTargets")).toEqual([
      { address: "1.2.3.4" },
      { address: "10.0.0.0/8" },
    ]);
    expect(() => externalPeers(["1.2.3.4", "example.com"], "spec.externalTargets")).toThrow(
      /spec.externalTargets\[1\]: "example.com" is not an IPv4 address or CIDR; domain names are not resolved/,
    );
    expect(() => externalPeers(["2001:db8::1"], "--external-target")).toThrow(
      /--external-target\[0\]: .* is IPv6/,
    );
    expect(() => externalPeers(["300.1.1.1"], "x")).toThrow(BroadsideError);
  });

  it("a target pod without an IP yet is refused, named", () => {
    const noIp = planNetworkTargets([pod("pending", [[]])]);
    expect(() => filteredFaults("delay", delay, sources, noIp, [], "to")).toThrow(
      /target pod shop\/pending has no IPv4 address yet/,
    );
  });

  it("--backend proxy toward an external address is refused before anything is written", () => {
    const faults = filteredFaults(
      "delay",
      { ...delay, backend: "proxy" },
      sources,
      [],
      [{ address: "1.2.3.4" }],
      "to",
    );
    expect(() => {
      refuseProxyWithoutPorts(faults);
    }).toThrow(/--backend proxy: .* 1.2.3.4 \(an external target/);
  });
});

import { describe, expect, it } from "vitest";
import { SandboxName } from "../sandbox-name.js";
import {
  bodyNetworkPlan,
  bodyNetworkTeardown,
  bridgeDownPlan,
  bridgeUpPlan,
  choosePodCidr,
  ipInCidr,
  podAddressProblem,
  podNetwork,
} from "./network.js";

const sandbox = SandboxName.parse("pod-body", "--name");
const network = podNetwork(sandbox, "10.244.0.0/16");
const body = {
  netns: "bs-pod-body-c373f5eb-6c8f-4bc7-b34f-ce5a213edb4f",
  hostVeth: "bs1a2b3c9f8e7d6",
  ip: "10.244.0.7",
};

describe("the pods' network, planned as ip argv", () => {
  it("puts the bridge on the CIDR's last usable address, which kwok (counting up from .0.1) hands out last", () => {
    expect(network).toEqual({ cidr: "10.244.0.0/16", gateway: "10.244.255.254", bridge: network.bridge });
    expect(podNetwork(sandbox, "10.245.0.0/16").gateway).toBe("10.245.255.254");
  });

  it("makes the bridge with its address and brings it up, and deletes it in one step", () => {
    expect(bridgeUpPlan(network)).toEqual([
      ["ip", "link", "add", network.bridge, "type", "bridge"],
      ["ip", "addr", "add", "10.244.255.254/16", "dev", network.bridge],
      ["ip", "link", "set", network.bridge, "up"],
    ]);
    expect(bridgeDownPlan(network.bridge)).toEqual([["ip", "link", "del", network.bridge]]);
  });

  it("gives a pod its namespace, a veth pair with eth0 inside and the host end on the bridge, and kwok's IP", () => {
    expect(bodyNetworkPlan(network, body)).toEqual([
      ["ip", "netns", "add", body.netns],
      ["ip", "link", "add", body.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", body.netns],
      ["ip", "link", "set", body.hostVeth, "master", network.bridge],
      ["ip", "link", "set", body.hostVeth, "up"],
      ["ip", "-n", body.netns, "addr", "add", "10.244.0.7/16", "dev", "eth0"],
      ["ip", "-n", body.netns, "link", "set", "lo", "up"],
      ["ip", "-n", body.netns, "link", "set", "eth0", "up"],
    ]);
    expect(bodyNetworkTeardown(body)).toEqual([
      ["ip", "netns", "del", body.netns],
      ["ip", "link", "del", body.hostVeth],
    ]);
  });

  it("gives a body only an address its network can hold", () => {
    expect(podAddressProblem("10.244.0.7", network)).toBeUndefined();
    expect(podAddressProblem(undefined, network)).toMatch(/no pod IP/);
    expect(podAddressProblem("10.245.0.7", network)).toMatch(/outside the sandbox's pod CIDR/);
    expect(podAddressProblem("10.244.255.254", network)).toMatch(/network's own address/);
    expect(podAddressProblem("10.244.0.0", network)).toMatch(/network's own address/);
    expect(podAddressProblem("10.244.255.255", network)).toMatch(/network's own address/);
    expect(podAddressProblem("fd00::7", network)).toMatch(/not an IPv4 address/);
    expect(ipInCidr("10.244.3.9", "10.244.0.0/16")).toBe(true);
    expect(ipInCidr("10.2.3.9", "10.244.0.0/16")).toBe(false);
  });

  it("chooses a /16 no route of the host overlaps, so sandboxes side by side never share one", () => {
    expect(choosePodCidr(["default", "192.0.2.0/24", "127.0.0.0/8"])).toBe("10.244.0.0/16");
    // Another sandbox's bridge routes 10.244.0.0/16; a host route inside 10.245 takes that one too.
    expect(choosePodCidr(["default", "10.244.0.0/16", "10.245.3.7"])).toBe("10.246.0.0/16");
    expect(choosePodCidr(["10.0.0.0/8"])).toBeUndefined();
  });
});

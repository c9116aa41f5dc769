import { describe, expect, it } from "vitest";
import {
  answerSaysApplied,
  nodeLabelValue,
  nodeWorkSelector,
  parseNodeWorkSpec,
  rateBitsPerSecond,
  workRefusal,
} from "./node-work.js";
import { sampleWork } from "./node-work-fixture.js";

describe("node work: the object a node's daemon acts on", () => {
  it("accepts a well-formed container-kill, with or without a container ID", () => {
    expect(parseNodeWorkSpec(sampleWork)).toEqual(sampleWork);
    const withId = { ...sampleWork, containerId: `containerd://${"ab".repeat(32)}` };
    expect(parseNodeWorkSpec(withId)).toEqual(withId);
  });

  it.each([
    [{ container: "Web;rm -rf /" }, /^container: /],
    [{ containerId: "containerd://$(reboot)" }, /^containerId: is not a container ID/],
    [{ pod: { ...sampleWork.pod, uid: "../../etc" } }, /^pod\.uid: is not a pod uid/],
    [{ ledgerId: "../x" }, /^ledgerId: is not a ledger record id/],
    [{ signal: "SIGTERM" }, /^signal: /],
    [{ extra: 1 }, /^the work: /],
  ])("refuses %j, naming the field", (change, problem) => {
    const parsed = parseNodeWorkSpec({ ...sampleWork, ...change });
    expect("problem" in parsed ? parsed.problem : "accepted").toMatch(problem);
  });

  it("labels short node names as they are and long ones by a hash that still fits a label", () => {
    expect(nodeLabelValue("kwok-node-0")).toBe("kwok-node-0");
    const long = `${"a".repeat(60)}.compute.internal`;
    const value = nodeLabelValue(long);
    expect(value).toMatch(/^sha-[0-9a-f]{56}$/);
    expect(value).toBe(nodeLabelValue(long));
    expect(nodeWorkSelector("kwok-node-0")).toBe("broadside.dev/node-work=v1,broadside.dev/node=kwok-node-0");
  });

  it("refuses another node's work and a protected namespace, and abandons work past its deadline", () => {
    const context = { node: "kwok-node-0", protectedNamespaces: ["kube-system"], now: 2_000 };
    expect(workRefusal(sampleWork, context)).toBeUndefined();
    expect(workRefusal(sampleWork, { ...context, node: "kwok-node-1" })?.phase).toBe("Refused");
    const system = { ...sampleWork, pod: { ...sampleWork.pod, namespace: "kube-system" } };
    expect(workRefusal(system, context)).toEqual({
      phase: "Refused",
      message: "namespace kube-system is protected",
    });
    expect(workRefusal(sampleWork, { ...context, now: 31_000 })?.phase).toBe("Abandoned");
  });

  const bandwidth = {
    ...sampleWork,
    kind: "bandwidth",
    signal: undefined,
    network: { device: "eth0", bandwidth: { rate: "1mbit", limit: 20_000, buffer: 10_000 } },
    durationMs: 30_000,
  };

  it.each([
    [{ durationMs: undefined }, /^durationMs: is required for bandwidth/],
    [{ network: { device: "eth0" } }, /^network: needs its bandwidth parameters/],
    [
      { network: { device: "eth0;rm", bandwidth: bandwidth.network.bandwidth } },
      /^network\.device: must be an interface name/,
    ],
    [
      { network: { device: "eth0", bandwidth: { ...bandwidth.network.bandwidth, rate: "1 mbit" } } },
      /^network\.bandwidth\.rate: must be a tc rate/,
    ],
    [
      { network: { device: "eth0", bandwidth: { ...bandwidth.network.bandwidth, rate: "1bit" } } },
      /^network\.bandwidth\.rate: must be at least 8 bit\/s/,
    ],
    [
      { network: { device: "eth0", bandwidth: { ...bandwidth.network.bandwidth, limit: 0 } } },
      /^network\.bandwidth\.limit: /,
    ],
    [{ kind: "container-kill" }, /^signal: is required for container-kill/],
  ])("refuses timed work %j, naming the field", (change, problem) => {
    const parsed = parseNodeWorkSpec({ ...bandwidth, ...change });
    expect("problem" in parsed ? parsed.problem : "accepted").toMatch(problem);
  });

  it("accepts bandwidth and partition work, and reads tc rates in bit/s", () => {
    expect("problem" in parseNodeWorkSpec(bandwidth)).toBe(false);
    const partition = {
      ...bandwidth,
      kind: "partition",
      network: { device: "eth0", partition: { direction: "to" } },
    };
    expect("problem" in parseNodeWorkSpec(partition)).toBe(false);
    expect(rateBitsPerSecond("1mbit")).toBe(1_000_000);
    expect(rateBitsPerSecond("125kbps")).toBe(1_000_000);
    expect(rateBitsPerSecond("1.5MBit")).toBe(1_500_000);
    expect(rateBitsPerSecond("800")).toBe(800);
    expect(rateBitsPerSecond("fast")).toBeUndefined();
  });

  it("counts a first answer of Reverted with the time it acted as applied: a restart lost only the Applied answer", () => {
    const at = 1_700_000_000_000;
    const daemon = { node: "kwok-node-0", host: "node-0", pid: 4242 };
    expect(answerSaysApplied({ phase: "Applied", message: "delay applied", actedAt: at, at, daemon })).toBe(
      true,
    );
    const revertedAfterRestart = {
      phase: "Reverted" as const,
      message: "delay reverted: its end passed while the daemon was down",
      actedAt: at,
      revertedAt: at + 20_000,
      at: at + 20_000,
      daemon,
    };
    expect(answerSaysApplied(revertedAfterRestart)).toBe(true);
    expect(answerSaysApplied({ ...revertedAfterRestart, actedAt: undefined })).toBe(false);
    expect(answerSaysApplied({ phase: "Refused", message: "halted", at, daemon })).toBe(false);
  });
});

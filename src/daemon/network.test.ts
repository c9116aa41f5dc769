import { describe, expect, it } from "vitest";
import {
  broadsideTables,
  chooseBackend,
  hasBroadsideQdisc,
  inNetns,
  kernelQdiscArgvs,
  ledgerIdOfTable,
  netemArgv,
  netemLack,
  netemProbeArgv,
  proxyRuleset,
  nftDeleteTableArgv,
  partitionRuleset,
  qdiscDeleteArgv,
  tableName,
  tbfArgv,
} from "./network.js";

const id = "20261207t133000-abc123";

describe("the kernel backend's argv (checked exactly: no shell, every value from a checked spec)", () => {
  it("bandwidth is tbf on the device's root with Broadside's handle b5d:", () => {
    expect(tbfArgv("eth0", { rate: "1mbit", limit: 20_971_520, buffer: 10_000 })).toEqual([
      ...["tc", "qdisc", "replace", "dev", "eth0", "root", "handle", "b5d:", "tbf"],
      ...["rate", "1mbit", "burst", "10000", "limit", "20971520"],
    ]);
    expect(
      tbfArgv("eth0", { rate: "1MBps", limit: 100, buffer: 1600, peakrate: 2_000_000, minburst: 1540 }),
    ).toEqual([
      ...["tc", "qdisc", "replace", "dev", "eth0", "root", "handle", "b5d:", "tbf"],
      ...["rate", "1mbps", "burst", "1600", "limit", "100", "peakrate", "2000000", "mtu", "1540"],
    ]);
  });

  it("peakrate without minburst is left out, as Chaos Mesh does", () => {
    expect(tbfArgv("eth0", { rate: "8kbit", limit: 1, buffer: 1, peakrate: 5 })).not.toContain("peakrate");
  });

  it("netem: the seed's delay 200ms, jitter 50ms, correlation 25, and loss, duplicate, corrupt", () => {
    const root = ["tc", "qdisc", "replace", "dev", "eth0", "root", "handle", "b5d:", "netem"];
    expect(netemArgv("eth0", { delay: { latencyMs: 200, jitterMs: 50, correlation: 25 } })).toEqual([
      ...root,
      ...["delay", "200ms", "50ms", "25%"],
    ]);
    expect(netemArgv("eth0", { delay: { latencyMs: 10, jitterMs: 0, correlation: 25 } })).toEqual([
      ...root,
      ...["delay", "10ms"],
    ]);
    expect(netemArgv("eth0", { loss: { percent: 25, correlation: 0 } })).toEqual([...root, "loss", "25%"]);
    expect(
      netemArgv("eth1", {
        duplicate: { percent: 1.5, correlation: 10 },
        corrupt: { percent: 2, correlation: 0 },
      }),
    ).toEqual([
      ...["tc", "qdisc", "replace", "dev", "eth1", "root", "handle", "b5d:", "netem"],
      ...["duplicate", "1.5%", "10%", "corrupt", "2%"],
    ]);
  });

  it("revert deletes the root qdisc only with Broadside's handle; everything runs through nsenter", () => {
    expect(qdiscDeleteArgv("eth0")).toEqual(["tc", "qdisc", "del", "dev", "eth0", "root", "handle", "b5d:"]);
    expect(inNetns("/run/netns/bs-x-pod", ["tc", "-j", "qdisc", "show"])).toEqual([
      ...["nsenter", "--net=/run/netns/bs-x-pod", "--", "tc", "-j", "qdisc", "show"],
    ]);
  });

  it("recognises Broadside's root qdisc in tc -j output, and nothing else", () => {
    expect(hasBroadsideQdisc('[{"kind":"tbf","handle":"b5d:","root":true}]')).toBe(true);
    expect(hasBroadsideQdisc('[{"kind":"noqueue","handle":"0:","root":true}]')).toBe(false);
    expect(hasBroadsideQdisc('[{"kind":"tbf","handle":"b5d:","parent":"1:"}]')).toBe(false);
    expect(hasBroadsideQdisc("not json")).toBe(false);
  });

  it("a partition is one nft table named after its ledger record, dropping on the device", () => {
    expect(tableName(id)).toBe("broadside_20261207t133000_abc123");
    expect(ledgerIdOfTable(tableName(id))).toBe(id);
    expect(ledgerIdOfTable("broadside_other")).toBeUndefined();
    expect(partitionRuleset(id, "eth0", { direction: "both" })).toBe(
      [
        "table inet broadside_20261207t133000_abc123 {",
        "  chain input {",
        "    type filter hook input priority -10; policy accept;",
        '    iifname "eth0" counter drop',
        "  }",
        "  chain output {",
        "    type filter hook output priority -10; policy accept;",
        '    oifname "eth0" counter drop',
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    expect(partitionRuleset(id, "eth0", { direction: "to" })).not.toContain("chain input");
    expect(partitionRuleset(id, "eth0", { direction: "from" })).not.toContain("chain output");
    expect(nftDeleteTableArgv(tableName(id))).toEqual(["nft", "delete", "table", "inet", tableName(id)]);
  });

  it("lists Broadside's tables from nft -j output", () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: "1.0.6" } },
        { table: { family: "inet", name: "broadside_20261207t133000_abc123", handle: 1 } },
        { table: { family: "ip", name: "nat", handle: 2 } },
      ],
    });
    expect(broadsideTables(json)).toEqual(["broadside_20261207t133000_abc123"]);
    expect(broadsideTables("")).toEqual([]);
  });

  it("delay and loss on the kernel: exactly netem's argv, Chaos Mesh's fields as netem spells them", () => {
    expect(
      kernelQdiscArgvs("delay", {
        device: "eth0",
        delay: { latencyMs: 200, jitterMs: 50, correlation: 25 },
        backend: "kernel",
      })?.[0],
    ).toEqual([
      "tc",
      "qdisc",
      "replace",
      "dev",
      "eth0",
      "root",
      "handle",
      "b5d:",
      "netem",
      "delay",
      "200ms",
      "50ms",
      "25%",
    ]);
    expect(
      kernelQdiscArgvs("loss", { device: "eth1", loss: { percent: 25, correlation: 0 }, backend: "auto" }),
    ).toEqual([["tc", "qdisc", "replace", "dev", "eth1", "root", "handle", "b5d:", "netem", "loss", "25%"]]);
    expect(
      kernelQdiscArgvs("loss", { device: "eth0", loss: { percent: 12.5, correlation: 50 } })?.[0],
    ).toEqual([
      "tc",
      "qdisc",
      "replace",
      "dev",
      "eth0",
      "root",
      "handle",
      "b5d:",
      "netem",
      "loss",
      "12.5%",
      "50%",
    ]);
    expect(
      kernelQdiscArgvs("partition", { device: "eth0", partition: { direction: "both" } }),
    ).toBeUndefined();
    expect(netemProbeArgv()).toEqual([
      ...["unshare", "--net", "--", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
    ]);
  });

  it("filtered (ADR 0041): an htb root of Broadside's handle, the fault's qdisc under class b5d:1, a u32 filter per peer address", () => {
    const peers = [{ address: "10.244.1.7", ports: [8080] }, { address: "203.0.113.0/24" }];
    const tc = ["tc", "qdisc", "replace", "dev", "eth0"];
    const htb = [
      [...tc, "root", "handle", "b5d:", "htb"],
      [...["tc", "class", "replace", "dev", "eth0", "parent", "b5d:", "classid", "b5d:1"]].concat([
        "htb",
        "rate",
        "100gbit",
        "quantum",
        "60000",
      ]),
    ];
    const filters = [
      [...["tc", "filter", "replace", "dev", "eth0", "parent", "b5d:", "protocol", "ip", "prio", "1"]].concat(
        ["handle", "800::1", "u32", "match", "ip", "dst", "10.244.1.7/32", "flowid", "b5d:1"],
      ),
      [...["tc", "filter", "replace", "dev", "eth0", "parent", "b5d:", "protocol", "ip", "prio", "1"]].concat(
        ["handle", "800::2", "u32", "match", "ip", "dst", "203.0.113.0/24", "flowid", "b5d:1"],
      ),
    ];
    expect(
      kernelQdiscArgvs("delay", {
        device: "eth0",
        delay: { latencyMs: 100, jitterMs: 10, correlation: 25 },
        peers,
      }),
    ).toEqual([
      ...htb,
      [...tc, "parent", "b5d:1", "handle", "b5e:", "netem", "delay", "100ms", "10ms", "25%"],
      ...filters,
    ]);
    expect(
      kernelQdiscArgvs("bandwidth", {
        device: "eth0",
        bandwidth: { rate: "1mbit", limit: 20_971_520, buffer: 10_000 },
        peers,
      }),
    ).toEqual([
      ...htb,
      [
        ...tc,
        "parent",
        "b5d:1",
        "handle",
        "b5e:",
        "tbf",
        "rate",
        "1mbit",
        "burst",
        "10000",
        "limit",
        "20971520",
      ],
      ...filters,
    ]);
  });

  it("duplicate and corrupt (netem only): exactly netem's argv with Broadside's handle", () => {
    expect(
      kernelQdiscArgvs("duplicate", { device: "eth0", duplicate: { percent: 5, correlation: 25 } }),
    ).toEqual([
      ["tc", "qdisc", "replace", "dev", "eth0", "root", "handle", "b5d:", "netem", "duplicate", "5%", "25%"],
    ]);
    expect(
      kernelQdiscArgvs("corrupt", { device: "eth1", corrupt: { percent: 0.5, correlation: 0 } }),
    ).toEqual([
      ["tc", "qdisc", "replace", "dev", "eth1", "root", "handle", "b5d:", "netem", "corrupt", "0.5%"],
    ]);
  });

  it("a filtered partition drops only the traffic to the peers (output) and from them (input)", () => {
    const peers = [{ address: "10.244.1.7" }, { address: "10.244.1.9" }];
    const both = partitionRuleset(id, "eth0", { direction: "both" }, peers);
    expect(both).toContain('oifname "eth0" ip daddr { 10.244.1.7, 10.244.1.9 } counter drop');
    expect(both).toContain('iifname "eth0" ip saddr { 10.244.1.7, 10.244.1.9 } counter drop');
    expect(partitionRuleset(id, "eth0", { direction: "to" }, peers)).not.toContain("chain input");
  });

  it("the proxy's filtered redirects: connections from the peers into the pod, and the pod's own to a peer's port except the proxy's uid", () => {
    expect(
      proxyRuleset(
        id,
        "eth0",
        [
          { port: 8080, proxyPort: 40001 },
          { port: 9090, proxyPort: 40002, upstream: "10.244.1.7" },
        ],
        1_800_000_000,
        [{ address: "10.244.1.7", ports: [9090] }],
      ),
    ).toBe(
      [
        "table inet broadside_20261207t133000_abc123 {",
        "  chain prerouting {",
        "    type nat hook prerouting priority dstnat; policy accept;",
        '    iifname "eth0" meta nfproto ipv4 ip saddr { 10.244.1.7 } tcp dport 8080 meta time < 1800000000 redirect to :40001',
        "  }",
        "  chain output {",
        "    type nat hook output priority -100; policy accept;",
        "    meta nfproto ipv4 meta skuid != 2909 ip daddr 10.244.1.7 tcp dport 9090 meta time < 1800000000 redirect to :40002",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("chooses the backend: kernel where netem is, the proxy otherwise; kernel without netem refused naming the flag", () => {
    const lacks = netemLack({ has: false, words: "Error: Specified qdisc kind is unknown." });
    expect(lacks).toBe("this node's kernel has no sch_netem (tc: Error: Specified qdisc kind is unknown.)");
    expect(netemLack({ has: true, words: "" })).toBeUndefined();
    expect(netemLack({ has: undefined, words: "unshare: not found" })).toBe(
      "the probe for sch_netem failed (unshare: not found)",
    );
    expect(chooseBackend("auto", undefined, undefined)).toEqual({
      kind: "kernel",
      why: "auto: this node's kernel has sch_netem",
    });
    expect(chooseBackend("auto", lacks, undefined)).toEqual({ kind: "proxy", why: `auto: ${lacks ?? ""}` });
    expect(chooseBackend("kernel", lacks, undefined)).toEqual({
      refused: `--backend kernel: ${lacks ?? ""}; use --backend proxy, or auto`,
    });
    expect(chooseBackend("kernel", undefined, "no ports")).toEqual({
      kind: "kernel",
      why: "--backend kernel",
    });
    expect(chooseBackend("proxy", undefined, undefined)).toEqual({ kind: "proxy", why: "--backend proxy" });
    expect(chooseBackend("proxy", undefined, "no ports")).toEqual({ refused: "--backend proxy: no ports" });
    expect(chooseBackend("auto", lacks, "no ports")).toEqual({
      refused: `--backend auto: ${lacks ?? ""}, and no ports`,
    });
  });

  it("the proxy's redirect: one nat rule per pod port, lapsing at its end", () => {
    expect(
      proxyRuleset(
        id,
        "eth0",
        [
          { port: 8080, proxyPort: 41000 },
          { port: 9090, proxyPort: 41001 },
        ],
        1_800_000_000.9,
      ),
    ).toBe(
      [
        "table inet broadside_20261207t133000_abc123 {",
        "  chain prerouting {",
        "    type nat hook prerouting priority dstnat; policy accept;",
        '    iifname "eth0" meta nfproto ipv4 tcp dport 8080 meta time < 1800000000 redirect to :41000',
        '    iifname "eth0" meta nfproto ipv4 tcp dport 9090 meta time < 1800000000 redirect to :41001',
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });
});

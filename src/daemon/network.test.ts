import { describe, expect, it } from "vitest";
import {
  broadsideTables,
  hasBroadsideQdisc,
  inNetns,
  ledgerIdOfTable,
  netemArgv,
  nftDeleteTableArgv,
  partitionRuleset,
  qdiscDeleteArgv,
  tableName,
  tbfArgv,
} from "./network.js";

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
    const id = "20261207t133000-abc123";
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
});

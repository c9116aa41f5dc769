import type { BandwidthParams, PartitionParams } from "../core/node-work.js";

/*
 * The kernel backend of the network faults (ADR 0032), as argv arrays: tc for bandwidth (tbf) and, where
 * the kernel has sch_netem, delay, loss, duplicate and corrupt (netem); nftables for partition. Every
 * command runs inside the target pod's network namespace through `nsenter --net=<path> --`, never through a
 * shell; every value in an argv comes from a checked work spec (core/node-work.ts).
 *
 * The Broadside marks, so that a leftover is recognisable after any crash:
 * - a qdisc Broadside adds is the device's root qdisc with handle 0xb5d (`b5d:`); nothing else uses it.
 *   Revert deletes the root qdisc only while it still has that handle (tc refuses the delete otherwise);
 * - an nftables table Broadside adds is `inet broadside_<ledger id, '-' as '_'>`, one per fault.
 */

export type Argv = readonly string[];

/** The handle of every qdisc Broadside adds: "b5d:" (0xb5d0000), Broadside's mark. */
export const broadsideQdiscHandle = "b5d:";
/** The same, as `tc -j qdisc show` prints it. */
export const broadsideQdiscHandleShown = "b5d:";
export const broadsideTablePrefix = "broadside_";

/** The argv that runs `argv` inside the network namespace at `netnsPath`. */
export function inNetns(netnsPath: string, argv: Argv): Argv {
  return ["nsenter", `--net=${netnsPath}`, "--", ...argv];
}

/** tbf on the device's root: `tc qdisc replace dev <dev> root handle b5d: tbf rate R burst B limit L [peakrate P mtu M]`. */
export function tbfArgv(device: string, bandwidth: BandwidthParams): Argv {
  const peak =
    bandwidth.peakrate !== undefined && bandwidth.minburst !== undefined
      ? ["peakrate", String(bandwidth.peakrate), "mtu", String(bandwidth.minburst)]
      : [];
  return [
    ...["tc", "qdisc", "replace", "dev", device, "root", "handle", broadsideQdiscHandle, "tbf"],
    ...["rate", bandwidth.rate.toLowerCase(), "burst", String(bandwidth.buffer)],
    ...["limit", String(bandwidth.limit), ...peak],
  ];
}

/** netem's parameters, as Chaos Mesh's NetworkChaos delay, loss, duplicate and corrupt have them. */
export interface NetemParams {
  readonly delay?: { readonly latencyMs: number; readonly jitterMs: number; readonly correlation: number };
  readonly loss?: { readonly percent: number; readonly correlation: number };
  readonly duplicate?: { readonly percent: number; readonly correlation: number };
  readonly corrupt?: { readonly percent: number; readonly correlation: number };
}

/**
 * netem on the device's root (used where the kernel has sch_netem): e.g. delay 200ms, jitter 50ms,
 * correlation 25 gives `... netem delay 200ms 50ms 25%`. Percentages are written with a `%` (a bare
 * number would be read as a fraction by newer iproute2), times in ms.
 */
export function netemArgv(device: string, netem: NetemParams): Argv {
  const args: string[] = [];
  if (netem.delay !== undefined) {
    const { latencyMs, jitterMs, correlation } = netem.delay;
    args.push("delay", `${latencyMs}ms`);
    if (jitterMs > 0) args.push(`${jitterMs}ms`, ...(correlation > 0 ? [`${correlation}%`] : []));
  }
  for (const what of ["loss", "duplicate", "corrupt"] as const) {
    const each = netem[what];
    if (each === undefined) continue;
    args.push(what, `${each.percent}%`, ...(each.correlation > 0 ? [`${each.correlation}%`] : []));
  }
  return ["tc", "qdisc", "replace", "dev", device, "root", "handle", broadsideQdiscHandle, "netem", ...args];
}

/** Removes the device's root qdisc, only while it is Broadside's (tc checks the handle). */
export function qdiscDeleteArgv(device: string): Argv {
  return ["tc", "qdisc", "del", "dev", device, "root", "handle", broadsideQdiscHandle];
}

/** The device's qdiscs as JSON, for the leftover scan. */
export function qdiscShowArgv(device: string): Argv {
  return ["tc", "-j", "qdisc", "show", "dev", device];
}

/** Whether `tc -j qdisc show` output has Broadside's root qdisc. */
export function hasBroadsideQdisc(json: string): boolean {
  try {
    const qdiscs = JSON.parse(json) as unknown;
    return (
      Array.isArray(qdiscs) &&
      qdiscs.some(
        (qdisc: unknown) =>
          typeof qdisc === "object" &&
          qdisc !== null &&
          (qdisc as { handle?: unknown }).handle === broadsideQdiscHandleShown &&
          (qdisc as { root?: unknown }).root === true,
      )
    );
  } catch {
    return false;
  }
}

/** The nftables table of one fault: `broadside_<ledger id>` with '-' as '_' (nft names take no '-'). */
export function tableName(ledgerId: string): string {
  return `${broadsideTablePrefix}${ledgerId.replaceAll("-", "_")}`;
}

/** The ledger id a Broadside table name carries, or undefined for another table. */
export function ledgerIdOfTable(name: string): string | undefined {
  const match = /^broadside_([0-9]{8}t[0-9]{6})_([0-9a-f]{6})$/.exec(name);
  return match === null ? undefined : `${match[1] ?? ""}-${match[2] ?? ""}`;
}

/**
 * The partition's ruleset, loaded in one transaction with `nft -f <file>`: a table of its own whose chains
 * drop the pod's traffic on the device: `to` what the pod sends, `from` what it receives, `both` both.
 * Loopback inside the pod is untouched.
 */
export function partitionRuleset(ledgerId: string, device: string, partition: PartitionParams): string {
  const table = tableName(ledgerId);
  const lines = [`table inet ${table} {`];
  if (partition.direction !== "to") {
    lines.push(
      "  chain input {",
      "    type filter hook input priority -10; policy accept;",
      `    iifname "${device}" counter drop`,
      "  }",
    );
  }
  if (partition.direction !== "from") {
    lines.push(
      "  chain output {",
      "    type filter hook output priority -10; policy accept;",
      `    oifname "${device}" counter drop`,
      "  }",
    );
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

export function nftLoadArgv(file: string): Argv {
  return ["nft", "-f", file];
}

export function nftDeleteTableArgv(table: string): Argv {
  return ["nft", "delete", "table", "inet", table];
}

export function nftListTablesArgv(): Argv {
  return ["nft", "-j", "list", "tables"];
}

/** The Broadside tables in `nft -j list tables` output. */
export function broadsideTables(json: string): string[] {
  try {
    const parsed = JSON.parse(json) as { nftables?: unknown };
    if (!Array.isArray(parsed.nftables)) return [];
    return parsed.nftables.flatMap((item: unknown) => {
      const table = (item as { table?: { family?: unknown; name?: unknown } }).table;
      return table?.family === "inet" &&
        typeof table.name === "string" &&
        table.name.startsWith(broadsideTablePrefix)
        ? [table.name]
        : [];
    });
  } catch {
    return [];
  }
}

/** tc's and nft's words for "it is not there": a revert that finds nothing to remove is done. */
export function saysAlreadyGone(stderr: string): boolean {
  return /No such file or directory|Cannot find device|Invalid handle|Cannot delete qdisc with handle of zero|does not exist|No such process/i.test(
    stderr,
  );
}

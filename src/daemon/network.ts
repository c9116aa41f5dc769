import type {
  BandwidthParams,
  NetworkBackend,
  NetworkWork,
  NodeWorkKind,
  PartitionParams,
} from "../core/node-work.js";

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

/**
 * The proxy backend's redirects (ADR 0039), loaded with `nft -f` in the pod's namespace: a table of the
 * fault's own (the same mark as a partition's) whose nat chain sends new TCP connections that come in on
 * the device for a pod port to the proxy's port for it. Each rule stops matching at `untilSeconds` (epoch
 * seconds, `meta time`), so the redirect lapses on time even if nobody removes it; the proxy itself and
 * connections the pod makes are untouched (they do not pass prerouting on the device).
 */
export function proxyRuleset(
  ledgerId: string,
  device: string,
  listeners: readonly { readonly port: number; readonly proxyPort: number }[],
  untilSeconds: number,
): string {
  const lines = [
    `table inet ${tableName(ledgerId)} {`,
    "  chain prerouting {",
    "    type nat hook prerouting priority dstnat; policy accept;",
    ...listeners.map(
      ({ port, proxyPort }) =>
        `    iifname "${device}" meta nfproto ipv4 tcp dport ${port} meta time < ${Math.floor(untilSeconds)} redirect to :${proxyPort}`,
    ),
    "  }",
    "}",
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * Whether this node's kernel has sch_netem: netem added to the loopback of a network namespace made for
 * the probe alone (`unshare --net`), which goes with the probe's process; nothing of the node changes.
 */
export function netemProbeArgv(): Argv {
  return ["unshare", "--net", "--", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"];
}

/** tc's words for a kernel without the qdisc. */
export function saysNoSuchQdisc(stderr: string): boolean {
  return /qdisc kind is unknown/i.test(stderr);
}

/** The qdisc a kernel-backend fault puts on the device: tbf for bandwidth, netem for delay and loss. */
export function kernelQdiscArgv(kind: NodeWorkKind, network: NetworkWork): Argv | undefined {
  if (kind === "bandwidth" && network.bandwidth !== undefined)
    return tbfArgv(network.device, network.bandwidth);
  if (kind !== "delay" && kind !== "loss") return undefined;
  return netemArgv(network.device, {
    ...(network.delay === undefined ? {} : { delay: network.delay }),
    ...(network.loss === undefined ? {} : { loss: network.loss }),
  });
}

/** What the netem probe found: true, false, or undefined when it could not tell (tc's first words). */
export interface NetemProbe {
  readonly has: boolean | undefined;
  readonly words: string;
}

/** Why the kernel backend cannot be had on this node, or undefined when it can. */
export function netemLack(probe: NetemProbe): string | undefined {
  if (probe.has === true) return undefined;
  return probe.has === false
    ? `this node's kernel has no sch_netem (tc: ${probe.words})`
    : `the probe for sch_netem failed (${probe.words})`;
}

/**
 * delay's and loss's backend (ADR 0039), from what was asked, what the kernel lacks (undefined: it has
 * netem) and why the pod cannot be proxied (undefined: it declares TCP ports). `kernel` without netem is
 * refused naming the flag; `auto` takes netem where there is one, else the proxy.
 */
export function chooseBackend(
  asked: NetworkBackend,
  lacks: string | undefined,
  noPorts: string | undefined,
): { readonly kind: "kernel" | "proxy"; readonly why: string } | { readonly refused: string } {
  if (asked === "kernel")
    return lacks === undefined
      ? { kind: "kernel", why: "--backend kernel" }
      : { refused: `--backend kernel: ${lacks}; use --backend proxy, or auto` };
  if (asked === "auto" && lacks === undefined)
    return { kind: "kernel", why: "auto: this node's kernel has sch_netem" };
  if (noPorts !== undefined)
    return {
      refused:
        asked === "proxy" ? `--backend proxy: ${noPorts}` : `--backend auto: ${lacks ?? ""}, and ${noPorts}`,
    };
  return { kind: "proxy", why: asked === "proxy" ? "--backend proxy" : `auto: ${lacks ?? ""}` };
}

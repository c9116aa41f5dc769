import type {
  BandwidthParams,
  NetworkBackend,
  NetworkWork,
  NodeWorkKind,
  PartitionParams,
  Peer,
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

/**
 * Where a fault's qdisc goes: the device's root (the whole pod's traffic), or, for a filtered fault (ADR
 * 0041), the one class of Broadside's htb root that the peers' filters lead to.
 */
const atRoot: Argv = ["root", "handle", broadsideQdiscHandle];
const underFilter: Argv = ["parent", "b5d:1", "handle", "b5e:"];

/** tbf on the device's root: `tc qdisc replace dev <dev> root handle b5d: tbf rate R burst B limit L [peakrate P mtu M]`. */
export function tbfArgv(device: string, bandwidth: BandwidthParams, where: Argv = atRoot): Argv {
  const peak =
    bandwidth.peakrate !== undefined && bandwidth.minburst !== undefined
      ? ["peakrate", String(bandwidth.peakrate), "mtu", String(bandwidth.minburst)]
      : [];
  return [
    ...["tc", "qdisc", "replace", "dev", device, ...where, "tbf"],
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
export function netemArgv(device: string, netem: NetemParams, where: Argv = atRoot): Argv {
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
  return ["tc", "qdisc", "replace", "dev", device, ...where, "netem", ...args];
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
 * Loopback inside the pod is untouched. With peers (ADR 0041), only the traffic to them (`to`) and from
 * them (`from`) is dropped.
 */
export function partitionRuleset(
  ledgerId: string,
  device: string,
  partition: PartitionParams,
  peers?: readonly Peer[],
): string {
  const table = tableName(ledgerId);
  const only = (field: "saddr" | "daddr"): string =>
    peers === undefined ? "" : ` ip ${field} ${addressSet(peers)}`;
  const lines = [`table inet ${table} {`];
  if (partition.direction !== "to") {
    lines.push(
      "  chain input {",
      "    type filter hook input priority -10; policy accept;",
      `    iifname "${device}"${only("saddr")} counter drop`,
      "  }",
    );
  }
  if (partition.direction !== "from") {
    lines.push(
      "  chain output {",
      "    type filter hook output priority -10; policy accept;",
      `    oifname "${device}"${only("daddr")} counter drop`,
      "  }",
    );
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** The peers' addresses as an nft anonymous set: `{ 10.0.0.5, 203.0.113.0/24 }`. */
function addressSet(peers: readonly Peer[]): string {
  return `{ ${[...new Set(peers.map((peer) => peer.address))].join(", ")} }`;
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
 * The uid and gid the proxy runs as (0xb5d, Broadside's mark): its own connections to a target are told
 * from the pod's by it (`meta skuid`), so the output redirect never loops them back (ADR 0041). A pod
 * process running as this uid is not redirected.
 */
export const proxyUid = 2909;

/** One proxy listener: a pod port it stands in front of, or (`upstream`) a peer's address and port. */
export interface ProxyListener {
  readonly port: number;
  readonly proxyPort: number;
  /** Set for the pod's connections to a peer: the peer's address the listener connects on to. */
  readonly upstream?: string | undefined;
}

/**
 * The proxy backend's redirects (ADR 0039, ADR 0041), loaded with `nft -f` in the pod's namespace: a table
 * of the fault's own (the same mark as a partition's). Its nat prerouting chain sends new TCP connections
 * that come in on the device for a pod port (from the peers only, when there are peers) to the proxy's
 * listener for it; its nat output chain sends the pod's own new connections to a peer's address and port
 * to the listener for that pair, except the proxy's own (`meta skuid`). Each rule stops matching at
 * `untilSeconds` (epoch seconds, `meta time`), so the redirect lapses on time even if nobody removes it.
 */
export function proxyRuleset(
  ledgerId: string,
  device: string,
  listeners: readonly ProxyListener[],
  untilSeconds: number,
  peers?: readonly Peer[],
): string {
  const until = `meta time < ${Math.floor(untilSeconds)}`;
  const from = peers === undefined ? "" : ` ip saddr ${addressSet(peers)}`;
  const incoming = listeners.filter((listener) => listener.upstream === undefined);
  const outgoing = listeners.filter((listener) => listener.upstream !== undefined);
  const lines = [`table inet ${tableName(ledgerId)} {`];
  if (incoming.length > 0)
    lines.push(
      "  chain prerouting {",
      "    type nat hook prerouting priority dstnat; policy accept;",
      ...incoming.map(
        ({ port, proxyPort }) =>
          `    iifname "${device}" meta nfproto ipv4${from} tcp dport ${port} ${until} redirect to :${proxyPort}`,
      ),
      "  }",
    );
  if (outgoing.length > 0)
    lines.push(
      "  chain output {",
      "    type nat hook output priority -100; policy accept;",
      ...outgoing.map(
        ({ port, proxyPort, upstream }) =>
          `    meta nfproto ipv4 meta skuid != ${proxyUid} ip daddr ${upstream ?? ""} tcp dport ${port} ${until} redirect to :${proxyPort}`,
      ),
      "  }",
    );
  lines.push("}");
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

/**
 * The tc commands of a kernel-backend fault, in order: tbf for bandwidth, netem for delay and loss. With
 * peers (ADR 0041) the device's root is an htb of Broadside's handle whose one class b5d:1 holds the fault's
 * qdisc (handle b5e:), and a u32 filter per peer address sends what the pod sends to it there; the rest
 * of the pod's traffic goes out unclassified (htb's direct queue), untouched. The root's delete removes
 * all of it.
 */
export function kernelQdiscArgvs(kind: NodeWorkKind, network: NetworkWork): Argv[] | undefined {
  const { device, peers } = network;
  const where = peers === undefined ? atRoot : underFilter;
  const leaf =
    kind === "bandwidth" && network.bandwidth !== undefined
      ? tbfArgv(device, network.bandwidth, where)
      : kind === "partition" || kind === "container-kill"
        ? undefined
        : netemArgv(device, netemOf(network), where);
  if (leaf === undefined) return undefined;
  if (peers === undefined) return [leaf];
  const tc = ["tc", "qdisc", "replace", "dev", device];
  return [
    [...tc, ...atRoot, "htb"],
    ["tc", "class", "replace", "dev", device, "parent", broadsideQdiscHandle, "classid", "b5d:1"].concat([
      "htb",
      "rate",
      "100gbit",
      "quantum",
      "60000",
    ]),
    leaf,
    ...[...new Set(peers.map((peer) => peer.address))].map((address, index) => [
      ...["tc", "filter", "replace", "dev", device, "parent", broadsideQdiscHandle, "protocol", "ip"],
      ...["prio", "1", "handle", `800::${(index + 1).toString(16)}`, "u32"],
      ...["match", "ip", "dst", address.includes("/") ? address : `${address}/32`, "flowid", "b5d:1"],
    ]),
  ];
}

/** netem's parameters in a work's network section (delay, loss, duplicate, corrupt, as given). */
function netemOf(network: NetworkWork): NetemParams {
  const { delay, loss, duplicate, corrupt } = network;
  return {
    ...(delay === undefined ? {} : { delay }),
    ...(loss === undefined ? {} : { loss }),
    ...(duplicate === undefined ? {} : { duplicate }),
    ...(corrupt === undefined ? {} : { corrupt }),
  };
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

import { createServer, connect } from "node:net";
import type { Server, Socket } from "node:net";
import { z } from "zod";
import { systemClock } from "../core/clock.js";
import { delaySchema, lossSchema } from "../core/node-work.js";
import type { DelayParams, LossParams } from "../core/node-work.js";

/*
 * The proxy backend of delay and loss (issue 12, ADR 0039), for kernels without sch_netem: a Node process
 * the daemon starts inside the pod's network namespace (`nsenter --net=<path> -- node proxy-main.js`),
 * listening on a free port per pod port; an nftables table of the fault's redirects new connections that
 * come in on the pod's device to those ports. The proxy connects on to the pod's own address and port
 * and relays, delaying what the pod sends (as netem on the pod's device delays its egress), and drops a
 * share of the connections (a TCP proxy sees a stream, not packets: ADR 0039 says why a connection).
 *
 * The proxy ends itself at `untilMs` (after the daemon's own revert is due), so a daemon that never comes
 * back does not leave it running; the nftables rule stops matching at the same end (`meta time`).
 */

const portSchema = z.number().int().min(1).max(65_535);

export const proxyConfigSchema = z
  .strictObject({
    /** The pod's TCP ports to stand in front of (connections into the pod). */
    ports: z.array(portSchema).max(16),
    /**
     * Peers' addresses and ports (ADR 0041): a listener each, for the pod's own connections to that pair,
     * which the listener makes on to it (the proxy runs as its own uid, which the redirect exempts).
     */
    upstreams: z
      .array(z.strictObject({ host: z.ipv4(), port: portSchema }))
      .max(64)
      .optional(),
    delay: delaySchema.optional(),
    loss: lossSchema.optional(),
    /** Epoch ms: the proxy exits then, whatever else happens. */
    untilMs: z.number().int().positive(),
  })
  .refine((config) => config.ports.length + (config.upstreams?.length ?? 0) > 0, {
    error: "names no port to stand in front of",
  });
export type ProxyConfig = z.infer<typeof proxyConfigSchema>;

/** The ready line the proxy prints on stdout once every listener is bound. */
export interface ProxyReady {
  readonly ready: true;
  readonly listeners: readonly {
    readonly port: number;
    readonly proxyPort: number;
    readonly upstream?: string;
  }[];
}

export type Random = () => number;

/**
 * netem's correlated random: each draw is `c * previous + (1 - c) * fresh`, c the correlation (0..1), so
 * successive delays lean on each other as they do under netem (which narrows the spread as c grows, as
 * netem's does; ADR 0039).
 */
export class CorrelatedRandom {
  private last: number | undefined;

  constructor(
    private readonly correlationPercent: number,
    private readonly random: Random,
  ) {}

  next(): number {
    const fresh = this.random();
    const c = this.correlationPercent / 100;
    const value = this.last === undefined ? fresh : c * this.last + (1 - c) * fresh;
    this.last = value;
    return value;
  }
}

/**
 * The delay of each chunk the pod sends, in ms: latency plus jitter spread evenly over ±jitter (netem's
 * spread when no distribution table is given), the draws correlated as netem's are; never below 0.
 */
export function delaySampler(delay: DelayParams, random: Random): () => number {
  const correlated = new CorrelatedRandom(delay.correlation, random);
  return () => {
    const u = correlated.next();
    return Math.max(0, delay.latencyMs + delay.jitterMs * (2 * u - 1));
  };
}

/**
 * Whether each new connection is dropped: with probability `percent`; with correlation c, a connection
 * repeats the previous one's fate with probability c and is drawn afresh otherwise, so the long-run share
 * dropped stays `percent` (netem's correlated loss drifts from it) and successive fates correlate by c.
 */
export function lossDecider(loss: LossParams, random: Random): () => boolean {
  const p = loss.percent / 100;
  const c = loss.correlation / 100;
  let last: boolean | undefined;
  return () => {
    const fate = last !== undefined && random() < c ? last : random() < p;
    last = fate;
    return fate;
  };
}

/**
 * Actions released in order at their times: one queue and one timer, so two chunks due in the same
 * millisecond never swap (separate timers of different lengths may fire out of order).
 */
class Releases {
  private readonly queue: { at: number; action: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastAt = 0;

  /** Releases `action` after `delayMs`, never before anything queued earlier. */
  add(delayMs: number, action: () => void): void {
    const at = Math.max(systemClock.now() + delayMs, this.lastAt);
    this.lastAt = at;
    this.queue.push({ at, action });
    this.arm();
  }

  pending(): boolean {
    return this.queue.length > 0;
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    const head = this.queue[0];
    if (head === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        const now = systemClock.now();
        while ((this.queue[0]?.at ?? Number.POSITIVE_INFINITY) <= now) this.queue.shift()?.action();
        this.arm();
      },
      Math.max(0, head.at - systemClock.now()),
    );
  }
}

/**
 * Relays one accepted connection, delaying what the pod sends: a connection into the pod (no `to`) goes on
 * to the pod's own address and port, the pod's answers delayed; the pod's own connection to a peer (`to`,
 * ADR 0041) goes on to the peer, the pod's bytes delayed.
 */
function relay(client: Socket, port: number, delayOf: (() => number) | undefined, to?: string): void {
  const upstream = connect({ host: to ?? client.localAddress ?? "127.0.0.1", port });
  const toClient = forward(upstream, client, to === undefined ? delayOf : undefined);
  const toUpstream = forward(client, upstream, to === undefined ? undefined : delayOf);
  const close = (): void => {
    toClient.clear();
    toUpstream.clear();
    client.destroy();
    upstream.destroy();
  };
  client.on("error", close);
  upstream.on("error", close);
  // The caller gone: the upstream goes too, once what is held for it has been delivered.
  client.on("close", () => {
    if (!toUpstream.pending()) upstream.destroy();
  });
}

/** One direction of a relay: what `from` sends is written to `into`, each chunk `delayOf()` ms later. */
function forward(from: Socket, into: Socket, delayOf: (() => number) | undefined): Releases {
  const releases = new Releases();
  const later = (action: () => void): void => {
    if (delayOf === undefined) action();
    else releases.add(delayOf(), action);
  };
  from.on("data", (chunk: Buffer) => {
    later(() => into.write(chunk));
  });
  from.on("end", () => {
    later(() => into.end());
  });
  return releases;
}

/** Starts the listeners (one free port per pod port, on every address of the namespace). */
export async function startProxy(
  config: ProxyConfig,
  random: Random = Math.random,
): Promise<{ ready: ProxyReady; servers: Server[] }> {
  const delayOf = config.delay === undefined ? undefined : delaySampler(config.delay, random);
  const dropped = config.loss === undefined ? () => false : lossDecider(config.loss, random);
  const servers: Server[] = [];
  const listeners: { port: number; proxyPort: number; upstream?: string }[] = [];
  const stands = [...config.ports.map((port) => ({ port, host: undefined })), ...(config.upstreams ?? [])];
  for (const { port, host } of stands) {
    const server = createServer((client) => {
      client.on("error", () => undefined);
      if (dropped()) {
        client.resetAndDestroy();
        return;
      }
      relay(client, port, delayOf, host);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port: 0, host: "0.0.0.0" }, () => {
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the proxy has no port");
    servers.push(server);
    listeners.push({ port, proxyPort: address.port, ...(host === undefined ? {} : { upstream: host }) });
  }
  return { ready: { ready: true, listeners }, servers };
}

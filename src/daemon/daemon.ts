import type { V1ConfigMap } from "@kubernetes/client-node";
import { describeError } from "../core/errors.js";
import type { BroadsideError } from "../core/errors.js";
import { describeHold } from "../core/halt.js";
import { isTimedKind, nodeWorkSelector } from "../core/node-work.js";
import type { NodeWork } from "../core/node-work.js";
import { haltObjectName, holdOf } from "../kube/halt-switch.js";
import { workOf } from "../kube/node-work-store.js";
import { Informer } from "../kube/watch/informer.js";
import type { InformerEvent } from "../kube/watch/informer.js";
import { collectionPath } from "../kube/watch/source.js";
import type { WatchSources } from "../kube/watch/source.js";
import { TimedFaults } from "./timed.js";
import type { TimedContext } from "./timed.js";
import { actOn, resume } from "./worker.js";
import { killOrphanProxies } from "./orphan-proxies.js";
import type { OrphanScanContext } from "./orphan-proxies.js";

export interface DaemonOptions extends TimedContext {
  readonly namespace: string;
  /** The start-up scan for proxies the journal does not account for (orphan-proxies.ts); none without. */
  readonly orphanScan?: Pick<OrphanScanContext, "lister" | "script" | "journalDir">;
  readonly watches: WatchSources;
  /** Reported entries older than this are pruned from the journal at start. Default 7 days. */
  readonly journalRetentionMs?: number;
  /** How often held faults are checked against their end and unreported answers retried. Default 2 s. */
  readonly sweepMs?: number;
}

/**
 * The node daemon (ADR 0029): takes its node's work from the cluster and acts on it, one work object at a
 * time. At start it finishes or abandons what its journal says was left half done (a daemon killed
 * mid-action), then watches the work objects labelled with its node, and nothing else.
 */
export class NodeDaemon {
  private readonly informer: Informer<V1ConfigMap>;
  /** The kill switch, watched: a hold reverts every held fault at once (ADR 0032). */
  private readonly haltInformer: Informer<V1ConfigMap>;
  private readonly timed: TimedFaults;
  private sweeper: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly queued = new Set<string>();
  private stopped = false;

  constructor(private readonly options: DaemonOptions) {
    this.informer = new Informer<V1ConfigMap>({
      source: options.watches({
        path: collectionPath("v1", "configmaps", options.namespace),
        labelSelector: nodeWorkSelector(options.node),
      }),
      description: `node work of ${options.node}`,
      clock: options.clock,
      onError: (error: BroadsideError) => {
        options.log("watch error", { error: error.message });
      },
    });
    this.informer.subscribe((event) => {
      this.onEvent(event);
    });
    this.timed = new TimedFaults(options);
    this.haltInformer = new Informer<V1ConfigMap>({
      source: options.watches({
        path: collectionPath("v1", "configmaps", options.namespace),
        fieldSelector: `metadata.name=${haltObjectName}`,
      }),
      description: "the kill switch",
      clock: options.clock,
      onError: (error: BroadsideError) => {
        options.log("kill switch watch error", { error: error.message });
      },
    });
    this.haltInformer.subscribe((event) => {
      if (event.type === "DELETED" || this.timed.holding().length === 0) return;
      const hold = describeHold(holdOf(event.object));
      options.log("kill switch held: reverting every fault held", { hold });
      void this.timed.revertAll(`halted (${hold})`);
    });
  }

  /** Publishes whether this node's kernel has netem, so writers refuse duplicate and corrupt before any write. */
  private async publishCapabilities(): Promise<void> {
    const { store, node, clock } = this.options;
    if (store.publishCapabilities === undefined) return;
    try {
      const probe = await this.timed.netemOnNode();
      await store.publishCapabilities({
        node,
        ...(probe.has === undefined ? {} : { netem: probe.has }),
        words: probe.words,
        at: clock.now(),
      });
    } catch (error: unknown) {
      this.options.log("capabilities not published", { error: describeError(error) });
    }
  }

  /** Finishes the journal's open entries, then starts watching; resolves once the first LIST is in. */
  async start(): Promise<void> {
    const { journal, clock } = this.options;
    const pruned = await journal.prune(clock.now() - (this.options.journalRetentionMs ?? 7 * 86_400_000));
    const unfinished = await journal.unfinished();
    this.options.log("daemon starting", {
      node: this.options.node,
      finder: this.options.finder.name,
      unfinished: unfinished.length,
      pruned,
    });
    for (const entry of unfinished) {
      this.options.log("finishing a journal entry", { work: entry.work, phase: entry.phase });
      const finish = isTimedKind(entry.spec.kind) ? this.timed.resume(entry) : resume(this.options, entry);
      await finish.catch((error: unknown) => {
        this.options.log("journal entry left open", { work: entry.work, error: describeError(error) });
      });
    }
    await this.timed.removeLeftovers().catch((error: unknown) => {
      this.options.log("leftover scan failed", { error: describeError(error) });
    });
    await this.publishCapabilities();
    if (this.options.orphanScan !== undefined)
      await killOrphanProxies({ ...this.options, ...this.options.orphanScan }).catch((error: unknown) => {
        this.options.log("orphan proxy scan failed", { error: describeError(error) });
      });
    await this.haltInformer.start();
    this.sweeper = setInterval(() => {
      void this.timed.sweep().catch((error: unknown) => {
        this.options.log("sweep failed", { error: describeError(error) });
      });
    }, this.options.sweepMs ?? 2_000);
    await this.informer.start();
    this.options.log("watching", { selector: nodeWorkSelector(this.options.node) });
  }

  /** Stops watching; work already started is finished first. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    await this.informer.stop();
    await this.haltInformer.stop();
    await this.queue;
    this.timed.stop();
  }

  /** The faults held now (work names), for tests and logs. */
  holding(): string[] {
    return this.timed.holding();
  }

  private onEvent(event: InformerEvent<V1ConfigMap>): void {
    if (this.stopped) return;
    const name = event.object.metadata?.name ?? "";
    if (event.type === "DELETED") {
      void this.timed.revert(name, "its work object was deleted");
      return;
    }
    if (this.queued.has(name)) return;
    let work: NodeWork;
    try {
      work = workOf(event.object);
    } catch (error: unknown) {
      this.options.log("work refused: it does not parse", { work: name, error: describeError(error) });
      return;
    }
    if (work.revert !== undefined) {
      void this.timed.revert(name, `${work.revert.by} asked: ${work.revert.reason}`);
      return;
    }
    if (work.status !== undefined) return;
    this.queued.add(name);
    this.queue = this.queue
      .then(async () => {
        // The event's copy may be stale by now: act on the object as it is.
        const current = await this.options.store.read(name);
        if (current === undefined || this.stopped) return;
        if (isTimedKind(current.spec.kind)) {
          if ((await this.options.journal.read(name)) === undefined) await this.timed.act(current);
        } else await actOn(this.options, current);
      })
      .catch((error: unknown) => {
        this.options.log("work failed", { work: name, error: describeError(error) });
      })
      .finally(() => {
        this.queued.delete(name);
      });
  }
}

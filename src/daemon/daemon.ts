import type { V1ConfigMap } from "@kubernetes/client-node";
import { describeError } from "../core/errors.js";
import type { BroadsideError } from "../core/errors.js";
import { nodeWorkSelector } from "../core/node-work.js";
import { workOf } from "../kube/node-work-store.js";
import { Informer } from "../kube/watch/informer.js";
import type { InformerEvent } from "../kube/watch/informer.js";
import { collectionPath } from "../kube/watch/source.js";
import type { WatchSources } from "../kube/watch/source.js";
import { actOn, resume } from "./worker.js";
import type { WorkerContext } from "./worker.js";

export interface DaemonOptions extends WorkerContext {
  readonly namespace: string;
  readonly watches: WatchSources;
  /** Reported entries older than this are pruned from the journal at start. Default 7 days. */
  readonly journalRetentionMs?: number;
}

/**
 * The node daemon (ADR 0029): takes its node's work from the cluster and acts on it, one work object at a
 * time. At start it finishes or abandons what its journal says was left half done (a daemon killed
 * mid-action), then watches the work objects labelled with its node, and nothing else.
 */
export class NodeDaemon {
  private readonly informer: Informer<V1ConfigMap>;
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
      await resume(this.options, entry).catch((error: unknown) => {
        this.options.log("journal entry left open", { work: entry.work, error: describeError(error) });
      });
    }
    await this.informer.start();
    this.options.log("watching", { selector: nodeWorkSelector(this.options.node) });
  }

  /** Stops watching; work already started is finished first. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer.stop();
    await this.queue;
  }

  private onEvent(event: InformerEvent<V1ConfigMap>): void {
    if (event.type === "DELETED" || this.stopped) return;
    const name = event.object.metadata?.name ?? "";
    if (this.queued.has(name)) return;
    let work;
    try {
      work = workOf(event.object);
    } catch (error: unknown) {
      this.options.log("work refused: it does not parse", { work: name, error: describeError(error) });
      return;
    }
    if (work.status !== undefined) return;
    this.queued.add(name);
    this.queue = this.queue
      .then(async () => {
        // The event's copy may be stale by now: act on the object as it is.
        const current = await this.options.store.read(name);
        if (current !== undefined && !this.stopped) await actOn(this.options, current);
      })
      .catch((error: unknown) => {
        this.options.log("work failed", { work: name, error: describeError(error) });
      })
      .finally(() => {
        this.queued.delete(name);
      });
  }
}

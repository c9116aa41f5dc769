import type { V1ObjectMeta, V1Pod } from "@kubernetes/client-node";
import { setTimeout as sleep } from "node:timers/promises";
import { systemClock } from "../../src/core/clock.js";
import type { KubeClients } from "../../src/kube/client.js";
import { clientNodeSources } from "../../src/kube/watch/client-node-source.js";
import { collectionPath } from "../../src/kube/watch/source.js";
import { Informer } from "../../src/kube/watch/informer.js";
import { fleetLabel } from "./fleet.js";

/** A pod's DELETE as the benchmark saw it reach the API server: the watch event that shows it. */
export interface Deletion {
  readonly at: number;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Every fleet pod's deletion, in every namespace, stamped when its watch event arrived: the first event
 * with a deletionTimestamp, or DELETED (a grace period of 0 removes the pod at once). The watch adds its
 * own delivery delay (well under a millisecond on loopback), so these times are upper bounds.
 */
export class DeletionLog {
  readonly deletions: Deletion[] = [];
  private readonly seen = new Set<string>();
  private readonly informer: Informer<V1Pod>;

  constructor(kube: KubeClients) {
    this.informer = new Informer<V1Pod>({
      source: clientNodeSources(kube.config)({
        path: collectionPath("v1", "pods"),
        labelSelector: `${fleetLabel.key}=${fleetLabel.value}`,
      }),
      description: "the benchmark's pods",
      clock: systemClock,
      // Only the deletion matters here: the benchmark process keeps little.
      transform: (pod) => ({ metadata: pod.metadata ?? {} }),
    });
    this.informer.subscribe((event) => {
      const metadata = event.object.metadata ?? {};
      const deleting = event.type === "DELETED" || metadata.deletionTimestamp !== undefined;
      const uid = metadata.uid ?? "";
      if (deleting && !this.seen.has(uid)) this.record(uid, metadata, event.receivedAt);
    });
  }

  private record(uid: string, metadata: V1ObjectMeta, at: number): void {
    this.seen.add(uid);
    const { namespace = "", name = "", labels = {} } = metadata;
    this.deletions.push({ at, namespace, name, labels });
  }

  async start(): Promise<void> {
    await this.informer.start();
    await this.informer.whenWatching();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  /** The first deletion at or after `since` that `matches`, once it has been seen. */
  async first(since: number, matches: (deletion: Deletion) => boolean, timeoutMs: number): Promise<Deletion> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.deletions.find((deletion) => deletion.at >= since && matches(deletion));
      if (found !== undefined) return found;
      await sleep(2);
    }
    throw new Error(`no deletion seen within ${timeoutMs} ms`);
  }
}

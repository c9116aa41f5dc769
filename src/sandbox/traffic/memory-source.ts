import type { KubernetesObject } from "@kubernetes/client-node";
import type { ListResult, WatchHandle, WatchSource } from "../../kube/watch/source.js";
import type { Collection, SourceFactory } from "./collections.js";

/**
 * An in-memory stand-in for the API server's collections, for the traffic layer's unit tests: objects
 * are put and deleted by hand, and every watch of the matching collection gets the event, including a
 * watch opened later from an older resourceVersion. Selectors are not applied: a test puts in only what
 * the real selector would let through.
 */
export class MemoryCollections {
  /** Every collection asked for, in order: which informers the traffic made. */
  readonly asked: Collection[] = [];
  private readonly objects = new Map<string, KubernetesObject>();
  private readonly watchers = new Set<{
    readonly collection: Collection;
    readonly onEvent: (type: string, object: unknown) => void;
  }>();
  private readonly history: { version: number; plural: string; type: string; object: KubernetesObject }[] =
    [];
  private version = 1;
  /** While set, LISTs wait for it: to see what happens before the traffic is in step. */
  hold: Promise<void> | undefined;

  readonly sources: SourceFactory = (collection) => {
    this.asked.push(collection);
    return this.sourceOf(collection);
  };

  /** Creates or replaces an object (ADDED or MODIFIED for the watches). */
  put(plural: string, object: KubernetesObject): void {
    const key = keyOf(plural, object);
    const type = this.objects.has(key) ? "MODIFIED" : "ADDED";
    this.objects.set(key, this.stamped(object));
    this.emit(plural, type, this.objects.get(key));
  }

  delete(plural: string, object: KubernetesObject): void {
    const key = keyOf(plural, object);
    const current = this.objects.get(key);
    if (current === undefined) return;
    this.objects.delete(key);
    this.emit(plural, "DELETED", this.stamped(current));
  }

  private sourceOf(collection: Collection): WatchSource {
    return {
      list: async (): Promise<ListResult> => {
        await this.hold;
        const items = [...this.objects.entries()]
          .filter(([key, object]) => key.startsWith(`${collection.plural}/`) && inScope(collection, object))
          .map(([, object]) => object);
        return { items, resourceVersion: String(this.version) };
      },
      watch: (version, onEvent): Promise<WatchHandle> => {
        const watcher = { collection, onEvent };
        this.watchers.add(watcher);
        for (const event of this.history) {
          if (event.version > Number(version) && matches(collection, event.plural, event.object))
            onEvent(event.type, event.object);
        }
        return Promise.resolve({ abort: () => this.watchers.delete(watcher) });
      },
    };
  }

  private stamped(object: KubernetesObject): KubernetesObject {
    this.version += 1;
    const stamped: KubernetesObject = structuredClone(object);
    stamped.metadata ??= {};
    stamped.metadata.resourceVersion = String(this.version);
    return stamped;
  }

  private emit(plural: string, type: string, object: KubernetesObject | undefined): void {
    if (object === undefined) return;
    this.history.push({ version: this.version, plural, type, object });
    for (const watcher of this.watchers) {
      if (matches(watcher.collection, plural, object)) watcher.onEvent(type, object);
    }
  }
}

function keyOf(plural: string, object: KubernetesObject): string {
  return `${plural}/${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

function matches(collection: Collection, plural: string, object: KubernetesObject): boolean {
  return collection.plural === plural && inScope(collection, object);
}

function inScope(collection: Collection, object: KubernetesObject): boolean {
  return collection.namespace === undefined || object.metadata?.namespace === collection.namespace;
}

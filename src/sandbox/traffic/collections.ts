import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { BroadsideError } from "../../core/errors.js";
import { optional } from "../../core/objects.js";
import { ClientNodeWatchSource } from "../../kube/watch/client-node-source.js";
import { collectionPath } from "../../kube/watch/source.js";
import { Informer } from "../../kube/watch/informer.js";
import type { WatchSource } from "../../kube/watch/source.js";

/** One collection the traffic watches: a resource, in one namespace or (namespace undefined) in all. */
export interface Collection {
  readonly apiVersion: string;
  readonly plural: string;
  readonly namespace: string | undefined;
  readonly labelSelector: string;
}

/** Makes the WatchSource of a collection: client-node against a cluster, an in-memory one in unit tests. */
export type SourceFactory = (collection: Collection) => WatchSource;

export function clientNodeSources(config: KubeConfig): SourceFactory {
  return (collection) =>
    new ClientNodeWatchSource({
      config,
      path: collectionPath(collection.apiVersion, collection.plural, collection.namespace),
      labelSelector: collection.labelSelector,
    });
}

/** What to watch, and how. */
export interface WatchScope {
  /** Namespaces to watch, one informer each; undefined: one informer across all namespaces. */
  readonly namespaces: readonly string[] | undefined;
  readonly sources: SourceFactory;
  readonly onError?: (error: BroadsideError) => void;
}

/** The informers of one resource over the scope: one per namespace listed, or one cluster-wide. */
export function informersOf<T extends KubernetesObject>(
  scope: WatchScope,
  resource: Omit<Collection, "namespace">,
): Informer<T>[] {
  const namespaces: readonly (string | undefined)[] = scope.namespaces ?? [undefined];
  return namespaces.map((namespace) => {
    const collection = { ...resource, namespace };
    return new Informer<T>({
      source: scope.sources(collection),
      description: describeCollection(collection),
      ...optional("onError", scope.onError),
    });
  });
}

/** "services (broadside.dev/serve=http) in namespace shop", or "... in all namespaces". */
export function describeCollection(collection: Collection): string {
  const where =
    collection.namespace === undefined ? "in all namespaces" : `in namespace ${collection.namespace}`;
  return `${collection.plural} (${collection.labelSelector}) ${where}`;
}

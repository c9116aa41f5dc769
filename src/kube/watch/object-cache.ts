import type { KubernetesObject } from "@kubernetes/client-node";

/** The changes an informer reports; BOOKMARK and ERROR never reach subscribers. */
export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface Change<T> {
  readonly type: ChangeType;
  readonly object: T;
}

export function isChangeType(type: string): type is ChangeType {
  return type === "ADDED" || type === "MODIFIED" || type === "DELETED";
}

/** "namespace/name", with an empty namespace for cluster-scoped objects. */
export function objectKey(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

/** Whether a value from the wire has at least a name: the one field the cache cannot do without. */
export function isNamedObject(value: unknown): value is KubernetesObject {
  if (typeof value !== "object" || value === null || !("metadata" in value)) return false;
  const metadata = value.metadata;
  if (typeof metadata !== "object" || metadata === null || !("name" in metadata)) return false;
  return typeof metadata.name === "string" && metadata.name !== "";
}

export function resourceVersionOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || !("metadata" in value)) return undefined;
  const metadata = value.metadata;
  if (typeof metadata !== "object" || metadata === null || !("resourceVersion" in metadata)) return undefined;
  const version = metadata.resourceVersion;
  return typeof version === "string" && version !== "" ? version : undefined;
}

/**
 * What a fresh LIST changes in the cache: objects gone since the cache was built are DELETED (with their
 * last known state), changed ones MODIFIED, new ones ADDED. An object whose uid changed under the same
 * name was deleted and created again while nobody watched, and is reported as exactly that, so consumers
 * that track uids (a replaced pod) are not told an old pod merely changed.
 */
export function diffList<T extends KubernetesObject>(
  cache: ReadonlyMap<string, T>,
  items: readonly T[],
): { readonly next: Map<string, T>; readonly changes: Change<T>[] } {
  const next = new Map<string, T>();
  const changes: Change<T>[] = [];
  for (const item of items) {
    const key = objectKey(item);
    next.set(key, item);
    changes.push(...changesFor(cache.get(key), item));
  }
  for (const [key, old] of cache) {
    if (!next.has(key)) changes.push({ type: "DELETED", object: old });
  }
  return { next, changes };
}

function changesFor<T extends KubernetesObject>(old: T | undefined, item: T): Change<T>[] {
  if (old === undefined) return [{ type: "ADDED", object: item }];
  if (old.metadata?.uid !== item.metadata?.uid) {
    return [
      { type: "DELETED", object: old },
      { type: "ADDED", object: item },
    ];
  }
  if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion)
    return [{ type: "MODIFIED", object: item }];
  return [];
}

import { ConflictError } from "../core/ledger/store.js";
import type { ChildObject, ChildObjects, CollectionRef } from "./chaos-children.js";
import type { ResourceRef, StatusWriter } from "./resource-status.js";

/**
 * For unit tests: custom objects as the API server keeps them, behind the agent's ports for them
 * (ChildObjects, StatusWriter). Every write bumps the object's resourceVersion; a claim at an older
 * version is a ConflictError; a status write is a JSON merge patch (null removes a field), as
 * ClusterStatusWriter sends. No module is mocked: the reconcilers run over the same interfaces.
 */

interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface StoredObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    generation: number;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    deletionTimestamp?: string;
  };
  spec?: unknown;
  status?: Record<string, unknown>;
}

interface NewObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly ownerReferences?: OwnerReference[];
  };
  readonly spec?: unknown;
  readonly status?: Record<string, unknown>;
}

/** A JSON merge patch (RFC 7386) of `patch` onto `target`. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const base = new Map<string, unknown>(
    typeof target === "object" && target !== null && !Array.isArray(target) ? Object.entries(target) : [],
  );
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) base.delete(key);
    else base.set(key, mergePatch(base.get(key), value));
  }
  return Object.fromEntries(base);
}

export class MemoryCustomObjects implements ChildObjects, StatusWriter {
  private readonly objects = new Map<string, StoredObject>();
  private version = 0;
  private uids = 0;
  /** Every create, delete, claim and report, in order, for tests to read what happened. */
  readonly log: string[] = [];
  /** Set by a test: the next create throws this after storing the object (the reply was lost). */
  failAfterNextCreate: Error | undefined;
  /** Set by a test: the next create throws this before storing anything (the agent died first). */
  failBeforeNextCreate: Error | undefined;

  constructor(private readonly now: () => number) {}

  /** Stores an object as `kubectl apply` would, returning it. */
  put(collection: CollectionRef, namespace: string, object: NewObject): StoredObject {
    const name = object.metadata?.name ?? "";
    const existing = this.objects.get(this.key(collection, namespace, name));
    const stored: StoredObject = {
      ...object,
      metadata: {
        ...object.metadata,
        name,
        namespace,
        uid: existing?.metadata.uid ?? `uid-${++this.uids}`,
        resourceVersion: this.nextVersion(),
        generation: (existing?.metadata.generation ?? 0) + 1,
        creationTimestamp: existing?.metadata.creationTimestamp ?? new Date(this.now()).toISOString(),
      },
    };
    this.objects.set(this.key(collection, namespace, name), stored);
    return stored;
  }

  /** The object as an informer's cache would hand it over (a copy), or undefined. */
  get(collection: CollectionRef, namespace: string, name: string): StoredObject | undefined {
    const found = this.objects.get(this.key(collection, namespace, name));
    return found === undefined ? undefined : structuredClone(found);
  }

  /** Every object of the collection in the namespace. */
  all(collection: CollectionRef, namespace: string): StoredObject[] {
    const prefix = this.key(collection, namespace, "");
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, object]) => structuredClone(object));
  }

  /** A test's stand-in for the child PodChaos' own reconciler: replaces its status. */
  setStatus(collection: CollectionRef, namespace: string, name: string, status: Record<string, unknown>) {
    const found = this.objects.get(this.key(collection, namespace, name));
    if (found === undefined) throw new Error(`no ${collection.plural} ${namespace}/${name}`);
    found.status = status;
    found.metadata.resourceVersion = this.nextVersion();
  }

  list(collection: CollectionRef, namespace: string, labels: Record<string, string>): Promise<ChildObject[]> {
    const matches = this.all(collection, namespace).filter((object) =>
      Object.entries(labels).every(([key, value]) => object.metadata.labels?.[key] === value),
    );
    return Promise.resolve(matches);
  }

  create(collection: CollectionRef, namespace: string, body: object): Promise<"created" | "exists"> {
    const object = body as NewObject;
    const name = object.metadata?.name ?? "";
    const before = this.failBeforeNextCreate;
    this.failBeforeNextCreate = undefined;
    if (before !== undefined) return Promise.reject(before);
    if (this.objects.has(this.key(collection, namespace, name))) {
      this.log.push(`create ${name}: exists`);
      return Promise.resolve("exists");
    }
    this.put(collection, namespace, { ...object, status: {} });
    this.log.push(`create ${name}`);
    const after = this.failAfterNextCreate;
    this.failAfterNextCreate = undefined;
    return after === undefined ? Promise.resolve("created") : Promise.reject(after);
  }

  delete(collection: CollectionRef, namespace: string, name: string): Promise<void> {
    if (this.objects.delete(this.key(collection, namespace, name))) this.log.push(`delete ${name}`);
    return Promise.resolve();
  }

  read(ref: ResourceRef): Promise<{ readonly status?: unknown } | undefined> {
    return Promise.resolve(this.get(ref, ref.namespace, ref.name));
  }

  claim(ref: ResourceRef, resourceVersion: string, status: object): Promise<void> {
    const found = this.objects.get(this.key(ref, ref.namespace, ref.name));
    if (found?.metadata.resourceVersion !== resourceVersion) {
      this.log.push(`claim ${ref.name}: conflict`);
      return Promise.reject(new ConflictError(`${ref.plural} ${ref.namespace}/${ref.name} changed`));
    }
    this.patchStatus(found, status);
    this.log.push(`claim ${ref.name}`);
    return Promise.resolve();
  }

  report(ref: ResourceRef, status: object): Promise<void> {
    const found = this.objects.get(this.key(ref, ref.namespace, ref.name));
    if (found === undefined)
      return Promise.reject(new Error(`no ${ref.plural} ${ref.namespace}/${ref.name}`));
    this.patchStatus(found, status);
    this.log.push(`report ${ref.name}`);
    return Promise.resolve();
  }

  private patchStatus(found: StoredObject, status: object): void {
    const next = mergePatch(found.status ?? {}, status) as Record<string, unknown>;
    // The API server does not bump the version of a write that changes nothing.
    if (JSON.stringify(next) === JSON.stringify(found.status ?? {})) return;
    found.status = next;
    found.metadata.resourceVersion = this.nextVersion();
  }

  private nextVersion(): string {
    this.version += 1;
    return String(this.version);
  }

  private key(collection: CollectionRef, namespace: string, name: string): string {
    return `${collection.apiVersion}/${collection.plural}/${namespace}/${name}`;
  }
}

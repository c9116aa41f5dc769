import { ApiException, type KubernetesObject, type V1Pod } from "@kubernetes/client-node";
import type { V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { Clock } from "../core/clock.js";
import { usageError } from "../core/errors.js";
import { jsonEqual, type JsonObject, type JsonValue } from "../core/ledger/record.js";
import type { PodIdentity, PodShotOptions } from "../core/shot.js";
import { getAtPointer, parsePointer } from "./field-access.js";
import { fieldManager, toKubeObject } from "./objects.js";
import type {
  JsonPatchOperation,
  KubeObject,
  NamespaceReader,
  DeletePreconditions,
  ObjectLifecycle,
  ObjectPatcher,
  ObjectReader,
  ObjectRef,
} from "./objects.js";
import { podFactsOf, replicaSetOwner, workloadOwner } from "./pod-facts.js";
import type { GatheredPods, NamespaceScope, PodFactsSource } from "./pod-facts.js";
import type { PodReader, PodShots } from "./pods.js";
import { collectionPath } from "./watch/source.js";
import type { CollectionQuery, ListResult, WatchHandle, WatchSource, WatchSources } from "./watch/source.js";

/*
 * For unit tests: a cluster in memory behind every small interface the engine and the faults use (pods,
 * pod facts, objects, namespaces, watches), so they are tested without a cluster and without module
 * mocking. It keeps what the tests rely on from the API server: resourceVersions, watches that replay
 * from a version and get 410 Gone once history is compacted, JSON Patch `test` refused with 422, pod
 * deletes refused with 404/409 by their uid precondition, and managedFields naming each writer.
 * Label selectors are not applied; field selectors only as metadata.name=NAME.
 */

interface KindInfo {
  readonly apiVersion: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

const kinds: Readonly<Record<string, KindInfo>> = {
  Namespace: { apiVersion: "v1", plural: "namespaces", namespaced: false },
  Pod: { apiVersion: "v1", plural: "pods", namespaced: true },
  ConfigMap: { apiVersion: "v1", plural: "configmaps", namespaced: true },
  Secret: { apiVersion: "v1", plural: "secrets", namespaced: true },
  Deployment: { apiVersion: "apps/v1", plural: "deployments", namespaced: true },
  StatefulSet: { apiVersion: "apps/v1", plural: "statefulsets", namespaced: true },
  DaemonSet: { apiVersion: "apps/v1", plural: "daemonsets", namespaced: true },
  ReplicaSet: { apiVersion: "apps/v1", plural: "replicasets", namespaced: true },
  PodDisruptionBudget: { apiVersion: "policy/v1", plural: "poddisruptionbudgets", namespaced: true },
  Kustomization: { apiVersion: "kustomize.toolkit.fluxcd.io/v1", plural: "kustomizations", namespaced: true },
};

interface Stored {
  /** The collection path the object is listed and watched under (see collectionPath). */
  readonly path: string;
  readonly object: KubeObject;
}

interface Watcher {
  readonly query: CollectionQuery;
  readonly onEvent: (type: string, object: unknown) => void;
  readonly onDone: (error: unknown) => void;
}

function kindOf(kind: string): KindInfo {
  const info = kinds[kind];
  if (info === undefined) throw new Error(`the memory cluster does not know kind ${kind}`);
  return info;
}

function pathOf(kind: string, namespace: string): string {
  const info = kindOf(kind);
  return collectionPath(info.apiVersion, info.plural, info.namespaced ? namespace : undefined);
}

function metadataOf(object: KubeObject): JsonObject {
  const metadata = object.metadata;
  return typeof metadata === "object" && metadata !== null && !Array.isArray(metadata)
    ? (metadata as JsonObject)
    : {};
}

function text(object: KubeObject, field: string): string {
  const value = metadataOf(object)[field];
  return typeof value === "string" ? value : "";
}

function refused(status: number, message: string): ApiException<string> {
  return new ApiException(status, message, JSON.stringify({ kind: "Status", code: status, message }), {});
}

export class MemoryCluster
  implements
    PodShots,
    PodReader,
    PodFactsSource,
    ObjectReader,
    ObjectPatcher,
    ObjectLifecycle,
    NamespaceReader
{
  private readonly objects = new Map<string, Stored>();
  private history: { readonly version: number; readonly type: string; readonly stored: Stored }[] = [];
  private readonly watchers = new Set<Watcher>();
  private version = 100;
  private compactedBelow = 0;
  private uids = 0;
  /** Every write asked of the cluster, in order: "delete shop/web-1", "patch ConfigMap shop/app". */
  readonly writes: string[] = [];
  /** Requests answered, watches excluded: what the engine reports as API requests. */
  requests = 0;
  /** Scripted refusals of pod shots, by "delete shop/web-1" or "evict shop/web-1". */
  readonly refusals = new Map<string, Error>();
  /** When set, every patch fails with it (an unreachable server, a forbidden write). */
  failPatches: Error | undefined;
  /** Runs before each write is carried out: to look at the world (the ledger) as the write happens. */
  beforeWrite: ((write: string) => Promise<void>) | undefined;

  constructor(private readonly clock: Clock) {}

  /** The collections, for the engine's informers. */
  readonly watches: WatchSources = (query) => this.sourceOf(query);

  /**
   * Creates or replaces an object as `manager` wrote it, with a new resourceVersion. A new object without
   * a uid gets one; a replaced one keeps its own.
   */
  put(object: KubernetesObject | KubeObject, manager = "kubectl"): KubeObject {
    const json = toKubeObject(object);
    const kind = typeof json.kind === "string" ? json.kind : "";
    const namespace = text(json, "namespace");
    const key = `${pathOf(kind, namespace)}/${text(json, "name")}`;
    const existing = this.objects.get(key);
    const type = existing === undefined ? "ADDED" : "MODIFIED";
    // A replaced object keeps its uid, as an update does; only a new object gets a new one.
    const uid = text(json, "uid") || (existing === undefined ? this.newUid() : text(existing.object, "uid"));
    this.version += 1;
    const metadata = {
      ...metadataOf(json),
      uid,
      resourceVersion: String(this.version),
      managedFields: [{ manager, operation: "Update", time: new Date(this.clock.now()).toISOString() }],
    };
    const stored = { path: pathOf(kind, namespace), object: { ...json, metadata } };
    this.objects.set(key, stored);
    this.emit(type, stored);
    return structuredClone(stored.object);
  }

  private newUid(): string {
    this.uids += 1;
    return `uid-${String(this.uids)}`;
  }

  /** Deletes an object; the watches see its last state. */
  remove(kind: string, namespace: string, name: string): void {
    const key = `${pathOf(kind, namespace)}/${name}`;
    const stored = this.objects.get(key);
    if (stored === undefined) return;
    this.objects.delete(key);
    this.version += 1;
    const metadata = { ...metadataOf(stored.object), resourceVersion: String(this.version) };
    this.emit("DELETED", { path: stored.path, object: { ...stored.object, metadata } });
  }

  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    const stored = this.objects.get(`${pathOf(kind, namespace)}/${name}`);
    return stored === undefined ? undefined : structuredClone(stored.object);
  }

  /** Forgets the history and sends 410 Gone on every open watch, as the API server does to laggards. */
  expireWatches(): void {
    this.history = [];
    this.compactedBelow = this.version + 1;
    const watchers = [...this.watchers];
    this.watchers.clear();
    for (const watcher of watchers) this.refuseGone(watcher.onEvent, watcher.onDone);
  }

  // PodShots ----------------------------------------------------------------------------------------

  delete(pod: PodIdentity, options: PodShotOptions): Promise<void> {
    return this.shoot("delete", pod, options);
  }

  evict(pod: PodIdentity, options: PodShotOptions): Promise<void> {
    return this.shoot("evict", pod, options);
  }

  disruptionBudgets(namespace: string): Promise<readonly V1PodDisruptionBudget[]> {
    this.requests += 1;
    return Promise.resolve(this.listed("PodDisruptionBudget", namespace) as V1PodDisruptionBudget[]);
  }

  private async shoot(verb: string, pod: PodIdentity, options: PodShotOptions): Promise<void> {
    this.requests += 1;
    const grace = options.gracePeriodSeconds === undefined ? "" : ` grace ${options.gracePeriodSeconds}s`;
    await this.write(`${verb} ${pod.namespace}/${pod.name}${grace}`);
    const refusal = this.refusals.get(`${verb} ${pod.namespace}/${pod.name}`);
    if (refusal !== undefined) throw refusal;
    const current = this.get("Pod", pod.namespace, pod.name);
    if (current === undefined) throw refused(404, `pods "${pod.name}" not found`);
    if (text(current, "uid") !== pod.uid) throw refused(409, "Precondition failed: UID");
    this.remove("Pod", pod.namespace, pod.name);
  }

  private async write(write: string): Promise<void> {
    this.writes.push(write);
    await this.beforeWrite?.(write);
  }

  // PodReader and PodFactsSource --------------------------------------------------------------------

  read(namespace: string, name: string): Promise<V1Pod | undefined>;
  read(ref: ObjectRef): Promise<KubeObject | undefined>;
  read(first: string | ObjectRef, name?: string): Promise<V1Pod | KubeObject | undefined> {
    this.requests += 1;
    if (typeof first === "string") return Promise.resolve(this.get("Pod", first, name ?? "") as V1Pod);
    return Promise.resolve(this.get(first.kind, first.namespace, first.name));
  }

  list(scope: NamespaceScope): Promise<V1Pod[]> {
    this.requests += 1;
    return Promise.resolve(this.podsIn(scope));
  }

  gather(scope: NamespaceScope): Promise<GatheredPods> {
    this.requests += 1;
    if (scope !== "all") {
      const missing = scope.find((namespace) => this.get("Namespace", "", namespace) === undefined);
      if (missing !== undefined)
        return Promise.reject(usageError("namespace", `namespace "${missing}" does not exist`));
    }
    const pods = this.podsIn(scope);
    const owners = new Map(
      [...this.objects.values()]
        .filter((stored) => stored.object.kind === "ReplicaSet")
        .map((stored) => [
          `${text(stored.object, "namespace")}/${text(stored.object, "name")}`,
          replicaSetOwner(stored.object),
        ]),
    );
    const facts = pods.map((pod) => {
      const namespace = pod.metadata?.namespace ?? "";
      const annotations = metadataOf(this.get("Namespace", "", namespace) ?? {}).annotations;
      return podFactsOf(pod, workloadOwner(pod, owners), (annotations ?? {}) as Record<string, string>);
    });
    return Promise.resolve({ pods, facts });
  }

  private podsIn(scope: NamespaceScope): V1Pod[] {
    return [...this.objects.values()]
      .filter((stored) => stored.object.kind === "Pod")
      .filter((stored) => scope === "all" || scope.includes(text(stored.object, "namespace")))
      .map((stored) => structuredClone(stored.object) as V1Pod);
  }

  private listed(kind: string, namespace: string): KubeObject[] {
    const path = pathOf(kind, namespace);
    return [...this.objects.values()]
      .filter((stored) => stored.path === path)
      .map((stored) => structuredClone(stored.object));
  }

  // ObjectPatcher and NamespaceReader ---------------------------------------------------------------

  async patch(ref: ObjectRef, operations: readonly JsonPatchOperation[]): Promise<void> {
    this.requests += 1;
    await this.write(`patch ${ref.kind} ${ref.namespace}/${ref.name}`);
    if (this.failPatches !== undefined) throw this.failPatches;
    const current = this.get(ref.kind, ref.namespace, ref.name);
    if (current === undefined) throw refused(404, `${ref.name} not found`);
    this.put(operations.reduce(applyOperation, current), fieldManager);
  }

  // ObjectLifecycle ---------------------------------------------------------------------------------

  async createObject(object: KubeObject): Promise<void> {
    this.requests += 1;
    const kind = typeof object.kind === "string" ? object.kind : "";
    const [namespace, name] = [text(object, "namespace"), text(object, "name")];
    await this.write(`create ${kind} ${namespace}/${name}`);
    if (this.get(kind, namespace, name) !== undefined) throw refused(409, `${name} already exists`);
    // The API server gives a created object its own uid, whatever the body says.
    const metadata = { ...metadataOf(object), uid: this.newUid() };
    this.put({ ...object, metadata }, fieldManager);
  }

  async deleteObject(ref: ObjectRef, preconditions: DeletePreconditions): Promise<void> {
    this.requests += 1;
    await this.write(`delete ${ref.kind} ${ref.namespace}/${ref.name}`);
    const current = this.get(ref.kind, ref.namespace, ref.name);
    if (current === undefined) throw refused(404, `${ref.name} not found`);
    if (text(current, "uid") !== preconditions.uid) throw refused(409, "Precondition failed: UID");
    if (text(current, "resourceVersion") !== preconditions.resourceVersion)
      throw refused(409, "Precondition failed: ResourceVersion");
    this.remove(ref.kind, ref.namespace, ref.name);
  }

  annotations(namespace: string): Promise<Readonly<Record<string, string>>> {
    this.requests += 1;
    const object = this.get("Namespace", "", namespace);
    if (object === undefined) return Promise.reject(refused(404, `namespaces "${namespace}" not found`));
    return Promise.resolve((metadataOf(object).annotations ?? {}) as Record<string, string>);
  }

  // Watches -----------------------------------------------------------------------------------------

  private sourceOf(query: CollectionQuery): WatchSource {
    return {
      list: (): Promise<ListResult> => {
        this.requests += 1;
        const items = [...this.objects.values()]
          .filter((stored) => matches(query, stored))
          .map((stored) => structuredClone(stored.object));
        return Promise.resolve({ items, resourceVersion: String(this.version) });
      },
      watch: (resourceVersion, onEvent, onDone): Promise<WatchHandle> => {
        const from = Number(resourceVersion);
        if (from < this.compactedBelow) return Promise.resolve(this.refuseGone(onEvent, onDone));
        const watcher: Watcher = { query, onEvent, onDone };
        for (const entry of this.history) {
          if (entry.version > from && matches(query, entry.stored)) onEvent(entry.type, entry.stored.object);
        }
        this.watchers.add(watcher);
        return Promise.resolve({ abort: () => this.watchers.delete(watcher) });
      },
    };
  }

  private emit(type: string, stored: Stored): void {
    this.history.push({ version: this.version, type, stored });
    for (const watcher of [...this.watchers]) {
      if (matches(watcher.query, stored)) watcher.onEvent(type, structuredClone(stored.object));
    }
  }

  private refuseGone(
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): WatchHandle {
    const message = `too old resource version (${String(this.compactedBelow)})`;
    onEvent("ERROR", { kind: "Status", status: "Failure", reason: "Expired", code: 410, message });
    onDone(null);
    return { abort: () => undefined };
  }
}

function matches(query: CollectionQuery, stored: Stored): boolean {
  // A namespaced collection is also watched across all namespaces, as /api/v1/pods.
  const acrossNamespaces = stored.path.replace(/\/namespaces\/[^/]+(?=\/)/, "");
  if (stored.path !== query.path && acrossNamespaces !== query.path) return false;
  const name = /^metadata\.name=(.+)$/.exec(query.fieldSelector ?? "")?.[1];
  return name === undefined || text(stored.object, "name") === name;
}

/** One JSON Patch operation on a copy of the object; a failed `test` is refused with 422, as the API does. */
function applyOperation(document: KubeObject, operation: JsonPatchOperation): KubeObject {
  if (operation.op === "test") {
    if (!jsonEqual(getAtPointer(document, operation.path), operation.value ?? null)) {
      throw refused(
        422,
        `the server rejected our request due to an error in our request: test ${operation.path}`,
      );
    }
    return document;
  }
  const tokens = parsePointer(operation.path);
  const key = tokens.pop() ?? "";
  const members = membersAt(document, tokens, operation.path);
  if (operation.op !== "add" && !Object.hasOwn(members, key)) throw refused(422, `no ${operation.path}`);
  if (operation.op === "remove") Reflect.deleteProperty(members, key);
  else members[key] = operation.value ?? null;
  return document;
}

/** The object at `tokens`, to change in place; a path through anything else is refused with 422. */
function membersAt(document: KubeObject, tokens: readonly string[], path: string): Record<string, JsonValue> {
  let node: JsonValue | undefined = document;
  for (const token of tokens) {
    node = typeof node === "object" && node !== null ? (node as Record<string, JsonValue>)[token] : undefined;
  }
  if (typeof node !== "object" || node === null || Array.isArray(node))
    throw refused(422, `no object at ${path}`);
  return node as Record<string, JsonValue>;
}

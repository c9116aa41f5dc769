import { BroadsideError } from "../core/errors.js";
import type { JsonObject, JsonValue, TargetRef } from "../core/ledger/record.js";
import type { EngineKube } from "./engine-kube.js";
import { apiStatus } from "./api-errors.js";

/**
 * The small interfaces object faults and the engine use instead of the whole client: read an object,
 * JSON-patch it, read a namespace's annotations. ClusterObjects implements them over
 * @kubernetes/client-node for the kinds Broadside changes; unit tests implement them in memory.
 */

/** Which object: its kind and name, without the uid (readers do not check it; patches test it). */
export type ObjectRef = Pick<TargetRef, "apiVersion" | "kind" | "namespace" | "name">;

export interface ObjectReader {
  /** The object as the API server serves it now; undefined when it does not exist. */
  read(ref: ObjectRef): Promise<KubeObject | undefined>;
}

export interface ObjectPatcher {
  /**
   * Sends a JSON Patch as Broadside's field manager. The API server applies all of it or nothing: a failed
   * `test` operation is refused with 422 (409 when the object changed while being written), a missing
   * object with 404, and the promise rejects with the API's own error, whose status FieldAccess reads.
   */
  patch(ref: ObjectRef, operations: readonly JsonPatchOperation[]): Promise<void>;
}

/** The incarnation and version a delete must still find: the API server's delete preconditions. */
export interface DeletePreconditions {
  readonly uid: string;
  readonly resourceVersion: string;
}

/**
 * Deletes and recreates whole objects, for the one change that is no field's: a duel's deletion of a
 * managed ConfigMap (issue 13), whose ledger record holds the whole object so that it can be created again.
 */
export interface ObjectLifecycle {
  /**
   * Creates `object` (its apiVersion, kind, metadata.namespace and metadata.name say where) as Broadside's
   * field manager; rejects with the API's own error, 409 when the name is taken.
   */
  createObject(object: KubeObject): Promise<void>;
  /** Deletes the object only while it is this incarnation at this version: else 409, or 404 when gone. */
  deleteObject(ref: ObjectRef, preconditions: DeletePreconditions): Promise<void>;
}

/** The kinds Broadside may delete and recreate (ObjectLifecycle). */
export const deletableKinds = ["ConfigMap"] as const;
export type DeletableKind = (typeof deletableKinds)[number];

export interface NamespaceReader {
  /** The namespace's annotations (the opt-in rail reads them); rejects when it cannot be read. */
  annotations(namespace: string): Promise<Readonly<Record<string, string>>>;
}

/** An object as the API server serves it: plain JSON, so that JSON pointers and `test` see the same thing. */
export type KubeObject = JsonObject;

export const supportedKinds = [
  "ConfigMap",
  "Secret",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "Pod",
  "Kustomization",
] as const;
export type SupportedKind = (typeof supportedKinds)[number];

/** The name Broadside's writes carry in managedFields, so that others can tell its changes from theirs. */
export const fieldManager = "broadside";

export interface JsonPatchOperation {
  readonly op: "test" | "add" | "replace" | "remove";
  readonly path: string;
  readonly value?: JsonValue;
}

interface ObjectKey {
  readonly namespace: string;
  readonly name: string;
}

const kustomizations = { group: "kustomize.toolkit.fluxcd.io", version: "v1", plural: "kustomizations" };

interface KindClient {
  readonly apiVersion: string;
  read(kube: EngineKube, key: ObjectKey): Promise<object>;
  patch(kube: EngineKube, key: ObjectKey, body: readonly JsonPatchOperation[]): Promise<object>;
}

const kindClients: Record<SupportedKind, KindClient> = {
  ConfigMap: {
    apiVersion: "v1",
    read: (kube, key) => kube.core.readNamespacedConfigMap(key),
    patch: (kube, key, body) =>
      kube.core.patchNamespacedConfigMap({ ...key, body, fieldManager }, kube.jsonPatch),
  },
  Secret: {
    apiVersion: "v1",
    read: (kube, key) => kube.core.readNamespacedSecret(key),
    patch: (kube, key, body) =>
      kube.core.patchNamespacedSecret({ ...key, body, fieldManager }, kube.jsonPatch),
  },
  Deployment: {
    apiVersion: "apps/v1",
    read: (kube, key) => kube.apps.readNamespacedDeployment(key),
    patch: (kube, key, body) =>
      kube.apps.patchNamespacedDeployment({ ...key, body, fieldManager }, kube.jsonPatch),
  },
  StatefulSet: {
    apiVersion: "apps/v1",
    read: (kube, key) => kube.apps.readNamespacedStatefulSet(key),
    patch: (kube, key, body) =>
      kube.apps.patchNamespacedStatefulSet({ ...key, body, fieldManager }, kube.jsonPatch),
  },
  DaemonSet: {
    apiVersion: "apps/v1",
    read: (kube, key) => kube.apps.readNamespacedDaemonSet(key),
    patch: (kube, key, body) =>
      kube.apps.patchNamespacedDaemonSet({ ...key, body, fieldManager }, kube.jsonPatch),
  },
  // pod-failure changes a pod's container images, the one part of a running pod's spec the API lets change.
  Pod: {
    apiVersion: "v1",
    read: (kube, key) => kube.core.readNamespacedPod(key),
    patch: (kube, key, body) => kube.core.patchNamespacedPod({ ...key, body, fieldManager }, kube.jsonPatch),
  },
  // A duel sets Flux's reconcile interval (issue 13, ADR 0034): a field of the GitOps controller's own object.
  Kustomization: {
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    read: (kube, key) =>
      kube.custom.getNamespacedCustomObject({ ...kustomizations, ...key }) as Promise<object>,
    patch: (kube, key, body) =>
      kube.custom.patchNamespacedCustomObject(
        { ...kustomizations, ...key, body, fieldManager },
        kube.jsonPatch,
      ) as Promise<object>,
  },
};

/** The object's reference, refused (BRD_INTERNAL) unless its kind is one Broadside deletes and recreates. */
function deletableRef(object: KubeObject | ObjectRef): ObjectRef {
  const ref = "metadata" in object ? objectRefOf(object) : (object as ObjectRef);
  if (ref.kind !== "ConfigMap" || ref.apiVersion !== "v1") {
    throw new BroadsideError(
      "BRD_INTERNAL",
      `Broadside deletes and recreates only ${deletableKinds.join(", ")}, not ${ref.apiVersion} ${ref.kind}`,
    );
  }
  return ref;
}

/** Where an object lives, from its own apiVersion, kind and metadata. */
export function objectRefOf(object: KubeObject): ObjectRef {
  const metadata = object.metadata;
  const field = (value: unknown): string => (typeof value === "string" ? value : "");
  const meta = typeof metadata === "object" && metadata !== null && !Array.isArray(metadata) ? metadata : {};
  return {
    apiVersion: field(object.apiVersion),
    kind: field(object.kind),
    namespace: field((meta as Record<string, unknown>).namespace),
    name: field((meta as Record<string, unknown>).name),
  };
}

function isSupportedKind(kind: string): kind is SupportedKind {
  return (supportedKinds as readonly string[]).includes(kind);
}

function clientFor(target: Pick<ObjectRef, "apiVersion" | "kind">): KindClient {
  const client = isSupportedKind(target.kind) ? kindClients[target.kind] : undefined;
  if (client?.apiVersion !== target.apiVersion) {
    // A record written by a newer Broadside, or edited by hand: recovery leaves it open for a human.
    throw new BroadsideError(
      "BRD_INTERNAL",
      `Broadside cannot read or write ${target.apiVersion} ${target.kind}; it supports ${supportedKinds.join(", ")}`,
    );
  }
  return client;
}

/**
 * client-node turns responses into model classes. For the kinds above every property name equals its wire
 * name, and the only non-JSON values (Dates) sit in metadata and status, which no fault points into; a
 * round trip through JSON therefore gives back what the server sent for every path a fault uses.
 */
export function toKubeObject(model: object): KubeObject {
  const parsed: unknown = JSON.parse(JSON.stringify(model));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new BroadsideError("BRD_INTERNAL", "the API server returned something that is not an object");
  }
  return parsed as KubeObject;
}

export class ClusterObjects implements ObjectReader, ObjectPatcher, ObjectLifecycle, NamespaceReader {
  constructor(private readonly kube: EngineKube) {}

  async read(ref: ObjectRef): Promise<KubeObject | undefined> {
    const client = clientFor(ref);
    try {
      return toKubeObject(await client.read(this.kube, { namespace: ref.namespace, name: ref.name }));
    } catch (error: unknown) {
      if (apiStatus(error) === 404) return undefined;
      throw error;
    }
  }

  async patch(ref: ObjectRef, operations: readonly JsonPatchOperation[]): Promise<void> {
    await clientFor(ref).patch(this.kube, { namespace: ref.namespace, name: ref.name }, operations);
  }

  async createObject(object: KubeObject): Promise<void> {
    const ref = deletableRef(object);
    // client-node's model classes take the wire's JSON: every ConfigMap field has its wire name.
    await this.kube.core.createNamespacedConfigMap({
      namespace: ref.namespace,
      body: object,
      fieldManager,
    });
  }

  async deleteObject(ref: ObjectRef, preconditions: DeletePreconditions): Promise<void> {
    deletableRef(ref);
    await this.kube.core.deleteNamespacedConfigMap({
      namespace: ref.namespace,
      name: ref.name,
      body: { preconditions: { uid: preconditions.uid, resourceVersion: preconditions.resourceVersion } },
    });
  }

  async annotations(namespace: string): Promise<Readonly<Record<string, string>>> {
    const object = await this.kube.core.readNamespace({ name: namespace });
    return object.metadata?.annotations ?? {};
  }
}

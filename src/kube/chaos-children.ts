import { type KubeClients } from "./client.js";
import { apiStatus } from "./api-errors.js";

/**
 * The objects a Schedule creates at each instant (its children, PodChaos of the Schedule's own group) and
 * removes beyond its history: create, list by label, delete. Implemented over client-node's
 * CustomObjectsApi for the agent, and in memory for unit tests.
 */

/** A collection of custom objects: group/version and plural, e.g. broadside.dev/v1alpha1 podchaos. */
export interface CollectionRef {
  readonly apiVersion: string;
  readonly plural: string;
}

/** A child as the Schedule reads it back: its name, labels, owners and status. */
export interface ChildObject {
  readonly metadata?: {
    readonly name?: string;
    readonly uid?: string;
    readonly labels?: Record<string, string> | undefined;
    readonly ownerReferences?:
      readonly { readonly uid?: string; readonly controller?: boolean | undefined }[] | undefined;
    readonly deletionTimestamp?: unknown;
  };
  readonly status?: unknown;
}

export interface ChildObjects {
  /** The objects of `collection` in `namespace` whose labels include every pair of `labels`, from the API server. */
  list(collection: CollectionRef, namespace: string, labels: Record<string, string>): Promise<ChildObject[]>;
  /** Creates the object; "exists" when one of that name is already there (AlreadyExists), which is no error. */
  create(collection: CollectionRef, namespace: string, body: object): Promise<"created" | "exists">;
  /** Deletes the object; one already gone is no error. */
  delete(collection: CollectionRef, namespace: string, name: string): Promise<void>;
}

function coordinates(collection: CollectionRef, namespace: string) {
  const [group = "", version = ""] = collection.apiVersion.split("/");
  return { group, version, plural: collection.plural, namespace };
}

function selectorOf(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
}

export class ClusterChildObjects implements ChildObjects {
  constructor(private readonly kube: Pick<KubeClients, "custom">) {}

  async list(
    collection: CollectionRef,
    namespace: string,
    labels: Record<string, string>,
  ): Promise<ChildObject[]> {
    const found = (await this.kube.custom.listNamespacedCustomObject({
      ...coordinates(collection, namespace),
      labelSelector: selectorOf(labels),
    })) as { items?: ChildObject[] };
    return found.items ?? [];
  }

  async create(collection: CollectionRef, namespace: string, body: object): Promise<"created" | "exists"> {
    try {
      await this.kube.custom.createNamespacedCustomObject({ ...coordinates(collection, namespace), body });
      return "created";
    } catch (error: unknown) {
      if (apiStatus(error) === 409) return "exists";
      throw error;
    }
  }

  async delete(collection: CollectionRef, namespace: string, name: string): Promise<void> {
    try {
      // Background: the API server answers at once; the garbage collector takes the rest.
      await this.kube.custom.deleteNamespacedCustomObject({
        ...coordinates(collection, namespace),
        name,
        propagationPolicy: "Background",
      });
    } catch (error: unknown) {
      if (apiStatus(error) !== 404) throw error;
    }
  }
}

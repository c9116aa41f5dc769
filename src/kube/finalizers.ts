import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { ConflictError } from "../core/ledger/store.js";
import { isRecord } from "../core/objects.js";
import type { KubeClients } from "./client.js";
import { apiStatus } from "./api-errors.js";
import type { ResourceRef } from "./resource-status.js";

/**
 * Writes the finalizers of the agent's resources. A finalizer is held only while a revert is pending (ADR
 * 0007), so every write is conditional on the object's resourceVersion: a list read from a stale cache
 * never overwrites someone else's finalizer.
 */
export interface FinalizerWriter {
  /**
   * Replaces metadata.finalizers with `finalizers` if the object is still at `resourceVersion`, and returns
   * its new resourceVersion; a ConflictError if it moved on; undefined if it is gone.
   */
  set(ref: ResourceRef, resourceVersion: string, finalizers: readonly string[]): Promise<string | undefined>;
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export class ClusterFinalizerWriter implements FinalizerWriter {
  constructor(private readonly kube: Pick<KubeClients, "custom">) {}

  async set(
    ref: ResourceRef,
    resourceVersion: string,
    finalizers: readonly string[],
  ): Promise<string | undefined> {
    const [group = "", version = ""] = ref.apiVersion.split("/");
    try {
      // A merge patch replaces the list whole; the resourceVersion in it is a precondition (409 when stale).
      const patched: unknown = await this.kube.custom.patchNamespacedCustomObject(
        {
          group,
          version,
          plural: ref.plural,
          namespace: ref.namespace,
          name: ref.name,
          body: { metadata: { resourceVersion, finalizers: [...finalizers] } },
        },
        mergePatch,
      );
      return resourceVersionOf(patched);
    } catch (error: unknown) {
      const status = apiStatus(error);
      if (status === 404) return undefined;
      if (status === 409) throw new ConflictError(`${ref.plural} ${ref.namespace}/${ref.name} changed`);
      throw error;
    }
  }
}

function resourceVersionOf(object: unknown): string {
  const metadata = isRecord(object) ? object.metadata : undefined;
  const version = isRecord(metadata) ? metadata.resourceVersion : undefined;
  return typeof version === "string" ? version : "";
}

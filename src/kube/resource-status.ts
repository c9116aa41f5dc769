import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { ConflictError } from "../core/ledger/store.js";
import type { KubeClients } from "./client.js";
import { apiStatus } from "./api-errors.js";

/**
 * Writes the status of the agent's resources (broadside.dev, and chaos-mesh.org when it serves that API)
 * through their status subresource. The agent's reconcilers see these resources through informers and
 * write only their status.
 */

export interface ResourceRef {
  /** group/version, e.g. broadside.dev/v1alpha1. */
  readonly apiVersion: string;
  readonly plural: string;
  readonly namespace: string;
  readonly name: string;
}

export interface StatusWriter {
  /** The object as the API server has it now (not an informer's cache), or undefined when it is gone. */
  read(ref: ResourceRef): Promise<{ readonly status?: unknown } | undefined>;
  /**
   * Replaces the status only if the object is still at `resourceVersion`: a ConflictError otherwise. How a
   * reconciler claims a one-time action (a shot, a schedule's instant) before it takes it.
   */
  claim(ref: ResourceRef, resourceVersion: string, status: object): Promise<void>;
  /** Replaces the status whatever the object's version: a report of what already happened. */
  report(ref: ResourceRef, status: object): Promise<void>;
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export class ClusterStatusWriter implements StatusWriter {
  constructor(private readonly kube: Pick<KubeClients, "custom">) {}

  async read(ref: ResourceRef): Promise<{ readonly status?: unknown } | undefined> {
    try {
      const found: unknown = await this.kube.custom.getNamespacedCustomObjectStatus(coordinatesOf(ref));
      return typeof found === "object" && found !== null ? found : undefined;
    } catch (error: unknown) {
      if (apiStatus(error) === 404) return undefined;
      throw error;
    }
  }

  async claim(ref: ResourceRef, resourceVersion: string, status: object): Promise<void> {
    // A resourceVersion in a patch is a precondition: the API server answers 409 when it moved on.
    try {
      await this.patch(ref, { metadata: { resourceVersion }, status });
    } catch (error: unknown) {
      if (apiStatus(error) === 409)
        throw new ConflictError(`${ref.plural} ${ref.namespace}/${ref.name} changed`);
      throw error;
    }
  }

  async report(ref: ResourceRef, status: object): Promise<void> {
    await this.patch(ref, { status });
  }

  private async patch(ref: ResourceRef, body: object): Promise<void> {
    // A merge patch replaces lists whole: conditions and targets are always written complete.
    await this.kube.custom.patchNamespacedCustomObjectStatus({ ...coordinatesOf(ref), body }, mergePatch);
  }
}

function coordinatesOf(ref: ResourceRef) {
  const [group = "", version = ""] = ref.apiVersion.split("/");
  return { group, version, plural: ref.plural, namespace: ref.namespace, name: ref.name };
}

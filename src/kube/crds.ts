import { ApiextensionsV1Api, type KubeConfig } from "@kubernetes/client-node";
import { apiStatus, kubeFailure } from "./api-errors.js";

/**
 * Reads CustomResourceDefinitions' metadata through the apiextensions API: whether a CRD exists and how
 * it is marked, so the agent can tell the chaos-mesh.org CRDs Broadside ships from a real Chaos Mesh's.
 */

export interface CrdReader {
  /** The CRD's annotations ({} when it has none), or undefined when no CRD of that name exists. */
  annotationsOf(name: string): Promise<Readonly<Record<string, string>> | undefined>;
}

export class ClusterCrdReader implements CrdReader {
  private readonly api: ApiextensionsV1Api;

  constructor(config: KubeConfig) {
    this.api = config.makeApiClient(ApiextensionsV1Api);
  }

  async annotationsOf(name: string): Promise<Readonly<Record<string, string>> | undefined> {
    try {
      const crd = await this.api.readCustomResourceDefinition({ name });
      return crd.metadata?.annotations ?? {};
    } catch (error: unknown) {
      if (apiStatus(error) === 404) return undefined;
      throw kubeFailure(`reading CustomResourceDefinition ${name}`, error);
    }
  }
}

/** CRDs held in memory, by name: for unit tests. */
export class MemoryCrdReader implements CrdReader {
  constructor(private readonly crds: Readonly<Record<string, Readonly<Record<string, string>>>>) {}

  annotationsOf(name: string): Promise<Readonly<Record<string, string>> | undefined> {
    return Promise.resolve(this.crds[name]);
  }
}

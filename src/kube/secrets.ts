import type { V1Secret } from "@kubernetes/client-node";
import type { KubeClients } from "./client.js";
import { apiStatus } from "./api-errors.js";

/**
 * Reads one key of a Secret in one namespace (Broadside's own: the agent's RBAC lets it get Secrets there
 * and nowhere else), for the notifier's webhook URLs and tokens (ADR 0010). The value is returned to the
 * caller and nowhere else: it is never logged, and an error says which Secret and key, never what it holds.
 */

/** A key of a Secret, as a pod's env `valueFrom.secretKeyRef` names one. */
export interface SecretKey {
  readonly name: string;
  readonly key: string;
}

export class ClusterSecretKeyReader {
  constructor(
    private readonly kube: Pick<KubeClients, "core">,
    private readonly namespace: string,
  ) {}

  /** The key's value; undefined when the Secret or the key does not exist. Read on every call. */
  async read(ref: SecretKey): Promise<string | undefined> {
    let secret: V1Secret;
    try {
      secret = await this.kube.core.readNamespacedSecret({ name: ref.name, namespace: this.namespace });
    } catch (error: unknown) {
      if (apiStatus(error) === 404) return undefined;
      throw new Error(
        `reading Secret ${JSON.stringify(ref.name)} in ${this.namespace} failed (HTTP ${String(apiStatus(error) ?? "no answer")})`,
        { cause: error },
      );
    }
    return secretValue(secret, ref.key);
  }
}

/** `key` of `secret`: `data` is base64 (what the API returns); `stringData` only exists on writes. */
export function secretValue(secret: V1Secret, key: string): string | undefined {
  const encoded = secret.data?.[key];
  if (encoded !== undefined) return Buffer.from(encoded, "base64").toString("utf8");
  return secret.stringData?.[key];
}

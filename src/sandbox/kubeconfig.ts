import { writeFile } from "node:fs/promises";
import { stringify } from "yaml";

export interface KubeconfigUser {
  readonly server: string;
  readonly caCert: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** Cluster, user and context name, e.g. "broadside-default". */
  readonly contextName: string;
}

/** Writes a kubeconfig with one cluster, one user (a client certificate) and one context. */
export async function writeKubeconfig(path: string, user: KubeconfigUser): Promise<void> {
  const name = user.contextName;
  const document = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: user.server, "certificate-authority": user.caCert } }],
    users: [{ name, user: { "client-certificate": user.clientCert, "client-key": user.clientKey } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
  };
  await writeFile(path, stringify(document), { mode: 0o600 });
}

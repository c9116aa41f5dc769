import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { delimiter, dirname, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { KubeconfigSearch } from "../kubeconfig.js";
import type { WireTarget } from "./transport.js";

/**
 * The kubeconfigs the wire client serves on its own (ADR 0024): one file, an https server, and a static
 * credential (a bearer token, a token file, a client certificate, a user name and password). Anything
 * else (several files of $KUBECONFIG to merge, the in-cluster service account, an exec or auth-provider
 * plugin, a proxy, impersonation, a TLS server name) is left to client-node, which the caller loads
 * instead: `readWireKubeconfig` answers undefined, never an error of its own, so the messages a user
 * sees about a broken kubeconfig are always those of kube/kubeconfig.ts.
 */

export interface WireKubeconfig {
  readonly target: WireTarget;
  /** The namespace of the context, else "default" (contextNamespace in client.ts). */
  readonly namespace: string;
  /** The name of the context's user entry (client-node's getCurrentUser().name). */
  readonly userName: string;
}

type Entries = Readonly<Record<string, unknown>>;

/** The one file kubectl's search would read, or undefined when it would merge several or use none. */
function singleFile(search: KubeconfigSearch): string | undefined {
  if (search.flagPath !== undefined) return search.flagPath;
  if (search.envKubeconfig !== undefined && search.envKubeconfig !== "") {
    const existing = search.envKubeconfig.split(delimiter).filter((file) => file !== "" && existsSync(file));
    return existing.length === 1 ? existing[0] : undefined;
  }
  const home = join(search.home, ".kube", "config");
  return existsSync(home) ? home : undefined;
}

function isEntries(value: unknown): value is Entries {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The `field` map of the entry named `name` in the list `list` (clusters, users, contexts). */
function named(document: Entries, list: string, field: string, name: unknown): Entries | undefined {
  const entries = document[list];
  if (!Array.isArray(entries)) return undefined;
  const entry: unknown = entries.find((each) => isEntries(each) && each.name === name);
  if (!isEntries(entry)) return undefined;
  const inner = entry[field];
  return isEntries(inner) ? inner : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

const clusterFields = new Set([
  "server",
  "certificate-authority",
  "certificate-authority-data",
  "insecure-skip-tls-verify",
]);
const userFields = new Set([
  "token",
  "tokenFile",
  "client-certificate",
  "client-certificate-data",
  "client-key",
  "client-key-data",
  "username",
  "password",
]);

/** Reads a PEM given inline (base64, the `-data` field) or as a file relative to the kubeconfig. */
async function pem(entries: Entries, field: string, base: string): Promise<Buffer | undefined> {
  const inline = text(entries[`${field}-data`]);
  if (inline !== undefined) return Buffer.from(inline, "base64");
  const path = text(entries[field]);
  return path === undefined ? undefined : readFile(resolve(base, path));
}

async function authorization(user: Entries, base: string): Promise<string | undefined> {
  const token = text(user.token);
  if (token !== undefined) return `Bearer ${token}`;
  const tokenFile = text(user.tokenFile);
  if (tokenFile !== undefined) return `Bearer ${(await readFile(resolve(base, tokenFile), "utf8")).trim()}`;
  const username = text(user.username);
  const password = text(user.password);
  if (username !== undefined && password !== undefined)
    return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  return undefined;
}

async function targetOf(cluster: Entries, user: Entries, base: string): Promise<WireTarget | undefined> {
  const server = text(cluster.server);
  if (server === undefined || !URL.canParse(server)) return undefined;
  const url = new URL(server);
  if (url.protocol !== "https:") return undefined;
  const [ca, cert, key, auth] = await Promise.all([
    pem(cluster, "certificate-authority", base),
    pem(user, "client-certificate", base),
    pem(user, "client-key", base),
    authorization(user, base),
  ]);
  if ((cert === undefined) !== (key === undefined)) return undefined;
  return {
    server: url,
    ...(ca === undefined ? {} : { ca }),
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
    ...(cert === undefined || key === undefined ? {} : { clientCertificate: { cert, key } }),
    ...(auth === undefined ? {} : { authorization: auth }),
  };
}

async function parseDocument(file: string): Promise<Entries | undefined> {
  const source = await readFile(file, "utf8");
  const parsed: unknown = parseYaml(source);
  return isEntries(parsed) ? parsed : undefined;
}

interface ChosenEntries {
  readonly cluster: Entries;
  readonly user: Entries;
  readonly namespace: string;
  readonly userName: string;
}

/** The context's cluster and user, when both are of the kinds the wire client serves. */
function choose(document: Entries, context: string | undefined): ChosenEntries | undefined {
  const chosen = named(document, "contexts", "context", context ?? document["current-context"]);
  if (chosen === undefined) return undefined;
  const cluster = named(document, "clusters", "cluster", chosen.cluster);
  const user = named(document, "users", "user", chosen.user) ?? {};
  if (cluster === undefined) return undefined;
  if (!Object.keys(cluster).every((field) => clusterFields.has(field))) return undefined;
  if (!Object.keys(user).every((field) => userFields.has(field))) return undefined;
  return {
    cluster,
    user,
    namespace: text(chosen.namespace) ?? "default",
    userName: text(chosen.user) ?? "unknown",
  };
}

/**
 * The wire client's view of the kubeconfig the search finds, switched to `context` when one is named; or
 * undefined when client-node must read it (see the comment at the top), including when it is broken.
 */
export async function readWireKubeconfig(
  search: KubeconfigSearch,
  context?: string,
): Promise<WireKubeconfig | undefined> {
  const file = singleFile(search);
  if (file === undefined) return undefined;
  try {
    const document = await parseDocument(file);
    const chosen = document === undefined ? undefined : choose(document, context);
    if (chosen === undefined) return undefined;
    const target = await targetOf(chosen.cluster, chosen.user, dirname(file));
    return target === undefined
      ? undefined
      : { target, namespace: chosen.namespace, userName: chosen.userName };
  } catch {
    return undefined;
  }
}

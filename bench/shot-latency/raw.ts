import { readFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { parse } from "yaml";
import { z } from "zod";

/**
 * The physical limit beside the tools: single HTTP requests from inside the benchmark's own process, each
 * over a fresh TLS connection (a new agent without keep-alive: TCP and TLS handshakes included), with the
 * client certificate of the sandbox's kubeconfig. No process start, no discovery, no decoding.
 */
export interface RawClient {
  readonly server: URL;
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

const kubeconfigSchema = z.object({
  clusters: z
    .array(z.object({ cluster: z.object({ server: z.string(), "certificate-authority": z.string() }) }))
    .min(1),
  users: z
    .array(z.object({ user: z.object({ "client-certificate": z.string(), "client-key": z.string() }) }))
    .min(1),
});

/** Reads the sandbox's kubeconfig: one cluster, one user with a client certificate, as files. */
export async function rawClient(kubeconfigPath: string): Promise<RawClient> {
  const config = kubeconfigSchema.parse(parse(await readFile(kubeconfigPath, "utf8")));
  const [{ cluster }] = config.clusters as [(typeof config.clusters)[number]];
  const [{ user }] = config.users as [(typeof config.users)[number]];
  const server = new URL(cluster.server);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(server.hostname)) {
    throw new Error(`the bench sandbox's server ${cluster.server} is not on loopback`);
  }
  return {
    server,
    ca: await readFile(cluster["certificate-authority"]),
    cert: await readFile(user["client-certificate"]),
    key: await readFile(user["client-key"]),
  };
}

export interface RawResponse {
  readonly status: number;
  readonly body: Buffer;
  /** From just before the request to the last byte of the body. */
  readonly ms: number;
}

/**
 * One request over a fresh connection; `path` is built by the caller from names it created itself.
 * `accept` is JSON unless asked otherwise (bench/pod-list-encodings.ts asks for protobuf too).
 */
export function rawRequest(
  client: RawClient,
  method: string,
  path: string,
  accept = "application/json",
): Promise<RawResponse> {
  const agent = new Agent({ keepAlive: false, maxCachedSessions: 0 });
  const started = performance.now();
  return new Promise<RawResponse>((resolve, reject) => {
    const req = request(
      {
        protocol: "https:",
        hostname: client.server.hostname,
        port: client.server.port,
        method,
        path,
        ca: client.ca,
        cert: client.cert,
        key: client.key,
        agent,
        headers: { accept },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks),
            ms: performance.now() - started,
          });
        });
      },
    );
    req.setTimeout(120_000, () => {
      req.destroy(new Error(`${method} ${path}: no answer within 120 s`));
    });
    req.on("error", reject);
    req.end();
  }).finally(() => {
    agent.destroy();
  });
}

/** The raw LIST of the namespace's pods by label, one page, as JSON: what every tool has to read. */
export async function rawList(client: RawClient, namespace: string, selector: string): Promise<RawResponse> {
  const query = new URLSearchParams({ labelSelector: selector });
  const response = await rawRequest(
    client,
    "GET",
    `/api/v1/namespaces/${namespace}/pods?${query.toString()}`,
  );
  if (response.status !== 200) throw new Error(`raw LIST of ${namespace}'s pods: HTTP ${response.status}`);
  return response;
}

/** The raw DELETE of one pod whose name the benchmark already knows (grace 0). */
export async function rawDelete(client: RawClient, namespace: string, name: string): Promise<RawResponse> {
  const path = `/api/v1/namespaces/${namespace}/pods/${encodeURIComponent(name)}?gracePeriodSeconds=0`;
  const response = await rawRequest(client, "DELETE", path);
  if (response.status !== 200) throw new Error(`raw DELETE of ${namespace}/${name}: HTTP ${response.status}`);
  return response;
}

const requestLine = /^apiserver_request_total\{([^}]*)\} ([0-9.e+]+)$/;

/**
 * The API server's request counter, summed over what a client shooting a pod sends: resource requests
 * (not /metrics, /healthz, discovery...), minus leases, events and status subresources (the heartbeats and
 * status writes of kwok, the scheduler and the controller manager), minus WATCH (counted when it ends).
 * By verb; a difference of two scrapes around a shot counts that shot's requests when nothing else runs.
 */
export function countRequests(metrics: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of metrics.split("\n")) {
    const match = requestLine.exec(line);
    if (match === null) continue;
    const verb = countedVerb(match[1] ?? "");
    if (verb !== undefined) counts.set(verb, (counts.get(verb) ?? 0) + Number(match[2]));
  }
  return counts;
}

/** The verb of a counter line a shooting client sends, or undefined for the noise left out above. */
function countedVerb(labelText: string): string | undefined {
  const labels = new Map([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]));
  const resource = labels.get("resource") ?? "";
  const verb = labels.get("verb") ?? "";
  const noise = ["", "leases", "events"].includes(resource) || (labels.get("subresource") ?? "") !== "";
  return noise || verb === "WATCH" ? undefined : verb;
}

/** Scrapes the counter; the scrape itself is a non-resource request, so it does not count. */
export async function scrapeRequests(client: RawClient): Promise<Map<string, number>> {
  const response = await rawRequest(client, "GET", "/metrics");
  if (response.status !== 200) throw new Error(`GET /metrics: HTTP ${response.status}`);
  return countRequests(response.body.toString("utf8"));
}

/** after - before, by verb, leaving out verbs that did not change. */
export function requestDelta(
  before: Map<string, number>,
  after: Map<string, number>,
): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [verb, count] of after) {
    const grown = count - (before.get(verb) ?? 0);
    if (grown !== 0) delta[verb] = grown;
  }
  return delta;
}

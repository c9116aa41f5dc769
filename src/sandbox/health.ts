import { readFile } from "node:fs/promises";
import { get as httpGet, type IncomingMessage } from "node:http";
import { get as httpsGet } from "node:https";
import { BroadsideError } from "../core/errors.js";

/** A CA to check a server against, and a client certificate to present to it. */
export interface TlsMaterial {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** What the sandbox's health probes present: its admin certificate to Kubernetes, its etcd client certificate to etcd. */
export interface HealthCredentials {
  readonly kube: TlsMaterial;
  readonly etcd: TlsMaterial;
}

/** Paths of one CA and client certificate, as pki.ts lays them out. */
export interface TlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * How a health endpoint is checked: the API server's certificate against the sandbox CA; etcd's against
 * the etcd CA, with the etcd client certificate (etcd refuses any connection without one); the controller
 * manager and scheduler serve self-signed certificates of their own, accepted for these loopback probes
 * only; kwok's and the traffic process's health endpoints are plain HTTP.
 */
export const serverChecks = ["sandbox-ca", "etcd-mtls", "self-signed", "plain-http"] as const;
export type ServerCheck = (typeof serverChecks)[number];

/** Reads the probes' certificates once; a missing one is BRD_SANDBOX_STATE_INVALID naming it. */
export async function loadHealthCredentials(kube: TlsFiles, etcd: TlsFiles): Promise<HealthCredentials> {
  const [kubeMaterial, etcdMaterial] = await Promise.all([loadTls(kube), loadTls(etcd)]);
  return { kube: kubeMaterial, etcd: etcdMaterial };
}

async function loadTls(files: TlsFiles): Promise<TlsMaterial> {
  const read = (path: string): Promise<Buffer> =>
    readFile(path).catch((error: unknown) => {
      throw new BroadsideError(
        "BRD_SANDBOX_STATE_INVALID",
        `the sandbox's certificate ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"}); stop the sandbox with \`broadside sandbox down\` and start it again`,
        { cause: error },
      );
    });
  const [ca, cert, key] = await Promise.all([read(files.ca), read(files.cert), read(files.key)]);
  return { ca, cert, key };
}

/** True for http(s)://127.0.0.1:<port>/...: the only health URLs the sandbox probes. */
export function isLoopbackUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.hostname === "127.0.0.1" && ["http:", "https:"].includes(parsed.protocol);
  } catch {
    return false;
  }
}

/** GETs a health endpoint on loopback and says whether it answered 200 within the timeout. */
export function probeHealth(
  url: string,
  check: ServerCheck,
  credentials: HealthCredentials,
  timeoutMs = 2000,
): Promise<boolean> {
  if (!isLoopbackUrl(url)) {
    return Promise.reject(
      new BroadsideError(
        "BRD_SANDBOX_STATE_INVALID",
        `not a loopback health URL: ${url}; the sandbox probes only 127.0.0.1`,
      ),
    );
  }
  return new Promise((resolve) => {
    const onResponse = (response: IncomingMessage): void => {
      response.resume();
      resolve(response.statusCode === 200);
    };
    const request =
      check === "plain-http"
        ? httpGet(url, { timeout: timeoutMs }, onResponse)
        : httpsGet(url, { timeout: timeoutMs, ...tlsOptions(check, credentials) }, onResponse);
    request.on("timeout", () => request.destroy());
    request.on("error", () => {
      resolve(false);
    });
  });
}

function tlsOptions(check: Exclude<ServerCheck, "plain-http">, credentials: HealthCredentials) {
  const material = check === "etcd-mtls" ? credentials.etcd : credentials.kube;
  return { ...material, rejectUnauthorized: check !== "self-signed" };
}

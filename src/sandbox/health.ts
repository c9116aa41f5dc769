import { readFileSync } from "node:fs";
import { get as httpGet, type IncomingMessage } from "node:http";
import { get as httpsGet } from "node:https";

/** Client credentials for probing the sandbox's health endpoints. */
export interface HealthTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * How a health endpoint's certificate is checked: the API server's against the sandbox CA; the
 * controller manager and scheduler serve self-signed certificates of their own, accepted for these
 * loopback probes only.
 */
export type ServerCheck = "sandbox-ca" | "self-signed" | "plain-http";

/** GETs a health endpoint on loopback and says whether it answered 200 within the timeout. */
export function probeHealth(
  url: string,
  check: ServerCheck,
  tls: HealthTls,
  timeoutMs = 2000,
): Promise<boolean> {
  const parsed = new URL(url);
  if (parsed.hostname !== "127.0.0.1") return Promise.reject(new Error(`not a loopback health URL: ${url}`));
  return new Promise((resolve) => {
    const onResponse = (response: IncomingMessage): void => {
      response.resume();
      resolve(response.statusCode === 200);
    };
    const request =
      check === "plain-http"
        ? httpGet(url, { timeout: timeoutMs }, onResponse)
        : httpsGet(
            url,
            {
              timeout: timeoutMs,
              ca: readFileSync(tls.ca),
              cert: readFileSync(tls.cert),
              key: readFileSync(tls.key),
              rejectUnauthorized: check === "sandbox-ca",
            },
            onResponse,
          );
    request.on("timeout", () => request.destroy());
    request.on("error", () => {
      resolve(false);
    });
  });
}

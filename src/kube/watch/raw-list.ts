import { request as httpRequest } from "node:http";
import type { IncomingMessage, RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { BroadsideError } from "../../core/errors.js";
import { optional } from "../../core/objects.js";
import { KubeStatusError, asStatus, type ListResult } from "./source.js";

/*
 * A LIST as a raw GET and its answer read as the wire's JSON, for the watch sources of either client
 * (client-node-source.ts, wire/watch-source.ts): this module loads no client.
 */

export interface TextResponse {
  readonly status: number;
  readonly body: string;
}

/** A GET's whole answer as text; `answered` hears of its status when the headers come, or undefined on failure. */
export function getText(
  url: URL,
  options: RequestOptions,
  answered: (code: number | undefined) => void,
): Promise<TextResponse> {
  const send = url.protocol === "http:" ? httpRequest : httpsRequest;
  return new Promise<TextResponse>((resolve, reject) => {
    const request = send(url, options, (response: IncomingMessage) => {
      answered(response.statusCode);
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("close", () => {
        // A connection cut mid-answer may end with neither "end" nor "error".
        if (!response.complete) reject(new BroadsideError("BRD_KUBE_API", "the LIST answer was cut off"));
      });
      response.on("end", () => {
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    request.on("error", (error) => {
      answered(undefined);
      reject(error);
    });
    request.end();
  });
}

export function httpError(verb: string, status: number, body: string): KubeStatusError {
  let message = body.slice(0, 200);
  try {
    message = asStatus(JSON.parse(body)).message ?? message;
  } catch {
    // Not a Status: the raw text is the best description there is.
  }
  return new KubeStatusError(status, `${verb} answered HTTP ${status}: ${message}`);
}

/**
 * The items, resourceVersion and continue token of a LIST response (or of one page of it). Items of a list carry no kind or apiVersion on the
 * wire, unlike watch events; they are filled in from the list's own, so both look alike in the cache.
 */
export function parseList(body: string): ListResult {
  const parsed: unknown = JSON.parse(body);
  if (typeof parsed !== "object" || parsed === null || !("items" in parsed) || !Array.isArray(parsed.items)) {
    throw new BroadsideError("BRD_KUBE_API", "the LIST answer has no items array");
  }
  const list = parsed as { items: unknown[]; kind?: unknown; apiVersion?: unknown; metadata?: unknown };
  const resourceVersion = listResourceVersion(list.metadata);
  const next = continueToken(list.metadata);
  const kind =
    typeof list.kind === "string" && list.kind.endsWith("List") ? list.kind.slice(0, -4) : undefined;
  const apiVersion = typeof list.apiVersion === "string" ? list.apiVersion : undefined;
  const items = list.items.map((item) => withType(item, kind, apiVersion));
  return { items, resourceVersion, ...optional("continue", next) };
}

/** The page's `metadata.continue`: absent or empty on the last page. */
function continueToken(metadata: unknown): string | undefined {
  if (typeof metadata !== "object" || metadata === null || !("continue" in metadata)) return undefined;
  const token = metadata.continue;
  return typeof token === "string" && token !== "" ? token : undefined;
}

function listResourceVersion(metadata: unknown): string {
  if (typeof metadata === "object" && metadata !== null && "resourceVersion" in metadata) {
    if (typeof metadata.resourceVersion === "string") return metadata.resourceVersion;
  }
  throw new BroadsideError("BRD_KUBE_API", "the LIST answer has no resourceVersion");
}

function withType(item: unknown, kind: string | undefined, apiVersion: string | undefined): unknown {
  if (typeof item !== "object" || item === null || "kind" in item) return item;
  if (kind === undefined || apiVersion === undefined) return item;
  return { apiVersion, kind, ...item };
}

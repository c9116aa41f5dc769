import { BroadsideError } from "../../core/errors.js";
import { apiStatus } from "../api-errors.js";

/**
 * Where an informer gets its objects: a LIST of one collection and a WATCH of it from a resourceVersion.
 * The informer depends on this interface only, so it can be driven by an in-memory source in tests and
 * by @kubernetes/client-node (client-node-source.ts) in production.
 */
export interface WatchSource {
  /**
   * A consistent LIST of the collection (the most recent state, never a cached older one) and its
   * resourceVersion. `signal` aborts the request; a source may ignore it, since the informer stops
   * waiting for an aborted list either way. With `page`, one page of it (the API server's `limit` and
   * `continue`): the result's `continue` then says where the next page starts. A source may ignore
   * `page` and answer everything at once, as an API server may ignore `limit`.
   */
  list(signal: AbortSignal, page?: ListPage): Promise<ListResult>;
  /**
   * Opens a WATCH of the collection from `resourceVersion`, with bookmarks. Resolves once the watch is
   * established (or has already failed: then `onDone` has been or will be called). `onEvent` gets each
   * event as decoded from the wire; `onDone` is called when the watch ends, with null for a clean end
   * and the error otherwise. Both may still be called after `abort()`: the informer ignores them then.
   */
  watch(
    resourceVersion: string,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<WatchHandle>;
}

/** Which collection a WatchSource serves: its path (see collectionPath) and selectors. */
export interface CollectionQuery {
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/**
 * Makes the WatchSource of a collection: what the engine watches through (recovery timing, heal watching),
 * so it needs no client. clientNodeSources makes client-node's; unit tests make in-memory ones.
 */
export type WatchSources = (collection: CollectionQuery) => WatchSource;

/** Which page of a LIST to ask for: at most `limit` objects, from where `continue` left off. */
export interface ListPage {
  readonly limit: number;
  /** The previous page's `continue`; none for the first page. */
  readonly continue?: string;
}

export interface ListResult {
  /** The listed objects as they came over the wire; the informer checks their shape. */
  readonly items: readonly unknown[];
  /** Every page of one paged LIST has the same: the snapshot the pages are read from. */
  readonly resourceVersion: string;
  /** Set when more pages follow: the token to ask the next one with. */
  readonly continue?: string;
}

export interface WatchHandle {
  abort(): void;
}

/** An HTTP answer other than success from the API server, with its status code. */
export class KubeStatusError extends BroadsideError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super("BRD_KUBE_API", message);
  }
}

/**
 * The HTTP status carried by an error, wherever the client put it: ours, the typed API's ApiException or the wire client's KubeApiError (api-errors.ts),
 * or client-node's Watch, which sets `statusCode` on a plain Error for a non-200 answer.
 */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof KubeStatusError) return error.status;
  const answered = apiStatus(error);
  if (answered !== undefined) return answered;
  if (typeof error === "object" && error !== null && "statusCode" in error) {
    const status = error.statusCode;
    if (typeof status === "number") return status;
  }
  return undefined;
}

/** The fields of a metav1.Status that matter here; an ERROR watch event's object is one. */
export interface StatusObject {
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
}

export function asStatus(object: unknown): StatusObject {
  if (typeof object !== "object" || object === null) return {};
  const status: { code?: number; reason?: string; message?: string } = {};
  if ("code" in object && typeof object.code === "number") status.code = object.code;
  if ("reason" in object && typeof object.reason === "string") status.reason = object.reason;
  if ("message" in object && typeof object.message === "string") status.message = object.message;
  return status;
}

/**
 * 410 Gone: the resourceVersion the watch asked for is older than what the server still keeps. Only a
 * new LIST can recover from it. The API server says so with code 410, reason "Expired" or "Gone".
 */
export function isGoneStatus(status: StatusObject): boolean {
  return status.code === 410 || status.reason === "Expired" || status.reason === "Gone";
}

/**
 * The path of a collection: `collectionPath("v1", "pods", "shop")` is "/api/v1/namespaces/shop/pods",
 * `collectionPath("apps/v1", "deployments")` is "/apis/apps/v1/deployments" (all namespaces).
 */
export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const root = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const scope = namespace === undefined ? "" : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${root}${scope}/${plural}`;
}

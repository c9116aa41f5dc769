/**
 * A seam for watching the conversation with the API server without kube/ knowing who listens: the
 * throttled HTTP layer (throttled-http.ts) reports every exchange to an ApiRequestObserver, and the
 * agent implements one with Prometheus metrics (src/agent/metrics/). kube/ defines the interface so it
 * never imports the layers above it.
 */

/**
 * The Kubernetes verbs, as RBAC and the audit log name them, that a request's method and path map to;
 * "other" for methods the typed clients never send (HEAD, OPTIONS...). A closed set, so a label built
 * from it stays bounded.
 */
export const apiVerbs = [
  "get",
  "list",
  "watch",
  "create",
  "update",
  "patch",
  "delete",
  "deletecollection",
  "other",
] as const;
export type ApiVerb = (typeof apiVerbs)[number];

/** One HTTP exchange with the API server (a retry after 429 is an exchange of its own). */
export interface ApiRequestObservation {
  readonly verb: ApiVerb;
  /** The HTTP status of the answer; undefined when none came (connection refused, reset, timed out). */
  readonly code: number | undefined;
  /** From sending the request to its answer's headers, on the injected clock; the wait for a token is not in it. */
  readonly seconds: number;
}

export interface ApiRequestObserver {
  /** Called once per exchange, on the request's path: it must be cheap and must not throw. */
  requestEnded(observation: ApiRequestObservation): void;
}

/** The observer of a process that does not watch its requests (the CLI). */
export const unobservedRequests: ApiRequestObserver = { requestEnded: () => undefined };

/**
 * The verb of a request, from its method and URL as client-node sends them: a GET of a collection is a
 * list, or a watch with `watch=true`; a DELETE of a collection is a deletecollection.
 */
export function apiVerb(method: string, url: string): ApiVerb {
  const parsed = new URL(url, "http://api-server.invalid");
  switch (method.toUpperCase()) {
    case "GET":
      return readVerb(parsed);
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return isCollection(parsed.pathname) ? "deletecollection" : "delete";
    default:
      return "other";
  }
}

function readVerb(url: URL): ApiVerb {
  const watch = url.searchParams.get("watch");
  if (watch === "true" || watch === "1") return "watch";
  return isCollection(url.pathname) ? "list" : "get";
}

/**
 * Whether a resource path names a collection: what follows /api/v1 or /apis/GROUP/VERSION, with a
 * leading namespaces/NAME scope taken off, is one segment (`pods`), not a name or subresource after it.
 * /api/v1/namespaces is the collection of namespaces; /api/v1/namespaces/shop is one of them.
 */
export function isCollection(pathname: string): boolean {
  const segments = pathname.split("/").filter((segment) => segment !== "");
  const rest = segments[0] === "api" ? segments.slice(2) : segments[0] === "apis" ? segments.slice(3) : [];
  const unscoped = rest[0] === "namespaces" && rest.length >= 3 ? rest.slice(2) : rest;
  return unscoped.length === 1;
}

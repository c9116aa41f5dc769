import { BroadsideError, describeError, type ErrorCode } from "../core/errors.js";

/**
 * What a failed request to the API server means, whichever client sent it: client-node's typed APIs
 * reject with its ApiException, the wire client of the pod verbs (kube/wire/) with KubeApiError. Both
 * carry the HTTP status as a numeric `code` and the Status the server sent as `body`, which is all these
 * helpers read, so this module loads no client and a cold `kill` need not load client-node (issue 14).
 */

/** An answer of the API server other than success: its HTTP status, the body it sent, its headers. */
export interface ApiAnswer {
  readonly code: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The wire client's refusal: the same fields as client-node's ApiException. */
export class KubeApiError extends Error implements ApiAnswer {
  constructor(
    readonly code: number,
    message: string,
    readonly body: string,
    readonly headers: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

/**
 * An error that is an API answer: a numeric `code` (a BroadsideError's code is a string, a network error's
 * an errno string) and a `body`.
 */
export function isApiAnswer(error: unknown): error is ApiAnswer {
  return error instanceof Error && "code" in error && typeof error.code === "number" && "body" in error;
}

const networkErrorCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH"]);

/** The errno of a failed connection (node-fetch's FetchError carries it as `code`), else undefined. */
export function networkErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && networkErrorCodes.has(code) ? code : undefined;
}

/**
 * The catalog code of a failed request to the API server, as the CLI reports it: its own for a
 * BroadsideError, BRD_KUBE_UNREACHABLE when the server did not answer, BRD_KUBE_API when it answered
 * with an error, BRD_INTERNAL for anything else.
 */
export function kubeErrorCode(error: unknown): ErrorCode {
  if (error instanceof BroadsideError) return error.code;
  if (networkErrorCode(error) !== undefined) return "BRD_KUBE_UNREACHABLE";
  const status = apiStatus(error);
  if (status === 403) return "BRD_KUBE_FORBIDDEN";
  return status === undefined ? "BRD_INTERNAL" : "BRD_KUBE_API";
}

/** A failed request as a BroadsideError with `what` in front of its message and the code it deserves. */
export function kubeFailure(what: string, error: unknown): BroadsideError {
  return new BroadsideError(kubeErrorCode(error), `${what}: ${apiErrorMessage(error)}`, { cause: error });
}

/**
 * What the API server said about a failed request, in its own words: the message of the Status it sent
 * (for a 403 it names the user, the verb, the resource and the namespace), never client-node's dump of the
 * response headers. Anything that is not an API answer is described as it is.
 */
export function apiErrorMessage(error: unknown): string {
  if (!isApiAnswer(error)) return describeError(error);
  const said = statusMessage(error.body);
  const answer = `the Kubernetes API answered ${error.code}`;
  if (error.code === 403) {
    const refusal = said ?? "forbidden";
    return `${answer} (forbidden): ${refusal}; this identity's RBAC does not grant it, and nothing was changed by this request`;
  }
  return said === undefined ? answer : `${answer}: ${said}`;
}

/** The `message` of a Status body (client-node hands it over as JSON text), or undefined. */
function statusMessage(body: unknown): string | undefined {
  let parsed: unknown = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const message = (parsed as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" && message !== "" ? message : undefined;
}

/** The HTTP status of a failed API call, or undefined when the failure was not an HTTP answer. */
export function apiStatus(error: unknown): number | undefined {
  return isApiAnswer(error) ? error.code : undefined;
}

/** Runs `call`, treating 409 AlreadyExists as success: for idempotent creates. */
export async function createIfMissing(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error: unknown) {
    if (apiStatus(error) !== 409) throw error;
  }
}

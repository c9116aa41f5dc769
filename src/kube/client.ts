import {
  ApiException,
  AppsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  CustomObjectsApi,
  HttpMethod,
  ServerConfiguration,
  type Configuration,
} from "@kubernetes/client-node";
import { systemClock } from "../core/clock.js";
import { loadClusterConfig, type KubeconfigEnvironment } from "./kubeconfig.js";
import { BroadsideError, describeError, type ErrorCode } from "../core/errors.js";
import type { ApiRequestObserver } from "./api-request-observer.js";
import {
  defaultApiRateLimits,
  throttledHttpLibrary,
  type ApiRateLimits,
  type RequestCounter,
} from "./throttled-http.js";

/**
 * Where to find the cluster: a kubeconfig file (--kubeconfig, a sandbox's), else kubectl's search in
 * `environment` (KUBECONFIG, ~/.kube/config, in a pod). See kube/kubeconfig.ts.
 */
export interface ClusterAccess {
  readonly kubeconfigPath?: string;
  readonly environment?: KubeconfigEnvironment;
  readonly context?: string;
  /** Client-side rate limits of API requests; kubectl's defaults when not given. */
  readonly limits?: ApiRateLimits;
  /** Told of every request the typed clients send (the agent's metrics); nobody when not given. */
  readonly observer?: ApiRequestObserver;
}

/** The kubeconfig `access` names, loaded and checked (BRD_KUBECONFIG, BRD_USAGE for --context). */
export function loadAccessConfig(access: ClusterAccess): KubeConfig {
  const search =
    access.kubeconfigPath === undefined
      ? access.environment
      : { ...noSearch, flagPath: access.kubeconfigPath };
  if (search === undefined) {
    throw new BroadsideError(
      "BRD_INTERNAL",
      "connect() needs a kubeconfig file or the environment to search",
    );
  }
  return loadClusterConfig(search, access.context);
}

/** A search that only takes the file it is given. */
const noSearch: KubeconfigEnvironment = { home: "", inCluster: false };

/** The typed API groups Broadside uses, made once per process from one KubeConfig. */
export interface KubeClients {
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly policy: PolicyV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  /** TokenReview and SubjectAccessReview: who a bearer token is, and what it may do (access-review.ts). */
  readonly authentication: AuthenticationV1Api;
  readonly authorization: AuthorizationV1Api;
  /** Broadside's own resources (broadside.dev), for their status. */
  readonly custom: CustomObjectsApi;
  /** API requests sent so far through these clients (watches excluded). */
  readonly counter: RequestCounter;
  /** LISTs answered as the wire's JSON (listWire), for collections that grow with the cluster. */
  readonly wire: WireLists;
}

export interface WireLists {
  /** The items of the collection at `path` (e.g. /api/v1/namespaces/shop/pods), as sent. */
  list<T>(path: string): Promise<T[]>;
}

export function connect(access: ClusterAccess): KubeClients {
  const config = loadAccessConfig(access);
  const counter: RequestCounter = { requests: 0 };
  const limits = access.limits ?? defaultApiRateLimits;
  const configuration = throttledConfiguration(config, limits, counter, access.observer);
  return {
    config,
    core: new CoreV1Api(configuration),
    apps: new AppsV1Api(configuration),
    policy: new PolicyV1Api(configuration),
    rbac: new RbacAuthorizationV1Api(configuration),
    authentication: new AuthenticationV1Api(configuration),
    authorization: new AuthorizationV1Api(configuration),
    custom: new CustomObjectsApi(configuration),
    counter,
    wire: { list: (path) => listWire(configuration, path) },
  };
}

/**
 * The items of a LIST as the wire's JSON, through the typed clients' HTTP layer (throttled, kept-alive,
 * observed, authenticated the same way) but not through client-node's ObjectSerializer, which turns
 * every field of every item into its model class: 450 ms for 10,000 pods on this machine, on top of
 * the JSON parse, for objects planning reads a dozen fields of (issue 14). Timestamps stay strings, as
 * in watch events and the agent's informer cache. A refusal is an ApiException, as from a typed call.
 */
export async function listWire<T>(configuration: Configuration, path: string): Promise<T[]> {
  const request = configuration.baseServer.makeRequestContext(path, HttpMethod.GET);
  request.setHeaderParam("Accept", "application/json");
  await configuration.authMethods.default?.applySecurityAuthentication(request);
  const response = await configuration.httpApi.send(request).toPromise();
  const body = await response.body.text();
  if (response.httpStatusCode !== 200) {
    throw new ApiException<string>(
      response.httpStatusCode,
      `LIST ${path}: HTTP ${response.httpStatusCode}`,
      body,
      response.headers,
    );
  }
  const list = JSON.parse(body) as { items?: T[] | null };
  return list.items ?? [];
}

/** What KubeConfig.makeApiClient builds, with our throttled HTTP layer underneath. */
function throttledConfiguration(
  config: KubeConfig,
  limits: ApiRateLimits,
  counter: RequestCounter,
  observer: ApiRequestObserver | undefined,
): Configuration {
  const cluster = config.getCurrentCluster();
  if (cluster === null)
    throw new BroadsideError("BRD_USAGE", "--kubeconfig: the kubeconfig has no current cluster");
  return createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: config },
    httpApi: throttledHttpLibrary(limits, systemClock, counter, observer),
  });
}

/**
 * The namespace of the kubeconfig's current context, else "default": where commands act without
 * -n/--namespace, as kubectl does.
 */
export function contextNamespace(config: KubeConfig): string {
  return config.getContextObject(config.getCurrentContext())?.namespace ?? "default";
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
  if (!(error instanceof ApiException)) return describeError(error);
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
  return error instanceof ApiException ? error.code : undefined;
}

/** Runs `call`, treating 409 AlreadyExists as success: for idempotent creates. */
export async function createIfMissing(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error: unknown) {
    if (apiStatus(error) !== 409) throw error;
  }
}

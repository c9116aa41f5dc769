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
  PatchStrategy,
  ServerConfiguration,
  setHeaderOptions,
  type Configuration,
  type ConfigurationOptions,
  type V1Pod,
} from "@kubernetes/client-node";
import { systemClock } from "../core/clock.js";
import { loadClusterConfig, type KubeconfigEnvironment } from "./kubeconfig.js";
import { BroadsideError } from "../core/errors.js";
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
  /** The options that make a typed PATCH a JSON Patch (engine-kube.ts). */
  readonly jsonPatch: ConfigurationOptions;
}

// client-node 1.4 picks the first content type the API lists for PATCH, which is JSON Patch today; the
// header is set explicitly so that a reordered list in a later release cannot turn `test` operations into
// a merge patch that silently ignores them.
const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

export interface WireLists {
  /**
   * The pods of the pod collection at `path` (e.g. /api/v1/namespaces/shop/pods): the wire's JSON, or
   * (the wire client's) only the fields kube/trimmed.ts trimPod keeps, which is all the engine reads.
   */
  pods(path: string): Promise<V1Pod[]>;
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
    wire: { pods: (path) => listWire<V1Pod>(configuration, path) },
    jsonPatch,
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

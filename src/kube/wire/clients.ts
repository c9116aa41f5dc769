import type {
  V1ConfigMap,
  V1ConfigMapList,
  V1DaemonSet,
  V1Deployment,
  V1Eviction,
  V1Namespace,
  V1NamespaceList,
  V1Pod,
  V1PodDisruptionBudgetList,
  V1ReplicaSet,
  V1ReplicaSetList,
  V1Secret,
  V1SecretList,
  V1StatefulSet,
} from "@kubernetes/client-node";
import type {
  EngineAppsCalls,
  EngineCoreCalls,
  EngineCustomCalls,
  EngineKube,
  EnginePolicyCalls,
} from "../engine-kube.js";
import type { WireTransport } from "./transport.js";

/**
 * The engine's API calls (engine-kube.ts) over the wire transport: each typed call becomes its REST
 * request, answered with the server's JSON. Where client-node would hand back model classes, these hand
 * back the JSON, with one difference the adapters can see, made good here: client-node turns the
 * timestamps of an object's metadata into Dates (the ledger and the kill switch read creationTimestamp
 * as one), so those two fields are turned into Dates too. Nothing else is: the adapters read no other
 * time from a typed call (the pod LISTs are wire JSON either way, pod-facts.ts).
 */

interface ItemParams {
  readonly namespace: string;
  readonly name: string;
  readonly body?: unknown;
}

interface CollectionParams {
  readonly namespace: string;
  readonly body?: unknown;
}

/** Query parameters of a call: every field but the path's and the body, as client-node sends them. */
function query(params: object): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (key === "namespace" || key === "name" || key === "body" || value === undefined) continue;
    search.set(key === "_continue" ? "continue" : key, String(value));
  }
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

const segment = encodeURIComponent;

/** metadata.creationTimestamp and deletionTimestamp as Dates, on an object or on each item of a list. */
export function withMetadataDates<T>(value: T): T {
  const revive = (object: unknown): void => {
    const metadata: unknown = (object as { metadata?: unknown } | null)?.metadata;
    if (typeof metadata !== "object" || metadata === null) return;
    const fields = metadata as Record<string, unknown>;
    for (const field of ["creationTimestamp", "deletionTimestamp"]) {
      const text = fields[field];
      if (typeof text === "string") fields[field] = new Date(text);
    }
  };
  revive(value);
  const items = (value as { items?: unknown } | null)?.items;
  if (Array.isArray(items)) items.forEach(revive);
  return value;
}

const jsonPatchType = "application/json-patch+json";

/** The REST calls of one namespaced resource, e.g. ("/api/v1", "configmaps"). */
function namespaced<T, List = never>(transport: WireTransport, base: string, plural: string) {
  const collection = (params: { readonly namespace: string }): string =>
    `${base}/namespaces/${segment(params.namespace)}/${plural}`;
  const item = (params: ItemParams): string => `${collection(params)}/${segment(params.name)}`;
  const call = async <R>(request: Parameters<WireTransport["json"]>[0]): Promise<R> =>
    withMetadataDates(await transport.json<R>(request));
  return {
    read: (params: ItemParams) => call<T>({ method: "GET", path: `${item(params)}${query(params)}` }),
    list: (params: CollectionParams) =>
      call<List>({ method: "GET", path: `${collection(params)}${query(params)}` }),
    create: (params: CollectionParams) =>
      call<T>({ method: "POST", path: `${collection(params)}${query(params)}`, body: params.body }),
    replace: (params: ItemParams) =>
      call<T>({ method: "PUT", path: `${item(params)}${query(params)}`, body: params.body }),
    patch: (params: ItemParams) =>
      call<T>({
        method: "PATCH",
        path: `${item(params)}${query(params)}`,
        body: params.body,
        contentType: jsonPatchType,
      }),
    delete: (params: ItemParams) =>
      call<T>({ method: "DELETE", path: `${item(params)}${query(params)}`, body: params.body }),
    /** A subresource created by POST, e.g. a pod's eviction. */
    createSub: <R>(sub: string, params: ItemParams) =>
      call<R>({ method: "POST", path: `${item(params)}/${sub}${query(params)}`, body: params.body }),
    /** The collection across every namespace. */
    listAll: (params: object = {}) =>
      call<List>({ method: "GET", path: `${base}/${plural}${query(params)}` }),
  };
}

function coreCalls(transport: WireTransport): EngineCoreCalls {
  const configMaps = namespaced<V1ConfigMap, V1ConfigMapList>(transport, "/api/v1", "configmaps");
  const secrets = namespaced<V1Secret, V1SecretList>(transport, "/api/v1", "secrets");
  const pods = namespaced<V1Pod>(transport, "/api/v1", "pods");
  const namespaces = async <R>(path: string, body?: unknown): Promise<R> =>
    withMetadataDates(
      await transport.json<R>(body === undefined ? { method: "GET", path } : { method: "POST", path, body }),
    );
  return {
    readNamespacedConfigMap: configMaps.read,
    createNamespacedConfigMap: configMaps.create,
    replaceNamespacedConfigMap: configMaps.replace,
    listNamespacedConfigMap: configMaps.list,
    deleteNamespacedConfigMap: configMaps.delete,
    patchNamespacedConfigMap: configMaps.patch,
    readNamespacedSecret: secrets.read,
    createNamespacedSecret: secrets.create,
    listNamespacedSecret: secrets.list,
    deleteNamespacedSecret: secrets.delete,
    patchNamespacedSecret: secrets.patch,
    createNamespace: (params) => namespaces<V1Namespace>("/api/v1/namespaces", params.body),
    readNamespace: (params) => namespaces<V1Namespace>(`/api/v1/namespaces/${segment(params.name)}`),
    listNamespace: (params = {}) => namespaces<V1NamespaceList>(`/api/v1/namespaces${query(params)}`),
    readNamespacedPod: pods.read,
    patchNamespacedPod: pods.patch,
    deleteNamespacedPod: pods.delete,
    createNamespacedPodEviction: (params) => pods.createSub<V1Eviction>("eviction", params),
  };
}

function appsCalls(transport: WireTransport): EngineAppsCalls {
  const deployments = namespaced<V1Deployment>(transport, "/apis/apps/v1", "deployments");
  const statefulSets = namespaced<V1StatefulSet>(transport, "/apis/apps/v1", "statefulsets");
  const daemonSets = namespaced<V1DaemonSet>(transport, "/apis/apps/v1", "daemonsets");
  const replicaSets = namespaced<V1ReplicaSet, V1ReplicaSetList>(transport, "/apis/apps/v1", "replicasets");
  return {
    readNamespacedDeployment: deployments.read,
    patchNamespacedDeployment: deployments.patch,
    readNamespacedStatefulSet: statefulSets.read,
    patchNamespacedStatefulSet: statefulSets.patch,
    readNamespacedDaemonSet: daemonSets.read,
    patchNamespacedDaemonSet: daemonSets.patch,
    readNamespacedReplicaSet: replicaSets.read,
    listNamespacedReplicaSet: replicaSets.list,
    listReplicaSetForAllNamespaces: replicaSets.listAll,
  };
}

function policyCalls(transport: WireTransport): EnginePolicyCalls {
  const budgets = namespaced<never, V1PodDisruptionBudgetList>(
    transport,
    "/apis/policy/v1",
    "poddisruptionbudgets",
  );
  return { listNamespacedPodDisruptionBudget: budgets.list };
}

interface CustomItemParams {
  readonly group: string;
  readonly version: string;
  readonly namespace: string;
  readonly plural: string;
  readonly name: string;
  readonly body?: unknown;
  readonly fieldManager?: string;
}

function customCalls(transport: WireTransport): EngineCustomCalls {
  const item = (params: CustomItemParams): string =>
    `/apis/${segment(params.group)}/${segment(params.version)}/namespaces/${segment(params.namespace)}/` +
    `${segment(params.plural)}/${segment(params.name)}`;
  return {
    getNamespacedCustomObject: async (params: CustomItemParams) =>
      withMetadataDates(await transport.json<object>({ method: "GET", path: item(params) })),
    patchNamespacedCustomObject: async (params: CustomItemParams) =>
      withMetadataDates(
        await transport.json<object>({
          method: "PATCH",
          path: `${item(params)}${query({ fieldManager: params.fieldManager })}`,
          body: params.body,
          contentType: jsonPatchType,
        }),
      ),
  };
}

/** The engine's calls over `transport`. */
export function wireEngineKube(transport: WireTransport): EngineKube {
  return {
    core: coreCalls(transport),
    apps: appsCalls(transport),
    policy: policyCalls(transport),
    custom: customCalls(transport),
    wire: { pods: (path) => transport.pods(path) },
    counter: transport.counter,
    jsonPatch: undefined,
  };
}

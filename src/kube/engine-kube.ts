import type {
  AppsV1Api,
  ConfigurationOptions,
  CoreV1Api,
  CustomObjectsApi,
  PolicyV1Api,
} from "@kubernetes/client-node";
import type { WireLists } from "./client.js";
import type { RequestCounter } from "./rate-limits.js";

/**
 * The API calls the engine's adapters (pods.ts, objects.ts, pod-facts.ts, ledger-store.ts,
 * halt-switch.ts) make, and nothing more: client-node's typed clients provide them (connect() in
 * client.ts), and so does the wire client of the pod verbs (wire/clients.ts), which answers the same
 * calls over node:https without loading client-node (issue 14, ADR 0024). Naming the calls keeps the two
 * honest: a call the adapters start to make must be added here, and then to the wire client.
 */
export type EngineCoreCalls = Pick<
  CoreV1Api,
  | "readNamespacedConfigMap"
  | "createNamespacedConfigMap"
  | "replaceNamespacedConfigMap"
  | "listNamespacedConfigMap"
  | "deleteNamespacedConfigMap"
  | "patchNamespacedConfigMap"
  | "readNamespacedSecret"
  | "createNamespacedSecret"
  | "listNamespacedSecret"
  | "deleteNamespacedSecret"
  | "patchNamespacedSecret"
  | "createNamespace"
  | "readNamespace"
  | "listNamespace"
  | "readNamespacedPod"
  | "patchNamespacedPod"
  | "deleteNamespacedPod"
  | "createNamespacedPodEviction"
>;

export type EngineAppsCalls = Pick<
  AppsV1Api,
  | "readNamespacedDeployment"
  | "patchNamespacedDeployment"
  | "readNamespacedStatefulSet"
  | "patchNamespacedStatefulSet"
  | "readNamespacedDaemonSet"
  | "patchNamespacedDaemonSet"
  | "readNamespacedReplicaSet"
  | "listNamespacedReplicaSet"
  | "listReplicaSetForAllNamespaces"
>;

export type EnginePolicyCalls = Pick<PolicyV1Api, "listNamespacedPodDisruptionBudget">;

/**
 * Namespaced custom resources: a GitOps controller's own objects, whose reconcile interval a duel sets
 * (issue 13, ADR 0034) through a ledger record like any other change.
 */
export type EngineCustomCalls = Pick<
  CustomObjectsApi,
  "getNamespacedCustomObject" | "patchNamespacedCustomObject"
>;

export interface EngineKube {
  readonly core: EngineCoreCalls;
  readonly apps: EngineAppsCalls;
  readonly policy: EnginePolicyCalls;
  readonly custom: EngineCustomCalls;
  /** LISTs answered as the wire's JSON, for collections that grow with the cluster. */
  readonly wire: WireLists;
  /** API requests sent so far (watches excluded). */
  readonly counter: RequestCounter;
  /**
   * The per-call options that make a PATCH a JSON Patch: client-node's typed clients need them (they
   * would otherwise pick the content type themselves); the wire client sends every PATCH as one.
   */
  readonly jsonPatch: ConfigurationOptions | undefined;
}

import {
  checkoutConfig,
  demoDeployment,
  demoNamespaces,
  demoService,
  demoWorkloads,
  storefrontBudget,
  storefrontFlags,
} from "./fleet.js";

/**
 * The demo fleet as manifests (each with its apiVersion and kind), for `sandbox up --with flux
 * --flux-interval D`, which commits them to the sandbox's Git repository for Flux to apply. The same
 * objects the demo creates, except that no Service asks for a front-door port (the traffic process picks
 * free ones), and one ConfigMap more, storefront-flags, which a duel deletes.
 */
export function demoFleetManifests(): object[] {
  return [
    ...demoNamespaces().map((namespace) => manifest("v1", "Namespace", namespace)),
    ...demoWorkloads.flatMap((workload) => [
      manifest("apps/v1", "Deployment", demoDeployment(workload)),
      manifest("v1", "Service", demoService(workload, undefined)),
    ]),
    manifest("policy/v1", "PodDisruptionBudget", storefrontBudget()),
    manifest("v1", "ConfigMap", checkoutConfig()),
    manifest("v1", "ConfigMap", storefrontFlags()),
  ];
}

/** The object's own fields after its apiVersion and kind, which the typed clients add when they send it. */
function manifest(apiVersion: string, kind: string, object: object): object {
  return Object.assign({ apiVersion, kind }, object);
}

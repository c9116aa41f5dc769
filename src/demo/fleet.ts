import type {
  V1ConfigMap,
  V1Deployment,
  V1Namespace,
  V1PodDisruptionBudget,
  V1Service,
} from "@kubernetes/client-node";
import { frontDoorPortAnnotation } from "../sandbox/traffic/front-door-port.js";
import { serveLabel, serveLabelValue } from "../sandbox/traffic/behaviour.js";

/**
 * The demo's fleet: a few namespaces, Deployments of 1, 2 and 3 replicas, a PDB and a ConfigMap. Every
 * Deployment and Service opts in to the sandbox's real traffic, so each Service answers HTTP on its front
 * door, http://127.0.0.1:<frontDoorPort>/, served by the sandbox's traffic process.
 */
export interface DemoWorkload {
  readonly namespace: string;
  readonly name: string;
  readonly replicas: number;
  /** The fixed 127.0.0.1 port of the Service's front door (annotation broadside.dev/front-door-port). */
  readonly frontDoorPort: number;
}

export const demoLabel = "broadside.dev/demo";

/** The front doors' fixed ports, for probes and examples: http://127.0.0.1:<port>/. */
export const checkoutFrontDoorPort = 18080;
export const storefrontFrontDoorPort = 18081;
export const ledgerWriterFrontDoorPort = 18082;

export const storefront: DemoWorkload = {
  namespace: "demo-shop",
  name: "storefront",
  replicas: 3,
  frontDoorPort: storefrontFrontDoorPort,
};
export const checkout: DemoWorkload = {
  namespace: "demo-payments",
  name: "checkout",
  replicas: 2,
  frontDoorPort: checkoutFrontDoorPort,
};
export const ledgerWriter: DemoWorkload = {
  namespace: "demo-batch",
  name: "ledger-writer",
  replicas: 1,
  frontDoorPort: ledgerWriterFrontDoorPort,
};
export const demoWorkloads = [storefront, checkout, ledgerWriter] as const;

export function demoNamespaces(): V1Namespace[] {
  return [...new Set(demoWorkloads.map((w) => w.namespace))].map((name) => ({
    metadata: {
      name,
      labels: { [demoLabel]: "true" },
      // The opt-in annotation of Broadside's safety rails: these namespaces may be targeted.
      annotations: { "broadside.dev/chaos": "enabled" },
    },
  }));
}

export function demoDeployment(workload: DemoWorkload): V1Deployment {
  const labels = { app: workload.name, [demoLabel]: "true" };
  return {
    metadata: { name: workload.name, namespace: workload.namespace, labels },
    spec: {
      replicas: workload.replicas,
      selector: { matchLabels: { app: workload.name } },
      template: {
        // The serve label gives each Ready pod a real HTTP listener on loopback (src/sandbox/traffic/).
        metadata: { labels: { ...labels, [serveLabel]: serveLabelValue } },
        spec: {
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: "app",
              image: "ghcr.io/stefanprodan/podinfo:6.7.1",
              ports: [{ name: "http", containerPort: 9898 }],
              // What podinfo's chart declares. kwok does not run probes (it marks pods Ready on its own
              // schedule), so this is for realism and for readers of the manifests.
              readinessProbe: { httpGet: { path: "/readyz", port: "http" }, periodSeconds: 5 },
              resources: {
                requests: { cpu: "100m", memory: "64Mi" },
                limits: { cpu: "500m", memory: "128Mi" },
              },
            },
          ],
        },
      },
    },
  };
}

export function demoService(workload: DemoWorkload): V1Service {
  return {
    metadata: {
      name: workload.name,
      namespace: workload.namespace,
      labels: { [demoLabel]: "true", [serveLabel]: serveLabelValue },
      annotations: { [frontDoorPortAnnotation]: String(workload.frontDoorPort) },
    },
    spec: { selector: { app: workload.name }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
  };
}

/** The storefront keeps at least 2 of its 3 pods through voluntary disruptions such as evictions. */
export function storefrontBudget(): V1PodDisruptionBudget {
  return {
    metadata: { name: storefront.name, namespace: storefront.namespace },
    spec: { minAvailable: 2, selector: { matchLabels: { app: storefront.name } } },
  };
}

export function checkoutConfig(): V1ConfigMap {
  return {
    metadata: { name: "checkout-config", namespace: checkout.namespace, labels: { [demoLabel]: "true" } },
    data: { "payment.timeout": "5s", "feature.express-checkout": "true" },
  };
}

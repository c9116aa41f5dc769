import type {
  V1ConfigMap,
  V1Deployment,
  V1Namespace,
  V1PodDisruptionBudget,
  V1Service,
} from "@kubernetes/client-node";
import { frontDoorPortAnnotation } from "../sandbox/traffic/front-door-port.js";
import { serveLabel, serveLabelValue } from "../sandbox/traffic/behaviour.js";
import { checkout, demoWorkloads, storefront, type DemoWorkload } from "./workloads.js";

export { checkout, demoWorkloads, ledgerWriter, storefront, type DemoWorkload } from "./workloads.js";

/**
 * The demo's fleet: a few namespaces, Deployments of 1, 2 and 3 replicas, a PDB and a ConfigMap (checkout
 * mounts it, so a GameDay's fog has a config to drift). Every
 * Deployment and Service opts in to the sandbox's real traffic, so each Service answers HTTP on its front
 * door on 127.0.0.1, served by the sandbox's traffic process, at the port the user chose
 * (front-door-ports.ts) or one the traffic process picks. Experiments name a door, not its port:
 * front-door://checkout.demo-payments/.
 */
export const demoLabel = "broadside.dev/demo";

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

/** The ConfigMap checkout reads, mounted as files: a GameDay's fog drifts one of its keys. */
const checkoutConfigName = "checkout-config";

/** The ConfigMap volume and mount of a workload that reads one (checkout), none for the others. */
function configMount(workload: DemoWorkload) {
  if (workload.name !== checkout.name || workload.namespace !== checkout.namespace) return undefined;
  return {
    volume: { name: "config", configMap: { name: checkoutConfigName } },
    mount: { name: "config", mountPath: "/etc/checkout", readOnly: true },
  };
}

export function demoDeployment(workload: DemoWorkload): V1Deployment {
  const labels = { app: workload.name, [demoLabel]: "true" };
  const config = configMount(workload);
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
          ...(config === undefined ? {} : { volumes: [config.volume] }),
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
              ...(config === undefined ? {} : { volumeMounts: [config.mount] }),
            },
          ],
        },
      },
    },
  };
}

/** The workload's Service; its front door listens on `frontDoorPort`, or on a free port when undefined. */
export function demoService(workload: DemoWorkload, frontDoorPort: number | undefined): V1Service {
  return {
    metadata: {
      name: workload.name,
      namespace: workload.namespace,
      labels: { [demoLabel]: "true", [serveLabel]: serveLabelValue },
      annotations: frontDoorAnnotations(frontDoorPort),
    },
    spec: { selector: { app: workload.name }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
  };
}

/** The Service's front-door annotation: the port, or none (the traffic process picks a free one). */
export function frontDoorAnnotations(port: number | undefined): Record<string, string> {
  return port === undefined ? {} : { [frontDoorPortAnnotation]: String(port) };
}

/** The storefront keeps at least 2 of its 3 pods through voluntary disruptions such as evictions. */
export function storefrontBudget(): V1PodDisruptionBudget {
  return {
    metadata: { name: storefront.name, namespace: storefront.namespace },
    spec: { minAvailable: 2, selector: { matchLabels: { app: storefront.name } } },
  };
}

/**
 * Flags of the storefront that no pod reads yet: in the Flux fleet only, the ConfigMap a duel deletes
 * (issue 13), apart from checkout-config, which the duel's other attacks drift in the same round.
 */
export function storefrontFlags(): V1ConfigMap {
  return {
    metadata: { name: "storefront-flags", namespace: storefront.namespace, labels: { [demoLabel]: "true" } },
    data: { "banner.text": "Welcome", "feature.reviews": "on" },
  };
}

export function checkoutConfig(): V1ConfigMap {
  return {
    metadata: { name: checkoutConfigName, namespace: checkout.namespace, labels: { [demoLabel]: "true" } },
    data: { "payment.timeout": "5s", "feature.express-checkout": "true" },
  };
}

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { crdFileNames, installPaths, renderedHeader } from "./install-manifest.js";

/**
 * The install files, checked without helm (the integration tier renders the chart for real): the chart's
 * CRDs are deploy/crds/ exactly, and the committed deploy/broadside.yaml holds those CRDs and installs
 * the agent as docs/agent.md says, with nothing cluster-wide but reads by name.
 */

const paths = installPaths(fileURLToPath(new URL("../..", import.meta.url)));

interface Manifest {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly [field: string]: unknown;
}

interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

async function renderedObjects(): Promise<Manifest[]> {
  const text = await readFile(paths.rendered, "utf8");
  return parseAllDocuments(text)
    .map((document) => document.toJS() as Manifest | null)
    .filter((object): object is Manifest => object !== null);
}

function find(objects: readonly Manifest[], kind: string, name: string, namespace?: string): Manifest {
  const found = objects.find(
    (object) =>
      object.kind === kind && object.metadata.name === name && object.metadata.namespace === namespace,
  );
  if (found === undefined)
    throw new Error(`${kind} ${namespace ?? ""}/${name} is not in deploy/broadside.yaml`);
  return found;
}

describe("the chart's CRDs", () => {
  it("are deploy/crds/ exactly, file for file and byte for byte (npm run crds copies them)", async () => {
    const names = await crdFileNames(paths.crds);
    expect(await crdFileNames(paths.chartCrds)).toEqual(names);
    for (const name of names) {
      const chartCopy = await readFile(join(paths.chartCrds, name), "utf8");
      expect(chartCopy, `deploy/helm/broadside/crds/${name}`).toBe(
        await readFile(join(paths.crds, name), "utf8"),
      );
    }
  });

  it("leave out the chaos-mesh.org drop-in's CRDs, which a real Chaos Mesh would own", async () => {
    expect((await crdFileNames(paths.chartCrds)).some((name) => name.includes("chaos-mesh"))).toBe(false);
  });
});

describe("deploy/broadside.yaml, the chart rendered with its defaults", () => {
  it("says how it was made, and holds every CRD of deploy/crds/ as it is", async () => {
    const text = await readFile(paths.rendered, "utf8");
    expect(text.startsWith(renderedHeader)).toBe(true);
    for (const name of await crdFileNames(paths.crds)) {
      expect(text, `deploy/crds/${name} in deploy/broadside.yaml`).toContain(
        await readFile(join(paths.crds, name), "utf8"),
      );
    }
  });

  it("runs two leader-elected replicas, non-root on a read-only root, probed on /healthz and /readyz", async () => {
    const deployment = find(
      await renderedObjects(),
      "Deployment",
      "broadside-agent",
      "broadside-system",
    ) as Manifest & {
      spec: { replicas: number; template: { spec: PodSpec } };
    };
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    expect(pod.serviceAccountName).toBe("broadside-agent");
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    const [agent] = pod.containers;
    expect(agent?.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(agent?.args).toEqual(
      expect.arrayContaining(["agent", "--watch-namespaces=default", "--metrics-bind-address=0.0.0.0:8080"]),
    );
    expect(agent?.args.some((arg) => arg.includes("--no-leader-elect"))).toBe(false);
    expect(agent?.livenessProbe.httpGet.path).toBe("/healthz");
    expect(agent?.readinessProbe.httpGet.path).toBe("/readyz");
  });

  it("is namespaced: nothing cluster-wide but reading its CRDs and its namespaces, each by name", async () => {
    const objects = await renderedObjects();
    const clusterRoles = objects.filter((object) => object.kind === "ClusterRole");
    expect(clusterRoles.map((role) => role.metadata.name).sort()).toEqual([
      "broadside-agent-crds",
      "broadside-agent-namespaces",
    ]);
    for (const role of clusterRoles) {
      for (const rule of role.rules as Rule[]) {
        expect(rule.verbs, role.metadata.name).toEqual(["get"]);
        expect(rule.resourceNames?.length, role.metadata.name).toBeGreaterThan(0);
      }
    }
    const namespaces = find(objects, "ClusterRole", "broadside-agent-namespaces").rules as Rule[];
    expect(namespaces[0]?.resourceNames).toEqual(["default"]);
  });

  it("grants pods and the object faults' kinds only in the watched namespace", async () => {
    const objects = await renderedObjects();
    const roles = objects.filter((object) => object.kind === "Role");
    expect(roles.map((role) => role.metadata.namespace).sort()).toEqual(["broadside-system", "default"]);
    const target = find(objects, "Role", "broadside-agent", "default").rules as Rule[];
    const grants = (resource: string) =>
      target.filter((rule) => rule.resources.includes(resource)).flatMap((rule) => rule.verbs);
    // delete kills; patch swaps images for pod-failure and puts them back; never create or update.
    expect(grants("pods").sort()).toEqual(["delete", "get", "list", "patch", "watch"]);
    expect(grants("pods/eviction")).toEqual(["create"]);
    expect(grants("deployments")).toEqual(expect.arrayContaining(["get", "patch"]));
    expect(grants("podchaos/status")).toEqual(expect.arrayContaining(["update", "patch"]));
    expect(grants("events")).toContain("create");
    expect(grants("secrets")).toEqual([]);
  });
});

interface PodSpec {
  readonly serviceAccountName: string;
  readonly securityContext: { readonly runAsNonRoot: boolean };
  readonly containers: readonly {
    readonly args: readonly string[];
    readonly securityContext: Record<string, unknown>;
    readonly livenessProbe: { readonly httpGet: { readonly path: string } };
    readonly readinessProbe: { readonly httpGet: { readonly path: string } };
  }[];
}

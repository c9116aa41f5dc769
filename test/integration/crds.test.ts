import type { KubernetesObject } from "@kubernetes/client-node";
import { ApiException, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { crdFiles } from "../../src/agent/crds/generate.js";
import { adminClients, broadside, eventually, kubectl, repoRoot, useTestNamespace } from "./harness.js";

/**
 * deploy/crds/ against a real API server: every CRD is accepted by server-side apply (the API server's own
 * check of structural schemas and of the CEL rules' cost), becomes Established, takes every in-cluster
 * example, and refuses each kind of bad object with the field named, as `broadside run` refuses the file.
 */

const fieldManager = "broadside-crds-test";

interface Crd extends KubernetesObject {
  spec: {
    group: string;
    names: { kind: string; plural: string };
    versions: { additionalPrinterColumns?: { name: string }[] }[];
  };
  status?: { conditions?: { type: string; status: string }[] };
}

const crds = crdFiles().map((file) => file.crd as unknown as Crd);
let api: KubernetesObjectApi;
/** CRDs this test installed, removed again after it (a CRD already there is left as found). */
const installed: Crd[] = [];

function apply<T extends KubernetesObject>(object: T): Promise<T> {
  return api.patch(object, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
}

/** What api.read needs to find a CRD. */
function header(crd: Crd): { apiVersion: string; kind: string; metadata: { name: string } } {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: crd.metadata?.name ?? "" },
  };
}

async function exists(crd: Crd): Promise<boolean> {
  try {
    await api.read(header(crd));
    return true;
  } catch (error: unknown) {
    if (error instanceof ApiException && error.code === 404) return false;
    throw error;
  }
}

function isEstablished(crd: Crd): boolean {
  return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false;
}

/**
 * The CRDs go in as a user installs them, `kubectl apply --server-side -f deploy/crds/`, from the committed
 * files. (client-node's serializer maps a CRD through its typed model, whose property names for `enum` and
 * `x-kubernetes-validations` differ from the JSON's: a plain CRD object sent through it loses both.)
 */
beforeAll(async () => {
  api = KubernetesObjectApi.makeApiClient(adminClients().config);
  for (const crd of crds) if (!(await exists(crd))) installed.push(crd);
  const applied = await kubectl(
    inject("adminKubeconfig"),
    "apply",
    "--server-side",
    `--field-manager=${fieldManager}`,
    "--force-conflicts",
    "-f",
    join(repoRoot, "deploy", "crds"),
    "-f",
    join(repoRoot, "deploy", "crds", "chaos-mesh"),
  );
  expect(applied.code, applied.stderr).toBe(0);
  for (const crd of crds) {
    await eventually(`${crd.metadata?.name} Established`, async () =>
      isEstablished(await api.read<Crd>(header(crd))) ? true : undefined,
    );
  }
});

afterAll(async () => {
  for (const crd of installed) await api.delete(header(crd));
});

const namespace = useTestNamespace("crds");

/** A YAML manifest's object, moved into the test's namespace. */
function inTestNamespace(text: string): KubernetesObject {
  const object = parse(text) as { metadata: Record<string, unknown> };
  return { ...object, metadata: { ...object.metadata, namespace: namespace() } };
}

async function objectIn(path: string): Promise<KubernetesObject> {
  return inTestNamespace(await readFile(path, "utf8"));
}

/** The message of the Status the API server answered with (client-node hands it over as JSON text). */
function statusMessage(body: unknown): string {
  const status: unknown = typeof body === "string" ? JSON.parse(body) : body;
  return typeof status === "object" && status !== null && "message" in status
    ? String(status.message)
    : JSON.stringify(body);
}

/** The API server's refusal of `object`: its status code and message. */
async function refusal(object: KubernetesObject): Promise<{ code: number; message: string }> {
  try {
    await apply(object);
  } catch (error: unknown) {
    if (!(error instanceof ApiException)) throw error;
    return { code: error.code, message: statusMessage(error.body) };
  }
  throw new Error(`${object.kind} ${object.metadata?.name} was accepted`);
}

describe("deploy/crds/ on a real API server", () => {
  it("installs every CRD, Established, with its printer columns", async () => {
    for (const crd of crds) {
      const stored = await api.read<Crd>(header(crd));
      expect(isEstablished(stored)).toBe(true);
      const columns = stored.spec.versions[0]?.additionalPrinterColumns?.map((column) => column.name);
      expect(columns, crd.metadata?.name).toEqual(
        crd.spec.versions[0]?.additionalPrinterColumns?.map((column) => column.name),
      );
    }
  });

  it("marks the chaos-mesh.org CRDs as Broadside's", async () => {
    const stored = await api.read({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "podchaos.chaos-mesh.org" },
    });
    expect(stored.metadata?.annotations?.["broadside.dev/installed-by"]).toBe("broadside");
  });
});

describe("the examples are accepted", () => {
  it("every file of examples/in-cluster/ and every Experiment of examples/", async () => {
    const inCluster = (await readdir(join(repoRoot, "examples", "in-cluster"))).map((file) =>
      join(repoRoot, "examples", "in-cluster", file),
    );
    const experiments = (await readdir(join(repoRoot, "examples")))
      .filter((file) => file.startsWith("experiment-"))
      .map((file) => join(repoRoot, "examples", file));
    expect(inCluster.length).toBeGreaterThanOrEqual(6);
    for (const path of [...inCluster, ...experiments]) {
      const object = await objectIn(path);
      const stored = await apply(object);
      expect(stored.metadata?.uid, path).toBeDefined();
    }
  });

  it("a Chaos Mesh manifest unchanged, under the chaos-mesh.org drop-ins", async () => {
    for (const file of [
      "chaos-mesh-podchaos.yaml",
      "chaos-mesh-podfailure.yaml",
      "chaos-mesh-podchaos-container-kill.yaml",
      "chaos-mesh-schedule.yaml",
      "chaos-mesh-schedule-podfailure.yaml",
    ]) {
      const stored = await apply(await objectIn(join(repoRoot, "examples", file)));
      expect(stored.apiVersion).toBe("chaos-mesh.org/v1alpha1");
    }
  });

  it("what broadside convert writes from each Chaos Mesh PodChaos and Schedule of examples/", async () => {
    const manifests = (await readdir(join(repoRoot, "examples"))).filter(
      (file) =>
        file === "chaos-mesh-podchaos.yaml" ||
        file === "chaos-mesh-podfailure.yaml" ||
        file === "chaos-mesh-podchaos-container-kill.yaml" ||
        file.startsWith("chaos-mesh-schedule") ||
        file.startsWith("schedule-"),
    );
    expect(manifests.length).toBeGreaterThanOrEqual(5);
    for (const file of manifests) {
      const converted = await broadside("convert", join(repoRoot, "examples", file));
      expect(converted.code, converted.stderr).toBe(0);
      const stored = await apply(inTestNamespace(converted.stdout));
      expect(stored.apiVersion, file).toBe("broadside.dev/v1alpha1");
    }
  });

  it("kubectl get shows the printer columns", async () => {
    const listed = await kubectl(
      inject("adminKubeconfig"),
      "get",
      "podchaos.broadside.dev",
      "-n",
      namespace(),
    );
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.split("\n")[0]?.split(/\s+/)).toEqual([
      "NAME",
      "ACTION",
      "MODE",
      "INJECTED",
      "RECOVERED",
      "PAUSED",
      "AGE",
    ]);
    expect(listed.stdout).toMatch(/storefront-pod-kill\s+pod-kill\s+fixed\s+/);
  });
});

function podChaos(name: string, spec: Record<string, unknown>): KubernetesObject {
  return {
    apiVersion: "broadside.dev/v1alpha1",
    kind: "PodChaos",
    metadata: { name, namespace: namespace() },
    spec: { action: "pod-kill", mode: "one", selector: { namespaces: ["shop"] }, ...spec },
  } as KubernetesObject;
}

function resource(kind: string, spec: Record<string, unknown>): KubernetesObject {
  return {
    apiVersion: "broadside.dev/v1alpha1",
    kind,
    metadata: { name: "bad", namespace: namespace() },
    spec,
  } as KubernetesObject;
}

const scheduled = { action: "pod-kill", mode: "one", selector: { namespaces: ["shop"] } };
const drift = { namespace: "shop", kind: "configmap", name: "c", key: "k", value: "v" };

/** What is wrong, the object, the field the refusal names, its words, and the status code if not 422. */
const badObjects: [string, () => KubernetesObject, string, RegExp, number?][] = [
  [
    "a mode that does not exist",
    () => podChaos("bad", { mode: "some" }),
    "spec.mode",
    /Unsupported value: "some"/,
  ],
  [
    "fixed without a value",
    () => podChaos("bad", { mode: "fixed" }),
    "spec.value",
    /is required for mode fixed/,
  ],
  [
    "a percentage over 100",
    () => podChaos("bad", { mode: "fixed-percent", value: "150" }),
    "spec.value",
    /1 to 100/,
  ],
  ["a negative duration", () => podChaos("bad", { duration: "-5s" }), "spec.duration", /should match/],
  [
    "a duration past the ceiling",
    () => podChaos("bad", { duration: "200h" }),
    "spec.duration",
    /at most 168h/,
  ],
  ["a grace period past a day", () => podChaos("bad", { gracePeriod: 86401 }), "spec.gracePeriod", /86400/],
  [
    "an action Chaos Mesh does not have",
    () => podChaos("bad", { action: "pod-explode" }),
    "spec.action",
    /pod-kill/,
  ],
  [
    "a container-kill without containerNames",
    () => podChaos("bad", { action: "container-kill" }),
    "spec.containerNames",
    /needs at least one container for action container-kill/,
  ],
  [
    "a pod-failure without a duration",
    () => podChaos("bad", { action: "pod-failure" }),
    "spec.duration",
    /is required by pod-failure/,
  ],
  [
    "a bad namespace",
    () => podChaos("bad", { selector: { namespaces: ["Shop"] } }),
    "spec.selector.namespaces[0]",
    /should match/,
  ],
  ["a name with an underscore", () => podChaos("bad_name", {}), "metadata.name", /RFC 1123/],
  ["an over-long name", () => podChaos("a".repeat(254), {}), "metadata.name", /must be no more than 253/],
  [
    "node selectors",
    () => podChaos("bad", { selector: { nodeSelectors: { zone: "a" } } }),
    "spec.selector.nodeSelectors",
    /node labels/,
  ],
  [
    "a cron with four fields",
    () => resource("Schedule", { schedule: "* * * *", type: "PodChaos", podChaos: scheduled }),
    "spec.schedule",
    /should match/,
  ],
  [
    "a Schedule of NetworkChaos",
    () => resource("Schedule", { schedule: "@hourly", type: "NetworkChaos", podChaos: scheduled }),
    "spec.type",
    /Unsupported value/,
  ],
  [
    "a Schedule of pod-failure without a duration",
    () =>
      resource("Schedule", {
        schedule: "@hourly",
        type: "PodChaos",
        podChaos: { ...scheduled, action: "pod-failure" },
      }),
    "spec.podChaos.duration",
    /is required by pod-failure/,
  ],
  [
    "a Schedule of container-kill with an empty containerNames",
    () =>
      resource("Schedule", {
        schedule: "@hourly",
        type: "PodChaos",
        podChaos: { ...scheduled, action: "container-kill", containerNames: [] },
      }),
    "spec.podChaos.containerNames",
    /needs at least one container for action container-kill/,
  ],
  [
    "a historyLimit of 0",
    () =>
      resource("Schedule", { schedule: "@hourly", type: "PodChaos", historyLimit: 0, podChaos: scheduled }),
    "spec.historyLimit",
    /greater than or equal to 1/,
  ],
  [
    "a drift with value and remove",
    () => resource("ConfigDrift", { ...drift, remove: true }),
    "spec.value",
    /exactly one of value or remove/,
  ],
  [
    "scaling to 0 without unsafe",
    () => resource("Scale", { namespace: "shop", kind: "deployment", name: "d", replicas: 0 }),
    "spec.replicas",
    /unsafe/,
  ],
  [
    "an Experiment step with another fault's fields",
    () =>
      resource("Experiment", {
        title: "t",
        hypothesis: {
          probes: [
            {
              name: "p",
              kubernetes: {
                kind: "deployment",
                namespace: "a",
                name: "b",
                condition: { allPodsReady: true },
              },
            },
          ],
        },
        method: [
          {
            fault: "scale",
            params: { namespace: "a", kind: "deployment", name: "b", replicas: 2, key: "x" },
          },
        ],
      }),
    "spec.method[0]",
    /with fault: scale, only these fields are allowed/,
  ],
  [
    "an unknown field",
    () => podChaos("bad", { selectr: {} }),
    ".spec.selectr",
    /field not declared in schema/,
    // Server-side apply refuses a field the schema does not declare while it builds the patch: a 500.
    500,
  ],
];

describe("bad objects are refused by the API server, naming the field", () => {
  it.each(badObjects)("%s", async (_, object, field, message, code = 422) => {
    const refused = await refusal(object());
    expect(refused.code, refused.message).toBe(code);
    expect(refused.message).toContain(field);
    expect(refused.message).toMatch(message);
  });
});

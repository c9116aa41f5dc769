import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BroadsideError } from "../../core/errors.js";
import { convertChaosMeshManifest } from "./convert.js";
import { parseExperimentFile } from "./load.js";

/**
 * `broadside convert`: a Chaos Mesh manifest becomes Broadside's by its apiVersion alone, every other byte
 * kept; what Broadside cannot serve is refused, naming why, before anything is written.
 */

const podChaos = `# Kill one storefront pod.
---
apiVersion: "chaos-mesh.org/v1alpha1"   # Chaos Mesh's group
kind: PodChaos
metadata: { name: storefront-pod-kill, namespace: demo-shop }
spec:
  action: pod-kill
  mode: fixed
  value: "1"   # one pod
  selector:
    labelSelectors: {app: storefront}
`;

function scheduleOf(action: string): string {
  return `apiVersion: chaos-mesh.org/v1alpha1
kind: Schedule
metadata:
  name: monkey
spec:
  schedule: "*/30 * * * * *"
  type: PodChaos
  podChaos:
    action: ${action}
    mode: one
    selector: {namespaces: [shop]}
`;
}

function refusal(text: string): BroadsideError {
  try {
    convertChaosMeshManifest(text, "in.yaml");
  } catch (error) {
    if (error instanceof BroadsideError) return error;
    throw error;
  }
  throw new Error("expected the manifest to be refused");
}

describe("convert keeps everything but the apiVersion", () => {
  it("changes only the apiVersion's value, in its own quoting, comments and flow style kept", () => {
    const { text } = convertChaosMeshManifest(podChaos, "in.yaml");
    expect(text).toBe(podChaos.replace('"chaos-mesh.org/v1alpha1"', '"broadside.dev/v1alpha1"'));
    expect(parseExperimentFile(text, "out.yaml")).toMatchObject({
      apiVersion: "broadside.dev/v1alpha1",
      kind: "PodChaos",
      mode: { kind: "fixed", count: 1 },
    });
  });

  it("converts a pod-failure PodChaos, which the agent serves too", () => {
    const failure = podChaos.replace("action: pod-kill", "action: pod-failure\n  duration: 30s");
    const { text } = convertChaosMeshManifest(failure, "in.yaml");
    expect(text).toBe(failure.replace('"chaos-mesh.org/v1alpha1"', '"broadside.dev/v1alpha1"'));
  });

  it("converts a container-kill PodChaos, saying the agent serves it with --node-daemons", () => {
    const kill = podChaos.replace("action: pod-kill", "action: container-kill\n  containerNames: [app]");
    const converted = convertChaosMeshManifest(kill, "in.yaml");
    expect(converted.text).toBe(kill.replace('"chaos-mesh.org/v1alpha1"', '"broadside.dev/v1alpha1"'));
    expect(parseExperimentFile(converted.text, "out.yaml")).toMatchObject({
      kind: "PodChaos",
      action: "container-kill",
      containerNames: ["app"],
    });
    expect(converted.warnings).toEqual([expect.stringContaining("started with --node-daemons")]);
  });

  it("converts a Schedule of container-kill, its containerNames kept", () => {
    const schedule = scheduleOf("container-kill\n    containerNames: [app]");
    const converted = convertChaosMeshManifest(schedule, "in.yaml");
    expect(converted.text).toBe(schedule.replace("chaos-mesh.org", "broadside.dev"));
    expect(converted.warnings).toContainEqual(expect.stringContaining("NoNodeDaemons"));
  });

  it("converts a Schedule of PodChaos, passing on the reader's warnings", () => {
    const schedule = scheduleOf("pod-kill");
    const converted = convertChaosMeshManifest(schedule, "in.yaml");
    expect(converted.text).toBe(schedule.replace("chaos-mesh.org", "broadside.dev"));
    expect(converted.warnings).toEqual([expect.stringContaining("spec.schedule has a seconds field")]);
  });
});

describe("convert refuses what Broadside does not serve, saying why", () => {
  it.each([
    [
      "a bad field, named with its line",
      podChaos.replace("mode: fixed", "mode: some"),
      "BRD_USAGE",
      "in.yaml: spec.mode: must be one of",
    ],
    [
      "a kind the agent does not serve",
      readFileSync(
        join(import.meta.dirname, "..", "..", "..", "examples", "chaos-mesh-networkchaos.yaml"),
        "utf8",
      ),
      "BRD_USAGE",
      "kind: NetworkChaos is not served by Broadside's agent yet",
    ],
    [
      "a scheduled pod-failure without its duration",
      scheduleOf("pod-failure"),
      "BRD_USAGE",
      "in.yaml: spec.podChaos.duration: is required for action pod-failure",
    ],
    [
      "a container-kill without containerNames",
      podChaos.replace("action: pod-kill", "action: container-kill"),
      "BRD_USAGE",
      "in.yaml: spec.containerNames: needs at least one container for action container-kill",
    ],
    [
      "a manifest already Broadside's",
      podChaos.replace("chaos-mesh.org", "broadside.dev"),
      "BRD_USAGE",
      "apiVersion: broadside.dev/v1alpha1 is not Chaos Mesh's",
    ],
  ])("%s", (_, text, code, message) => {
    const error = refusal(text);
    expect(error.code).toBe(code);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(message);
  });
});

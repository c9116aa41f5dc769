import { describe, expect, it } from "vitest";
import { BroadsideError } from "../../../core/errors.js";
import { planTargets } from "../../../core/targeting/plan.js";
import { defaultRails } from "../../../core/targeting/rails.js";
import type { PodFacts } from "../../../core/targeting/types.js";
import { fromChaosMesh } from "./selector.js";

/** The selector part of a PodChaos spec, as in Chaos Mesh's documentation. */
const podChaos = {
  selector: {
    namespaces: ["demo"],
    labelSelectors: { "app.kubernetes.io/component": "tikv" },
    expressionSelectors: [{ key: "tier", operator: "NotIn", values: ["db"] }],
    annotationSelectors: { "example.com/team": "storage" },
    fieldSelectors: { "spec.nodeName": "node-1", "status.phase": "Running" },
    podPhaseSelectors: ["Running", "!Failed"],
    nodes: ["node-1", "node-2"],
  },
  mode: "fixed-percent",
  value: "50",
};

describe("fromChaosMesh", () => {
  it("converts every selector and the mode", () => {
    expect(fromChaosMesh(podChaos)).toEqual({
      selector: {
        namespaces: ["demo"],
        labelSelector: "app.kubernetes.io/component=tikv",
        expressionSelectors: [{ key: "tier", operator: "NotIn", values: ["db"] }],
        annotationSelectors: { "example.com/team": "storage" },
        fieldSelectors: { nodeName: "node-1", phase: "Running" },
        podPhases: { include: ["Running"], exclude: ["Failed"] },
        pods: [],
        nodeNames: ["node-1", "node-2"],
      },
      mode: { kind: "fixed-percent", percent: 50 },
      warnings: [],
    });
  });

  it("reads named pods per namespace", () => {
    const { selector } = fromChaosMesh({
      selector: { pods: { demo: ["web-1", "web-2"], other: ["x"] } },
      mode: "all",
    });
    expect(selector.pods).toEqual([
      { namespace: "demo", name: "web-1" },
      { namespace: "demo", name: "web-2" },
      { namespace: "other", name: "x" },
    ]);
  });

  it.each<[string, object, string[]]>([
    [
      "empty namespaces default to the experiment's namespace, as Chaos Mesh's webhook does",
      { selector: {} },
      ["chaos"],
    ],
    ["given namespaces are kept", { selector: { namespaces: ["demo"] } }, ["demo"]],
    ["named pods carry their own namespaces", { selector: { pods: { demo: ["web-1"] } } }, []],
  ])("%s", (_story, spec, namespaces) => {
    expect(
      fromChaosMesh({ ...spec, mode: "one" }, { manifestNamespace: "chaos" }).selector.namespaces,
    ).toEqual(namespaces);
  });

  it("leaves namespaces empty, meaning all, without a manifest namespace", () => {
    expect(fromChaosMesh({ selector: {}, mode: "one" }).selector.namespaces).toEqual([]);
  });

  it.each<[string, object, string[]]>([
    [
      "a leftover value on mode one is ignored, as Chaos Mesh does",
      { selector: {}, mode: "one", value: "3" },
      ['value "3" is ignored by mode one'],
    ],
    ["an empty value on mode all is not worth a word", { selector: {}, mode: "all", value: "" }, []],
    [
      "named pods with other selectors",
      { selector: { pods: { demo: ["web-1"] }, labelSelectors: { app: "web" } }, mode: "all" },
      [
        "selector.pods is set, so Chaos Mesh ignores the other selectors when listing pods; " +
          "Broadside applies them all, so a named pod must also match the rest",
      ],
    ],
  ])("warns: %s", (_story, manifest, warnings) => {
    expect(fromChaosMesh(manifest).warnings).toEqual(warnings);
  });

  // Every error names the path of the bad field, so a user can find it in a long manifest.
  it.each<[string, unknown, string]>([
    ["not an object", "mode: one", "(manifest): Invalid input: expected object, received string"],
    ["no selector", { mode: "one" }, "selector: Invalid input: expected object, received undefined"],
    [
      "a misspelt selector field",
      { selector: { labelSelector: { app: "web" } }, mode: "one" },
      "selector.labelSelector: unknown field in a Chaos Mesh pod selector",
    ],
    [
      "an unknown top-level field",
      { selector: {}, mode: "one", duration: "30s" },
      "duration: unknown field in a Chaos Mesh pod selector",
    ],
    [
      "an unknown mode",
      { selector: {}, mode: "some" },
      "mode: must be one of one, all, fixed, fixed-percent, random-max-percent",
    ],
    [
      "an unquoted value",
      { selector: {}, mode: "fixed", value: 2 },
      'value: must be a string in a Chaos Mesh manifest; quote it: "2"',
    ],
    [
      "a percentage out of range",
      { selector: {}, mode: "fixed-percent", value: "150" },
      'value: fixed-percent needs a percentage from 1 to 100, got "150"',
    ],
    [
      "a missing value",
      { selector: {}, mode: "fixed" },
      "value: fixed needs a whole number of pods from 1 to 100000, got none",
    ],
    [
      "pods that are not a list",
      { selector: { pods: { demo: "web-1" } }, mode: "all" },
      "selector.pods.demo: Invalid input: expected array, received string",
    ],
    [
      "a pod name that is not a string",
      { selector: { pods: { demo: ["web-1", 3] } }, mode: "all" },
      "selector.pods.demo[1]: Invalid input: expected string, received number",
    ],
    [
      "an invalid label key",
      { selector: { labelSelectors: { "a/b/c": "x" } }, mode: "all" },
      `selector.labelSelectors["a/b/c"]: key "a/b/c" must contain at most one '/'`,
    ],
    [
      "an invalid label value",
      { selector: { labelSelectors: { app: "no spaces" } }, mode: "all" },
      `selector.labelSelectors.app: label "app=no spaces": must be at most 63 letters`,
    ],
    [
      "an unknown expression operator",
      { selector: { expressionSelectors: [{ key: "app", operator: "Gt", values: ["1"] }] }, mode: "all" },
      "selector.expressionSelectors[0].operator: Invalid option",
    ],
    [
      "In without values",
      { selector: { expressionSelectors: [{ key: "app", operator: "In" }] }, mode: "all" },
      "selector.expressionSelectors[0].values: operator In needs at least one value",
    ],
    [
      "Exists with values",
      { selector: { expressionSelectors: [{ key: "app", operator: "Exists", values: ["x"] }] }, mode: "all" },
      "selector.expressionSelectors[0].values: operator Exists takes no values",
    ],
    [
      "an unsupported field selector",
      { selector: { fieldSelectors: { "metadata.name": "web-1" } }, mode: "all" },
      'selector.fieldSelectors["metadata.name"]: Broadside supports the field selectors spec.nodeName and status.phase',
    ],
    [
      "a phase that does not exist",
      { selector: { fieldSelectors: { "status.phase": "Up" } }, mode: "all" },
      'selector.fieldSelectors["status.phase"]: "Up" is not a pod phase; use Pending, Running, Succeeded, Failed, Unknown',
    ],
    [
      "a misspelt phase selector",
      { selector: { podPhaseSelectors: ["Running", "!Runing"] }, mode: "all" },
      'selector.podPhaseSelectors[1]: "Runing" is not a pod phase',
    ],
    [
      "node label selectors",
      { selector: { nodeSelectors: { zone: "a" } }, mode: "all" },
      "selector.nodeSelectors: is not supported: Broadside does not read node labels; list the nodes by name in selector.nodes",
    ],
  ])("refuses %s", (_story, manifest, message) => {
    expect(() => fromChaosMesh(manifest)).toThrow(BroadsideError);
    expect(() => fromChaosMesh(manifest)).toThrow(message);
  });

  it("reports every problem at once, the selector's and the mode's", () => {
    const manifest = {
      selector: { podPhaseSelectors: ["Up"], fieldSelectors: { "metadata.uid": "x" } },
      mode: "fixed",
      value: "0",
    };
    expect(() => fromChaosMesh(manifest)).toThrow(
      'selector.fieldSelectors["metadata.uid"]: Broadside supports the field selectors spec.nodeName and status.phase' +
        '; also selector.podPhaseSelectors[0]: "Up" is not a pod phase; use Pending, Running, Succeeded, Failed, Unknown' +
        '; also value: fixed needs a whole number of pods from 1 to 100000, got "0"',
    );
  });

  it("prefixes paths with where the selector sits in the manifest", () => {
    expect(() => fromChaosMesh({ selector: { label: {} }, mode: "one" }, { path: "spec" })).toThrow(
      /^spec\.selector\.label: unknown field/,
    );
    expect(() => fromChaosMesh({ selector: {}, mode: "fixed", value: "x" }, { path: "spec" })).toThrow(
      /^spec\.value: /,
    );
  });

  it("plans with the converted selector", () => {
    const pod: PodFacts = {
      namespace: "demo",
      name: "tikv-0",
      uid: "u",
      labels: { "app.kubernetes.io/component": "tikv" },
      annotations: { "example.com/team": "storage" },
      nodeName: "node-1",
      phase: "Running",
      ready: true,
      deleting: false,
      namespaceAnnotations: {},
    };
    const { selector, mode } = fromChaosMesh(podChaos);
    const rails = defaultRails("broadside", { unsafe: true });
    expect(planTargets([pod], selector, mode, rails, () => 0).selected).toEqual([pod]);
    const other = { ...pod, labels: { "app.kubernetes.io/component": "pd" } };
    expect(planTargets([other], selector, mode, rails, () => 0).excluded).toEqual([
      {
        pod: other,
        by: "selector",
        reason: 'label selector app.kubernetes.io/component=tikv: label app.kubernetes.io/component is "pd"',
      },
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { firstFailure, selectorPredicates } from "./predicates.js";
import type { PodFacts, Selector } from "./types.js";

function pod(overrides: Partial<PodFacts> = {}): PodFacts {
  return {
    namespace: "demo-a",
    name: "web-1",
    uid: "uid-web-1",
    labels: { app: "web", tier: "front" },
    annotations: { team: "payments" },
    nodeName: "node-1",
    phase: "Running",
    ready: true,
    deleting: false,
    namespaceAnnotations: {},
    ...overrides,
  };
}

// Built whole rather than from pod(): with exactOptionalPropertyTypes, nodeName cannot be overridden to undefined.
const unscheduled: PodFacts = {
  namespace: "demo-a",
  name: "web-2",
  uid: "uid-web-2",
  labels: {},
  annotations: {},
  phase: "Pending",
  ready: false,
  deleting: false,
  namespaceAnnotations: {},
};

function reasonFor(selector: Selector, facts: PodFacts = pod()): string | undefined {
  return firstFailure(facts, selectorPredicates(selector));
}

describe("selector predicates", () => {
  // Each row: a selector, a pod, and the sentence a dry run prints for it (undefined: the pod matches).
  it.each<[string, Selector, PodFacts, string | undefined]>([
    ["an empty selector matches everything", {}, pod(), undefined],
    ["empty lists place no constraint", { namespaces: [], pods: [], nodeNames: [] }, pod(), undefined],
    ["namespace in the list", { namespaces: ["demo-a", "demo-b"] }, pod(), undefined],
    ["namespace not in the list", { namespaces: ["demo-b"] }, pod(), "namespace demo-a is not in [demo-b]"],
    ["label selector matches", { labelSelector: "app=web" }, pod(), undefined],
    [
      "label has another value",
      { labelSelector: "app=web" },
      pod({ labels: { app: "db" } }),
      'label selector app=web: label app is "db"',
    ],
    [
      "the failing requirement is the one named",
      { labelSelector: "app=web,tier!=front" },
      pod(),
      'label selector tier!=front: label tier is "front"',
    ],
    [
      "expression selector",
      { expressionSelectors: [{ key: "tier", operator: "In", values: ["back", "db"] }] },
      pod(),
      'expression selector tier in (back,db): label tier is "front"',
    ],
    [
      "expression selector DoesNotExist",
      { expressionSelectors: [{ key: "app", operator: "DoesNotExist", values: [] }] },
      pod(),
      'expression selector !app: label app is present ("web")',
    ],
    ["annotation matches", { annotationSelectors: { team: "payments" } }, pod(), undefined],
    [
      "annotation differs",
      { annotationSelectors: { team: "search" } },
      pod(),
      'annotation selector team=search: annotation team is "payments"',
    ],
    [
      "annotation missing",
      { annotationSelectors: { owner: "me" } },
      pod(),
      "annotation selector owner=me: annotation owner is missing",
    ],
    ["field selector on the node", { fieldSelectors: { nodeName: "node-1" } }, pod(), undefined],
    [
      "field selector on another node",
      { fieldSelectors: { nodeName: "node-2" } },
      pod(),
      "field selector spec.nodeName=node-2: pod is on node node-1",
    ],
    [
      "field selector on an unscheduled pod",
      { fieldSelectors: { nodeName: "node-2" } },
      unscheduled,
      "field selector spec.nodeName=node-2: pod is not scheduled on a node",
    ],
    [
      "field selector on the phase",
      { fieldSelectors: { phase: "Running" } },
      pod({ phase: "Pending" }),
      "field selector status.phase=Running: phase is Pending",
    ],
    ["phase among those included", { podPhases: { include: ["Running", "Pending"] } }, pod(), undefined],
    [
      "phase not among those included",
      { podPhases: { include: ["Pending"] } },
      pod(),
      "phase Running is not in [Pending]",
    ],
    [
      "phase excluded",
      { podPhases: { exclude: ["Running"] } },
      pod(),
      "phase Running is excluded by !Running",
    ],
    ["named pod", { pods: [{ namespace: "demo-a", name: "web-1" }] }, pod(), undefined],
    ["named pod without namespace", { pods: [{ name: "web-1" }] }, pod(), undefined],
    [
      "same name, other namespace",
      { pods: [{ namespace: "demo-b", name: "web-1" }, { name: "web-2" }] },
      pod(),
      "pod demo-a/web-1 is not among the named pods [demo-b/web-1, web-2]",
    ],
    ["on a listed node", { nodeNames: ["node-1"] }, pod(), undefined],
    [
      "on another node",
      { nodeNames: ["node-2", "node-3"] },
      pod(),
      "pod is on node node-1, not in [node-2, node-3]",
    ],
    [
      "namespace is reported before labels",
      { namespaces: ["demo-b"], labelSelector: "app=db" },
      pod(),
      "namespace demo-a is not in [demo-b]",
    ],
  ])("%s", (_story, selector, facts, reason) => {
    expect(reasonFor(selector, facts)).toBe(reason);
  });

  it("builds one predicate per selector that is set", () => {
    expect(selectorPredicates({})).toHaveLength(0);
    expect(
      selectorPredicates({
        namespaces: ["a"],
        labelSelector: "app=web",
        fieldSelectors: { nodeName: "n", phase: "Running" },
      }),
    ).toHaveLength(4);
  });

  it("refuses an invalid label selector when the predicates are built", () => {
    expect(() => selectorPredicates({ labelSelector: "app in web" })).toThrow(/^--selector: expected "\("/);
  });
});

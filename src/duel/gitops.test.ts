import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube/objects.js";
import { classifyHealer, ownedBy } from "./gitops.js";

/** A Deployment as kustomize-controller applied it: replicas and the app container's limits, no requests. */
const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "checkout",
    namespace: "demo-payments",
    managedFields: [
      {
        manager: "kustomize-controller",
        operation: "Apply",
        fieldsV1: {
          "f:spec": {
            "f:replicas": {},
            "f:template": {
              "f:spec": {
                "f:containers": {
                  'k:{"name":"app"}': {
                    ".": {},
                    "f:resources": { "f:limits": { "f:cpu": {}, "f:memory": {} } },
                  },
                },
              },
            },
          },
        },
      },
      { manager: "kube-controller-manager", operation: "Update", fieldsV1: { "f:status": {} } },
    ],
  },
  spec: {
    replicas: 2,
    template: {
      spec: { containers: [{ name: "sidecar" }, { name: "app", resources: { limits: { cpu: "1" } } }] },
    },
  },
} as unknown as KubeObject;

const flux = ["kustomize-controller"];

describe("whether Git defines a field: its GitOps manager owns it in managedFields", () => {
  it.each([
    ["/spec/replicas", true],
    ["/spec/template/spec/containers/1/resources/limits/cpu", true],
    ["/spec/template/spec/containers/1/resources/limits/memory", true],
    ["/spec/template/spec/containers/1/resources/requests/cpu", false],
    // Index 0 is the sidecar, which Git does not define: matched by the list key, not the index.
    ["/spec/template/spec/containers/0/resources/limits/cpu", false],
    ["/spec/paused", false],
    ["/status", false],
  ])("%s: %s", (pointer, owned) => {
    expect(ownedBy(deployment, pointer, flux)).toBe(owned);
  });

  it("asks only the managers named", () => {
    expect(ownedBy(deployment, "/spec/replicas", ["argocd-controller"])).toBe(false);
    expect(ownedBy(deployment, "/status", ["kube-controller-manager"])).toBe(true);
  });

  it("finds a ConfigMap's keys, and not a key Git does not have", () => {
    const configMap = {
      metadata: {
        managedFields: [{ manager: "kustomize-controller", fieldsV1: { "f:data": { "f:a.b": {} } } }],
      },
      data: { "a.b": "1", extra: "2" },
    } as unknown as KubeObject;
    expect(ownedBy(configMap, "/data/a.b", flux)).toBe(true);
    expect(ownedBy(configMap, "/data/extra", flux)).toBe(false);
  });
});

describe("who restored an object, by field manager", () => {
  it.each([
    ["kustomize-controller", "gitops"],
    ["helm-controller", "gitops"],
    ["argocd-controller", "gitops"],
    ["kube-controller-manager", "kubernetes"],
    ["broadside", "broadside"],
    ["kubectl-edit", "kubectl"],
    ["somebody", "other"],
    [undefined, "other"],
  ])("%s is %s", (manager, kind) => {
    expect(classifyHealer(manager)).toBe(kind);
  });
});

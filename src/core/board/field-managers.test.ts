import { describe, expect, it } from "vitest";
import { classifyManager } from "./field-managers.js";

/*
 * Who won the duel: the managedFields entry of the update that put a drifted field back names a manager,
 * and the scoreboard counts the heal as GitOps, kubectl, Broadside's own revert, or someone else.
 */

describe("classifying the field manager that restored a drift", () => {
  it.each([
    ["kustomize-controller", "gitops"],
    ["helm-controller", "gitops"],
    ["flux-client-side-apply", "gitops"],
    ["argocd-controller", "gitops"],
    ["argocd-application-controller", "gitops"],
    ["fleet-agent", "gitops"],
    ["kubectl", "kubectl"],
    ["kubectl-edit", "kubectl"],
    ["kubectl-client-side-apply", "kubectl"],
    ["kubectl-patch", "kubectl"],
    ["broadside", "broadside"],
    ["kube-controller-manager", "other"],
    ["kubectlx", "other"],
    ["my-kustomize-controller", "other"],
    ["argocdish", "other"],
    ["", "other"],
  ] as const)("%s is %s", (manager, expected) => {
    expect(classifyManager(manager)).toBe(expected);
  });

  it("counts a heal with no manager (the object was deleted, or managedFields was empty) as other", () => {
    expect(classifyManager(undefined)).toBe("other");
  });
});

import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { parseWatchNamespaces, watchedCollections } from "./watch-scope.js";

describe("--watch-namespaces", () => {
  it("takes namespace names separated by commas, each once", () => {
    expect(parseWatchNamespaces("shop, billing,shop")).toEqual(["shop", "billing"]);
  });

  it.each([
    ["", 'expected namespace names separated by commas, got ""'],
    ["shop,,billing", "expected namespace names separated by commas"],
    ["Shop", '"Shop" is not a namespace name'],
    ["kube-system", "namespace kube-system is protected and is never a target"],
    ["broadside-system", "namespace broadside-system is protected"],
  ])("refuses %j, naming the flag", (text, problem) => {
    const error = (() => {
      try {
        return parseWatchNamespaces(text);
      } catch (caught: unknown) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(BroadsideError);
    expect((error as BroadsideError).code).toBe("BRD_USAGE");
    expect((error as BroadsideError).message).toContain("--watch-namespaces: ");
    expect((error as BroadsideError).message).toContain(problem);
  });
});

describe("the collections the agent watches", () => {
  it("are cluster-wide in cluster mode", () => {
    expect(watchedCollections("broadside.dev/v1alpha1", "podchaos", "all")).toEqual([
      "/apis/broadside.dev/v1alpha1/podchaos",
    ]);
  });

  it("are one per namespace in namespaced mode, so namespaced Roles are enough", () => {
    expect(watchedCollections("broadside.dev/v1alpha1", "podchaos", ["shop", "billing"])).toEqual([
      "/apis/broadside.dev/v1alpha1/namespaces/shop/podchaos",
      "/apis/broadside.dev/v1alpha1/namespaces/billing/podchaos",
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { chaosKinds, chaosKindsFor, podChaosKind, type ChaosKind } from "./kinds.js";

describe("the kinds the agent reconciles depend on --serve-chaos-mesh-api", () => {
  it("is Broadside's own table without the flag", () => {
    expect(chaosKindsFor({ serveChaosMeshApi: false })).toBe(chaosKinds);
    expect(chaosKindsFor({})).toBe(chaosKinds);
  });

  it("adds a chaos-mesh.org entry for each kind marked as Chaos Mesh's twin, with the same reconciler", () => {
    const objectKind: ChaosKind = {
      ...podChaosKind,
      kind: "ConfigDrift",
      plural: "configdrifts",
      chaosMeshTwin: false,
    };
    const kinds = chaosKindsFor({ serveChaosMeshApi: true }, [podChaosKind, objectKind]);
    expect(kinds.map((kind) => `${kind.apiVersion} ${kind.kind} ${kind.plural}`)).toEqual([
      "broadside.dev/v1alpha1 PodChaos podchaos",
      "broadside.dev/v1alpha1 ConfigDrift configdrifts",
      "chaos-mesh.org/v1alpha1 PodChaos podchaos",
    ]);
    expect(kinds[2]?.reconciler).toBe(podChaosKind.reconciler);
  });
});

import { describe, expect, it } from "vitest";
import { healer } from "./field-owner.js";

/*
 * Who healed a drifted field, from the object's managedFields. The story: a ConfigMap created by one
 * client, drifted by Broadside, and set back by kubectl within the same second, which is all the
 * precision managedFields' times have.
 */
const sameSecond = "2026-12-07T05:41:00Z";

function configMap(entries: { manager: string; fields: object }[]): object {
  return {
    metadata: {
      name: "flags",
      managedFields: entries.map(({ manager, fields }) => ({
        manager,
        operation: "Update",
        time: sameSecond,
        fieldsType: "FieldsV1",
        fieldsV1: fields,
      })),
    },
  };
}

describe("healer: who set the field back", () => {
  it("is the manager that owns the field, even when an older write has the same time", () => {
    const object = configMap([
      { manager: "kubectl-patch", fields: { "f:data": { "f:CHECKOUT": {} } } },
      { manager: "node-fetch", fields: { "f:data": { ".": {}, "f:OTHER": {} } } },
      { manager: "broadside", fields: {} },
    ]);
    expect(healer(object, "/data/CHECKOUT")).toBe("kubectl-patch");
  });

  it("reads escaped pointer segments, as a key with a slash", () => {
    const object = configMap([
      { manager: "flux", fields: { "f:metadata": { "f:annotations": { "f:team.example/owner": {} } } } },
      { manager: "node-fetch", fields: {} },
    ]);
    expect(healer(object, "/metadata/annotations/team.example~1owner")).toBe("flux");
  });

  it("falls back to the latest write that was not Broadside's when no manager names the field", () => {
    const object = configMap([
      { manager: "kubectl-edit", fields: { "f:spec": {} } },
      { manager: "broadside", fields: {} },
    ]);
    expect(healer(object, "/spec/template/spec/containers/0/resources")).toBe("kubectl-edit");
  });

  it("inside a list, names the applier that owns the list over the controller that wrote after it", () => {
    // Seen in the duel: Flux re-applies the squeezed limits, then the deployment controller bumps the
    // revision annotation and the status in the same second.
    const applier = "kustomize-controller";
    const listOwned = {
      "f:spec": { "f:template": { "f:spec": { "f:containers": { 'k:{"name":"app"}': {} } } } },
    };
    const object = configMap([
      { manager: applier, fields: listOwned },
      { manager: "broadside", fields: {} },
      { manager: "kube-controller-manager", fields: { "f:metadata": { "f:annotations": {} } } },
    ]) as { metadata: { managedFields: Record<string, unknown>[] } };
    object.metadata.managedFields.push({
      manager: "kube-controller-manager",
      operation: "Update",
      subresource: "status",
      time: sameSecond,
      fieldsType: "FieldsV1",
      fieldsV1: { "f:status": {} },
    });
    expect(healer(object, "/spec/template/spec/containers/0/resources")).toBe(applier);
  });
});

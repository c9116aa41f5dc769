import { describe, expect, it } from "vitest";
import { recordKey } from "../kube/ledger-store.js";
import { ownerOfRecordConfigMap } from "./object-fault-owner.js";

describe("the owner of a ledger record, as the ledger's informer delivers it", () => {
  const owner = {
    apiVersion: "broadside.dev/v1alpha1",
    kind: "ConfigDrift",
    namespace: "shop",
    name: "d",
    uid: "u",
  };

  it("is read from the record in the ConfigMap", () => {
    const configMap = { data: { [recordKey]: JSON.stringify({ id: "r", state: "closed", owner }) } };
    expect(ownerOfRecordConfigMap(configMap)).toEqual(owner);
  });

  it("is undefined for a command's record, a malformed record, or another ConfigMap", () => {
    expect(ownerOfRecordConfigMap({ data: { [recordKey]: JSON.stringify({ id: "r" }) } })).toBeUndefined();
    expect(ownerOfRecordConfigMap({ data: { [recordKey]: "{not json" } })).toBeUndefined();
    expect(
      ownerOfRecordConfigMap({ data: { [recordKey]: JSON.stringify({ owner: { kind: 1 } }) } }),
    ).toBeUndefined();
    expect(ownerOfRecordConfigMap({})).toBeUndefined();
  });
});

import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { diffList, isNamedObject, objectKey } from "./object-cache.js";

function object(name: string, uid: string, resourceVersion: string, namespace = "shop"): KubernetesObject {
  return { metadata: { name, namespace, uid, resourceVersion } };
}

describe("diffList", () => {
  it("reports nothing for objects that did not change, and the new cache holds exactly the list", () => {
    const a = object("a", "1", "10");
    const { next, changes } = diffList(new Map([[objectKey(a), a]]), [object("a", "1", "10")]);
    expect(changes).toEqual([]);
    expect([...next.keys()]).toEqual(["shop/a"]);
  });

  it("keys cluster-scoped objects by name alone, so they do not collide with namespaced ones", () => {
    const node = object("a", "1", "10", "");
    expect(objectKey(node)).toBe("/a");
    const { changes } = diffList(new Map(), [node, object("a", "2", "11")]);
    expect(changes.map((change) => change.type)).toEqual(["ADDED", "ADDED"]);
  });
});

describe("isNamedObject", () => {
  it("accepts objects with a name and refuses anything else", () => {
    expect(isNamedObject({ metadata: { name: "a" } })).toBe(true);
    expect(isNamedObject({ metadata: { name: "" } })).toBe(false);
    expect(isNamedObject({ metadata: {} })).toBe(false);
    expect(isNamedObject({ kind: "Status" })).toBe(false);
    expect(isNamedObject(null)).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { podFaults } from "./pod-registry.js";
import { podFaultKinds } from "./types.js";

describe("the pod fault registry", () => {
  it("holds one fault per kind, registered under its own kind", () => {
    for (const kind of podFaultKinds) expect(podFaults[kind].kind).toBe(kind);
    expect(Object.keys(podFaults).sort()).toEqual([...podFaultKinds].sort());
  });
});

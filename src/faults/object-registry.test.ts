import { cliParamNames } from "./plan-support.js";
import { describe, expect, it } from "vitest";
import type { ObjectReader } from "../kube/objects.js";
import { isObjectFaultKind, objectFaults, planObjectFault } from "./object-registry.js";
import { objectFaultKinds } from "./types.js";

describe("the object fault registry", () => {
  it("has an entry for every kind, each under its own name", () => {
    for (const kind of objectFaultKinds) expect(objectFaults[kind].fault.kind).toBe(kind);
    expect(Object.keys(objectFaults).sort()).toEqual([...objectFaultKinds].sort());
  });

  it("tells object fault kinds from other words", () => {
    expect(isObjectFaultKind("scale")).toBe(true);
    expect(isObjectFaultKind("pod-kill")).toBe(false);
  });

  it("checks unchecked input before any read", async () => {
    const reads: unknown[] = [];
    const objects: ObjectReader = {
      read: (ref) => {
        reads.push(ref);
        return Promise.resolve(undefined);
      },
    };
    await expect(planObjectFault("scale", objects, { kind: "deployment" }, cliParamNames)).rejects.toThrow(
      /^--namespace: /,
    );
    await expect(planObjectFault("config-drift", objects, null, cliParamNames)).rejects.toThrow(
      /^parameters: /,
    );
    expect(reads).toEqual([]);
  });
});

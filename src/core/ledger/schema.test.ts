import { describe, expect, it } from "vitest";
import type { LedgerRecord } from "./record.js";
import { ABSENT } from "./record.js";
import { LedgerFormatError, parseLedgerRecord } from "./schema.js";

const closed: LedgerRecord = {
  id: "rec-1",
  faultKind: "resource-squeeze",
  target: { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "cart", uid: "uid-1" },
  path: "spec.template.spec.containers[app].resources",
  original: ABSENT,
  injected: { limits: { cpu: "50m" } },
  sensitive: false,
  createdAt: 1000,
  deadline: 61_000,
  actor: { user: "alice", host: "laptop", pid: 42 },
  state: "closed",
  outcome: { kind: "healed-externally", at: 30_000, by: "argocd-application-controller" },
  version: "12",
};

describe("parseLedgerRecord", () => {
  it("reads back what was written as JSON", () => {
    expect(parseLedgerRecord(JSON.parse(JSON.stringify(closed)), "ConfigMap broadside/rec-1")).toEqual(
      closed,
    );
  });

  it("keeps the chaos resource that owns a record, and reads a record without one as before", () => {
    const owner = {
      apiVersion: "broadside.dev/v1alpha1",
      kind: "Scale",
      namespace: "shop",
      name: "s",
      uid: "u",
    };
    const owned = parseLedgerRecord(JSON.parse(JSON.stringify({ ...closed, owner })), "x");
    expect(owned.owner).toEqual(owner);
    expect(parseLedgerRecord(JSON.parse(JSON.stringify(closed)), "x")).not.toHaveProperty("owner");
  });

  it("reads a volley's pods with their outcomes, and a pod record written before volleys as before", () => {
    const podKill = {
      ...closed,
      faultKind: "pod-kill",
      target: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-1", uid: "u1" },
      path: "/metadata/uid",
      original: "u1",
      outcome: {
        kind: "target-gone",
        at: 2000,
        detail: "pod-kill volley: 2 pods, 1 target-gone, 1 never-applied",
      },
    };
    const volley = [
      { name: "web-1", uid: "u1", outcome: { kind: "target-gone", at: 2000 } },
      {
        name: "web-2",
        uid: "u2",
        outcome: { kind: "never-applied", at: 2000, detail: "blocked by PDB web" },
      },
    ];
    const parsed = parseLedgerRecord(JSON.parse(JSON.stringify({ ...podKill, volley })), "x");
    expect(parsed.volley).toEqual(volley);
    // As the previous version wrote a pod's record: no volley.
    expect(parseLedgerRecord(JSON.parse(JSON.stringify(podKill)), "x")).not.toHaveProperty("volley");
  });

  it("refuses a volley without pods, or with a pod without uid", () => {
    expect(() => parseLedgerRecord({ ...closed, volley: [] }, "x")).toThrow(LedgerFormatError);
    expect(() => parseLedgerRecord({ ...closed, volley: [{ name: "web-1", uid: "" }] }, "x")).toThrow(
      LedgerFormatError,
    );
  });

  it("drops fields it does not know, written by a newer Broadside", () => {
    const newer = { ...closed, state: "active", outcome: undefined, addedLater: true };
    const parsed = parseLedgerRecord(newer, "x");
    expect(parsed).not.toHaveProperty("addedLater");
    expect(parsed.state).toBe("active");
  });

  it("refuses a closed record without an outcome, naming where it came from", () => {
    const broken = { ...closed, outcome: undefined };
    expect(() => parseLedgerRecord(broken, "ConfigMap broadside/rec-1")).toThrow(LedgerFormatError);
    expect(() => parseLedgerRecord(broken, "ConfigMap broadside/rec-1")).toThrow(
      /^ConfigMap broadside\/rec-1 is not a valid ledger record/,
    );
  });

  it.each([
    ["an unknown state", { ...closed, state: "reverting" }],
    ["a target without uid", { ...closed, target: { ...closed.target, uid: "" } }],
    ["a deadline that is not a number", { ...closed, deadline: "soon" }],
    ["something that is not an object", "rec-1"],
  ])("refuses %s", (_name, input) => {
    expect(() => parseLedgerRecord(input, "x")).toThrow(LedgerFormatError);
  });
});

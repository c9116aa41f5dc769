import { describe, expect, it } from "vitest";
import { holdOf } from "./halt-switch.js";

describe("the kill switch's ConfigMap: its presence is the hold, whatever it holds", () => {
  it("reads who, since when and why from a hold Broadside made", () => {
    const hold = holdOf({
      metadata: { name: "broadside-halt" },
      data: { by: "oncall@laptop", reason: "incident 42", since: "2026-12-06T18:00:00.000Z" },
    });
    expect(hold).toEqual({ by: "oncall@laptop", reason: "incident 42", since: Date.UTC(2026, 11, 6, 18) });
  });

  it("takes a ConfigMap made by hand with no data as a hold since it was made", () => {
    const made = new Date(Date.UTC(2026, 11, 6, 17, 30));
    const hold = holdOf({ metadata: { name: "broadside-halt", creationTimestamp: made } });
    expect(hold).toEqual({ by: "a ConfigMap made by hand", reason: "", since: made.getTime() });
  });

  it("leaves out a time that does not parse rather than inventing one", () => {
    expect(holdOf({ metadata: { name: "broadside-halt" }, data: { since: "yesterday" } })).toEqual({
      by: "a ConfigMap made by hand",
      reason: "",
    });
  });
});

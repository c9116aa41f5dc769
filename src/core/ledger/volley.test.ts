import { describe, expect, it } from "vitest";
import { volleyOutcome, volleysOf } from "./volley.js";

describe("volleysOf", () => {
  it("groups pods by namespace, in the order given, at most `size` to a volley", () => {
    const pods = ["a/1", "b/1", "a/2", "a/3", "b/2", "a/4", "a/5"].map((id) => {
      const [namespace = "", name = ""] = id.split("/");
      return { namespace, name };
    });
    const names = volleysOf(pods, 2).map((volley) => volley.map((pod) => `${pod.namespace}/${pod.name}`));
    expect(names).toEqual([["a/1", "a/2"], ["a/3", "a/4"], ["a/5"], ["b/1", "b/2"]]);
  });
});

describe("volleyOutcome", () => {
  const pod = (name: string, kind?: "target-gone" | "never-applied") => ({
    name,
    uid: `uid-${name}`,
    ...(kind === undefined ? {} : { outcome: { kind, at: 5 } }),
  });

  it("calls a volley with a pod gone target-gone, with the tally", () => {
    expect(volleyOutcome([pod("a", "target-gone"), pod("b", "never-applied")], 7, "pod-kill volley")).toEqual(
      {
        kind: "target-gone",
        at: 7,
        detail: "pod-kill volley: 2 pods, 1 target-gone, 1 never-applied",
      },
    );
  });

  it("calls a volley of which no pod was shot never applied", () => {
    expect(volleyOutcome([pod("a", "never-applied"), pod("b", "never-applied")], 7, "x").kind).toBe(
      "never-applied",
    );
  });
});

import { describe, expect, it } from "vitest";
import { defaultRails } from "../targeting/rails.js";
import type { PodFacts } from "../targeting/types.js";
import { WorkloadDownCap } from "./down-cap.js";

function pod(name: string, ready = true): PodFacts {
  return {
    namespace: "shop",
    name,
    uid: `uid-${name}`,
    labels: {},
    annotations: {},
    namespaceAnnotations: {},
    phase: "Running",
    ready,
    deleting: false,
    owner: { kind: "Deployment", name: "web" },
  };
}

const [a, b, c] = [pod("a"), pod("b"), pod("c")];
const web = [a, b, c, pod("d")];
const rails = defaultRails("broadside-system");

describe("WorkloadDownCap: pods held down per workload, across runs", () => {
  it("admits up to floor(half × healthy) across admissions, counting held pods as healthy though the list lags", () => {
    const cap = new WorkloadDownCap();
    const first = cap.admit([a, b], web, rails);
    expect(first.admitted.map((p) => p.name)).toEqual(["a", "b"]);
    // The second run listed the same four pods (its cache has not seen the deletes): nothing left for it.
    const second = cap.admit([c], web, rails);
    expect(second.admitted).toEqual([]);
    expect(second.dropped[0]?.reason).toBe(
      "blast-radius cap across runs: 2 pods of Deployment shop/web already down from other shots (at most 2 of 4 at once); --unsafe lifts it",
    );
    first.release();
    first.release();
    expect(cap.downCount("Deployment shop/web")).toBe(0);
    expect(cap.admit([c], web, rails).admitted).toHaveLength(1);
  });

  it("with --unsafe admits everything but still holds it, so a careful run beside it gets nothing", () => {
    const cap = new WorkloadDownCap();
    const reckless = cap.admit(web, web, { ...rails, unsafe: true });
    expect(reckless.admitted).toHaveLength(4);
    expect(cap.admit([a], web, rails).admitted).toEqual([]);
  });

  it("a pod not Ready for its own reasons is not healthy: the cap shrinks with it", () => {
    const cap = new WorkloadDownCap();
    const sick = [a, b, pod("c", false), pod("d", false)];
    expect(cap.admit([a, b], sick, rails).admitted.map((p) => p.name)).toEqual(["a"]);
  });
});

import type { V1Endpoint, V1EndpointConditions, V1EndpointSlice } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { chooseEndpoint, readyEndpointUids } from "./endpoints.js";

function endpoint(uid: string, conditions: V1EndpointConditions, kind = "Pod"): V1Endpoint {
  return { addresses: ["10.244.0.1"], conditions, targetRef: { kind, uid, name: uid } };
}

function slice(...endpoints: V1Endpoint[]): V1EndpointSlice {
  return { addressType: "IPv4", endpoints, metadata: { name: "web-abc" } };
}

describe("readyEndpointUids", () => {
  it("keeps ready, non-terminating pod endpoints, each once, across slices", () => {
    const slices = [
      slice(
        endpoint("b", { ready: true, serving: true, terminating: false }),
        endpoint("dying", { ready: false, serving: true, terminating: true }),
        endpoint("starting", { ready: false, serving: false, terminating: false }),
      ),
      slice(endpoint("a", {}), endpoint("b", { ready: true }), endpoint("node", { ready: true }, "Node")),
    ];
    expect(readyEndpointUids(slices)).toEqual(["a", "b"]);
  });

  it("takes a slice with null endpoints, as the API server sends an empty one", () => {
    const empty = { addressType: "IPv4", endpoints: null } as unknown as V1EndpointSlice;
    expect(readyEndpointUids([empty])).toEqual([]);
  });
});

describe("chooseEndpoint", () => {
  it("draws uniformly over the endpoints, and nothing from none", () => {
    expect(chooseEndpoint([], () => 0.5)).toBeUndefined();
    expect(chooseEndpoint(["a", "b", "c"], () => 0)).toBe("a");
    expect(chooseEndpoint(["a", "b", "c"], () => 0.5)).toBe("b");
    expect(chooseEndpoint(["a", "b", "c"], () => 0.999999)).toBe("c");
    expect(chooseEndpoint(["a", "b"], () => 1)).toBe("b");
  });
});

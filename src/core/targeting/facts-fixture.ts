import type { PodFacts } from "./types.js";

/** A Running, Ready pod's facts with nothing else set, for tests; `overrides` says what differs. */
export function readyPodFacts(namespace: string, name: string, overrides: Partial<PodFacts> = {}): PodFacts {
  return {
    namespace,
    name,
    uid: name,
    labels: {},
    annotations: {},
    phase: "Running",
    ready: true,
    deleting: false,
    namespaceAnnotations: {},
    ...overrides,
  };
}

import type { V1Endpoint, V1EndpointSlice } from "@kubernetes/client-node";

/** The label the EndpointSlice controller puts on every slice of a Service. */
export const serviceNameLabel = "kubernetes.io/service-name";

/**
 * The pod uids of a Service's ready endpoints, over all its slices, each once. As kube-proxy does:
 * an endpoint counts when `ready` is true (the API says nil means true) and it is not terminating. The
 * EndpointSlice controller sets ready=false (terminating=true) as soon as a pod is being deleted, so a
 * Terminating pod leaves the routing while its listener still drains (see podServes in behaviour.ts);
 * an endpoint also listed in a second slice (possible while the controller moves it) is not doubled,
 * which would skew the random choice. Endpoints without a Pod targetRef have no loopback listener to
 * map to and are left out.
 */
export function readyEndpointUids(slices: readonly V1EndpointSlice[]): string[] {
  const uids = new Set<string>();
  for (const slice of slices) {
    for (const endpoint of endpointsOf(slice)) {
      const uid = readyPodUid(endpoint);
      if (uid !== undefined) uids.add(uid);
    }
  }
  return [...uids].sort();
}

/** Typed as required, but the API server sends null for a slice with no endpoints. */
function endpointsOf(slice: V1EndpointSlice): readonly V1Endpoint[] {
  const endpoints = slice.endpoints as readonly V1Endpoint[] | null | undefined;
  return endpoints ?? [];
}

function readyPodUid(endpoint: V1Endpoint): string | undefined {
  const conditions = endpoint.conditions;
  if (conditions?.ready === false || conditions?.terminating === true) return undefined;
  const ref = endpoint.targetRef;
  if (ref?.kind !== "Pod" || ref.uid === undefined || ref.uid === "") return undefined;
  return ref.uid;
}

/**
 * One endpoint drawn uniformly at random, as kube-proxy's iptables mode does per connection (here per
 * request); undefined when there is none. `random` is in [0, 1), like Math.random.
 */
export function chooseEndpoint(uids: readonly string[], random: () => number): string | undefined {
  if (uids.length === 0) return undefined;
  const index = Math.min(uids.length - 1, Math.floor(random() * uids.length));
  return uids[index];
}

import type { V1Pod } from "@kubernetes/client-node";
import { BroadsideError } from "../core/errors.js";
import type { NodeWorkStore } from "../core/node-work.js";
import type { PodFacts } from "../core/targeting/types.js";
import type { EngineContext } from "./context.js";

/*
 * What the faults the node daemons carry out (container-kill, the network faults) share before their
 * first write: the chosen pods read afresh, and the store of node work the daemons take it from.
 */

/** The chosen pods as the API server has them now (containers, node, statuses); a replaced pod is left out. */
export async function currentPods(ctx: EngineContext, chosen: readonly PodFacts[]): Promise<V1Pod[]> {
  const read = await Promise.all(chosen.map((facts) => ctx.pods.read(facts.namespace, facts.name)));
  return read.filter((pod, at): pod is V1Pod => pod !== undefined && pod.metadata?.uid === chosen[at]?.uid);
}

/** The node work store, or a refusal naming the fault when this process has none. */
export function nodeWorkStore(ctx: EngineContext, fault: string): NodeWorkStore {
  if (ctx.nodeWork === undefined)
    throw new BroadsideError(
      "BRD_PREREQUISITE_MISSING",
      `${fault} needs the node daemons' work objects, which this process cannot reach`,
    );
  return ctx.nodeWork;
}

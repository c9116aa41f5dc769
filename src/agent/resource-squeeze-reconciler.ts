import { resourceSqueezeResourceSpec } from "../experiments/files/resources.js";
import { objectFaultReconciler, specPlanner, type ObjectFaultPorts } from "./object-fault-reconciler.js";

/**
 * ResourceSqueeze (broadside.dev/v1alpha1): a workload's containers' CPU and memory limits lowered for
 * `spec.duration`, then put back from the ledger (faults/resource-squeeze.ts plans it).
 */
export function resourceSqueezeReconciler(ports: ObjectFaultPorts) {
  return objectFaultReconciler({
    ...ports,
    planner: specPlanner("resource-squeeze", resourceSqueezeResourceSpec),
  });
}

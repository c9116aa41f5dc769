import { scaleResourceSpec } from "../experiments/files/resources.js";
import { objectFaultReconciler, specPlanner, type ObjectFaultPorts } from "./object-fault-reconciler.js";

/**
 * Scale (broadside.dev/v1alpha1): a Deployment's or StatefulSet's replicas set for `spec.duration`, then
 * put back from the ledger (faults/scale.ts plans it; 0 needs `unsafe: true`).
 */
export function scaleReconciler(ports: ObjectFaultPorts) {
  return objectFaultReconciler({ ...ports, planner: specPlanner("scale", scaleResourceSpec) });
}

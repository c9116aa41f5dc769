import { configDriftResourceSpec } from "../experiments/files/resources.js";
import { objectFaultReconciler, specPlanner, type ObjectFaultPorts } from "./object-fault-reconciler.js";

/**
 * ConfigDrift (broadside.dev/v1alpha1): one key of a ConfigMap or Secret set or removed for
 * `spec.duration`, then put back byte for byte from the ledger (faults/config-drift.ts plans it).
 */
export function configDriftReconciler(ports: ObjectFaultPorts) {
  return objectFaultReconciler({ ...ports, planner: specPlanner("config-drift", configDriftResourceSpec) });
}

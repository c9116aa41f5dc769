import type { z } from "zod";
import type { ResourceKind } from "../../experiments/files/resources.js";
import { experimentStatusSchema, resourceStatusSchema, scheduleStatusSchema } from "./status.js";

/**
 * What each resource kind is called and how `kubectl get` shows it. The spec's schema comes from
 * experiments/files/resources.ts, the status's from status.ts; this adds names and printer columns.
 */

export interface PrinterColumn {
  readonly name: string;
  readonly type: "string" | "integer" | "number" | "boolean" | "date";
  readonly jsonPath: string;
  readonly description: string;
  /** 1: shown by `kubectl get -o wide` only. */
  readonly priority?: number;
}

export interface KindDefinition {
  readonly kind: ResourceKind;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly description: string;
  readonly status: z.ZodType;
  readonly columns: readonly PrinterColumn[];
}

/** The group and version of Broadside's resources (the Experiment file kind's). */
export const broadsideGroup = "broadside.dev";
export const chaosMeshGroup = "chaos-mesh.org";
export const resourceVersion = "v1alpha1";

/** `kubectl get chaos` and `kubectl get broadside` list every Broadside resource, as Chaos Mesh's. */
export const broadsideCategories = ["chaos", "broadside"] as const;

/** The annotation that marks chaos-mesh.org CRDs as Broadside's, so a real Chaos Mesh is never taken over. */
export const installedByAnnotation = "broadside.dev/installed-by";

function condition(name: string, type: string, description: string): PrinterColumn {
  return { name, type: "string", jsonPath: `.status.conditions[?(@.type=="${type}")].status`, description };
}

const injected = condition("Injected", "Injected", "The fault is in place (or the shot was fired).");
const recovered = condition("Recovered", "Recovered", "Every target recovered or was reverted.");
const paused = condition("Paused", "Paused", "Paused by the pause annotation or by broadside halt.");
const age: PrinterColumn = {
  name: "Age",
  type: "date",
  jsonPath: ".metadata.creationTimestamp",
  description: "How long ago the resource was created.",
};

function spec(name: string, field: string, description: string, priority?: number): PrinterColumn {
  return { name, type: "string", jsonPath: `.spec.${field}`, description, ...(priority ? { priority } : {}) };
}

const target = [
  spec("Target", "kind", "The kind of object the fault changes."),
  spec("Name", "name", "The object's name."),
  spec("Namespace", "namespace", "The object's namespace.", 1),
];
const duration = spec("Duration", "duration", "How long the fault holds.");

export const kindDefinitions: readonly KindDefinition[] = [
  {
    kind: "PodChaos",
    plural: "podchaos",
    singular: "podchaos",
    shortNames: ["pc"],
    description:
      "Kills pods (action pod-kill), pauses them for a duration (pod-failure) or kills named containers in them (container-kill, through the node daemon), as Chaos Mesh's PodChaos: selector, mode and value, containerNames, gracePeriod, duration.",
    status: resourceStatusSchema,
    columns: [
      spec("Action", "action", "What is done to each selected pod."),
      spec("Mode", "mode", "How many of the selected pods are hit."),
      spec("Value", "value", "The number or percentage of the mode.", 1),
      injected,
      recovered,
      paused,
      age,
    ],
  },
  {
    kind: "Schedule",
    plural: "schedules",
    singular: "schedule",
    shortNames: ["sched"],
    description: "Runs a PodChaos on a cron schedule, as Chaos Mesh's Schedule.",
    status: scheduleStatusSchema,
    columns: [
      spec("Schedule", "schedule", "The cron expression."),
      spec("Type", "type", "The kind of chaos it runs."),
      {
        name: "Last",
        type: "date",
        jsonPath: ".status.lastScheduleTime",
        description: "When it last fired.",
      },
      paused,
      age,
    ],
  },
  {
    kind: "ConfigDrift",
    plural: "configdrifts",
    singular: "configdrift",
    shortNames: ["drift"],
    description: "Sets or removes one key of a ConfigMap or Secret for a while, then puts it back.",
    status: resourceStatusSchema,
    columns: [...target, spec("Key", "key", "The key changed."), duration, injected, recovered, age],
  },
  {
    kind: "ResourceSqueeze",
    plural: "resourcesqueezes",
    singular: "resourcesqueeze",
    shortNames: ["squeeze"],
    description: "Lowers a workload's CPU and memory limits for a while, then puts them back.",
    status: resourceStatusSchema,
    columns: [
      ...target,
      spec("CPU", "cpu", "The CPU limit while squeezed."),
      spec("Memory", "memory", "The memory limit while squeezed."),
      duration,
      injected,
      recovered,
      age,
    ],
  },
  {
    kind: "Scale",
    plural: "scales",
    singular: "scale",
    shortNames: ["bscale"],
    description: "Sets a Deployment's or StatefulSet's replicas for a while, then puts them back.",
    status: resourceStatusSchema,
    columns: [
      ...target,
      {
        name: "Replicas",
        type: "integer",
        jsonPath: ".spec.replicas",
        description: "The replicas while scaled.",
      },
      duration,
      injected,
      recovered,
      age,
    ],
  },
  {
    kind: "Experiment",
    plural: "experiments",
    singular: "experiment",
    shortNames: ["exp"],
    description:
      "A hypothesis-driven experiment: probes with tolerances, a method of faults and waits, rollbacks.",
    status: experimentStatusSchema,
    columns: [
      spec("Title", "title", "What the experiment shows.", 1),
      {
        name: "Verdict",
        type: "string",
        jsonPath: ".status.verdict",
        description: "The last run's verdict.",
      },
      injected,
      recovered,
      condition("Failed", "Failed", "The run could not go on."),
      age,
    ],
  },
  {
    kind: "NetworkChaos",
    plural: "networkchaos",
    singular: "networkchaos",
    shortNames: ["nc"],
    description:
      "Shapes a pod's network for a duration through the node daemons (an agent started with --node-daemons), as Chaos Mesh's NetworkChaos: bandwidth, delay, loss or partition; run once per generation as `broadside run` runs the manifest.",
    status: experimentStatusSchema,
    columns: [
      spec("Action", "action", "What is done to the selected pods' traffic."),
      spec("Mode", "mode", "How many of the selected pods are hit."),
      duration,
      {
        name: "Verdict",
        type: "string",
        jsonPath: ".status.verdict",
        description: "The last run's verdict.",
      },
      injected,
      recovered,
      age,
    ],
  },
];

/** The kinds served under chaos-mesh.org by the agent's --serve-chaos-mesh-api mode. */
export const chaosMeshKinds: readonly ResourceKind[] = ["PodChaos", "Schedule", "NetworkChaos"];

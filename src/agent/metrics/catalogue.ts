/**
 * The catalogue of the agent's own metrics: every name, type, help text, label and bucket layout in one
 * place. docs/metrics.md lists exactly these (catalogue.test.ts keeps the two equal), and
 * agent-metrics.ts builds its prom-client metrics from them, so the code, the scrape and the page never
 * disagree. Names follow Prometheus' conventions: the broadside_ prefix, snake_case, base units
 * (seconds), _total on counters.
 */

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Upper bounds in seconds, histograms only. */
  readonly buckets?: readonly number[];
}

/** 1 ms to 5 min, 1-2.5-5 steps: a replacement pod is seen within milliseconds on kwok, minutes on a busy cluster. */
export const recoveryBuckets = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 300,
] as const;

/** 100 ms to a day: a GitOps reconciler heals a drift in seconds; an unhealed one stays its whole duration. */
export const driftBuckets = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 10800, 86400] as const;

/** client-go's rest_client_request_duration_seconds layout, from 5 ms to a minute, with 1 ms in front. */
export const apiLatencyBuckets = [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60] as const;

export const catalogue = {
  buildInfo: {
    name: "broadside_build_info",
    type: "gauge",
    help: "Always 1; its version label is the running Broadside's version.",
    labelNames: ["version"],
  },
  shots: {
    name: "broadside_shots_total",
    type: "counter",
    help: "Shots a pod fault fired at one pod, by fault and by whether the API server accepted or refused them.",
    labelNames: ["fault", "outcome"],
  },
  recoveryMilestones: {
    name: "broadside_recovery_milestone_seconds",
    type: "histogram",
    help: "Seconds from a shot to each recovery milestone, stamped when its watch event arrived.",
    labelNames: ["fault", "milestone"],
    buckets: recoveryBuckets,
  },
  activeFaults: {
    name: "broadside_active_faults",
    type: "gauge",
    help: "Faults injected and not yet recovered: the open records of the ledger, by fault kind.",
    labelNames: ["fault"],
  },
  driftDuration: {
    name: "broadside_drift_duration_seconds",
    type: "histogram",
    help: "Seconds an object fault's change stayed in the cluster, from its ledger record to its revert, external heal or the target's deletion.",
    labelNames: ["fault", "ended_by"],
    buckets: driftBuckets,
  },
  heals: {
    name: "broadside_heals_total",
    type: "counter",
    help: "Changes of Broadside's undone by someone else before their revert, by the field manager that wrote the heal.",
    labelNames: ["field_manager"],
  },
  apiRequests: {
    name: "broadside_api_request_duration_seconds",
    type: "histogram",
    help: "Seconds from sending a request to the Kubernetes API server to its answer, by verb and HTTP status code.",
    labelNames: ["verb", "code"],
    buckets: apiLatencyBuckets,
  },
  targetRestarts: {
    name: "broadside_target_restarts_total",
    type: "counter",
    help: "Container restarts seen in pods a fault targeted, while the fault was active, by fault.",
    labelNames: ["fault"],
  },
  notifications: {
    name: "broadside_notifications_total",
    type: "counter",
    help: "Notifications by channel and result: delivered, failed after its retries, or dropped because the queue was full.",
    labelNames: ["channel", "result"],
  },
  leader: {
    name: "broadside_leader",
    type: "gauge",
    help: "1 while this agent holds the leader Lease and acts, 0 while it follows.",
    labelNames: [],
  },
} as const satisfies Record<string, MetricDefinition>;

/** Every definition, in the order docs/metrics.md lists them. */
export const metricDefinitions: readonly MetricDefinition[] = Object.values(catalogue);

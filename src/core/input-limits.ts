import { Duration } from "./duration.js";
import { usageError } from "./errors.js";
import { optional } from "./objects.js";

/**
 * Every bound Broadside puts on its input, in one place: the validators use these values and
 * docs/security.md's table lists them (a test keeps the two equal). A bound is there so that no input,
 * however odd, can make Broadside wait forever, overflow a timer, exhaust memory or the stack, or act
 * on more than a person meant.
 */

/** `duration` within `limit`, or a usage error naming `field` with the bound it broke. */
export function checkDurationLimit(duration: Duration, limit: DurationLimit, field: string): Duration {
  if (duration.milliseconds > limit.max.milliseconds) {
    throw usageError(field, `must be at most ${limit.max.toString()}, got ${duration.toString()}`);
  }
  if (limit.min !== undefined && duration.milliseconds < limit.min.milliseconds) {
    throw usageError(field, `must be at least ${limit.min.toString()}, got ${duration.toString()}`);
  }
  return duration;
}

export interface DurationLimit {
  /** Where it is given: flags and file fields, as a user writes them. */
  readonly fields: string;
  readonly max: Duration;
  readonly min?: Duration;
}

function upTo(fields: string, max: string, min?: string): DurationLimit {
  return {
    fields,
    max: Duration.parse(max, fields),
    ...optional("min", min, (text) => Duration.parse(text, fields)),
  };
}

/** The limit of fault durations is configuration: BROADSIDE_MAX_FAULT_DURATION, up to this ceiling. */
export const faultDurationLimits = {
  defaultMax: Duration.parse("1h", "BROADSIDE_MAX_FAULT_DURATION"),
  ceiling: Duration.parse("168h", "BROADSIDE_MAX_FAULT_DURATION"),
} as const;

export const durationLimits = {
  /** How long a fault lasts: what BROADSIDE_MAX_FAULT_DURATION may allow at most (it may allow less). */
  faultDuration: {
    fields: "--duration; a fault's duration in any file",
    max: faultDurationLimits.ceiling,
    min: Duration.parse("1ms", "faultDuration"),
  },
  /** How long to watch a kill's or eviction's recovery. */
  recoveryTimeout: upTo("--timeout; an Experiment step's timeout", "1h"),
  /** The interval of --max-shots. */
  pacingInterval: upTo("--per", "1h", "1ms"),
  /** How long a Schedule keeps firing. */
  scheduleRun: upTo("--for", "24h", "1s"),
  /** Before/after check windows, and the sliding window of during checks. */
  checkWindow: upTo("--window; an Experiment's hypothesis window", "1h", "100ms"),
  /** A `wait` step of an Experiment's method or rollbacks. */
  waitStep: upTo("an Experiment's wait step", "24h"),
  /** A probe's request timeout and latency threshold. */
  probeTimeout: upTo("a probe's timeout and latencyThreshold", "5m"),
  /** The interval of a Schedule's `@every`. */
  everyInterval: upTo("a Schedule's @every", "24h", "1s"),
  /** A NetworkChaos delay's latency and jitter. */
  networkDelay: upTo("a NetworkChaos delay's latency and jitter", "1m"),
  /** A StressChaos memory stressor's time to reach its size. */
  stressRampUp: upTo("a StressChaos memory stressor's time", "1h"),
  /** How long closed ledger records are kept (BROADSIDE_LEDGER_RETENTION). */
  ledgerRetention: upTo("BROADSIDE_LEDGER_RETENTION", "8760h", "1m"),
  /** The sandbox's simulated pod lifecycle. */
  sandboxLifecycle: upTo("--pod-ready-delay, --pod-ready-jitter, --pod-shutdown-delay", "10m"),
  /** How often the sandbox's Flux reconciles the fleet: below 5s it would mostly load the machine. */
  fluxInterval: upTo("sandbox up --flux-interval", "24h", "5s"),
  /** The agent's leader election (its rules between the three are in kube/leader/timings.ts). */
  leaderElection: upTo(
    "agent --leader-elect-lease-duration, --leader-elect-renew-deadline, --leader-elect-retry-period",
    "168h",
    "100ms",
  ),
  /** A duel leg's GitOps reconcile interval (the same bounds as the sandbox's Flux). */
  duelInterval: upTo("a Duel leg's interval", "24h", "5s"),
  /** How long a duel's attack holds before Broadside reverts it: a round's length. */
  duelDeadline: upTo("a Duel leg's deadline", "1h", "1s"),
  /** The agent's longest wait between two looks at the ledger. */
  agentResync: upTo("agent --resync", "24h", "1s"),
} as const satisfies Record<string, DurationLimit>;

export interface CountLimit {
  readonly fields: string;
  readonly min: number;
  readonly max: number;
}

export const countLimits = {
  /** A scale fault's target replicas; 0 needs --unsafe. */
  replicas: { fields: "scale --replicas; a Scale fault's replicas", min: 0, max: 1000 },
  /** The grace period of a kill. */
  gracePeriodSeconds: {
    fields: "--grace-period; an Experiment's and a PodChaos's gracePeriod",
    min: 0,
    max: 86_400,
  },
  /** Pods a `fixed` mode picks. */
  fixedPods: { fields: "--value of --mode fixed; a selector's value with mode fixed", min: 1, max: 100_000 },
  /** Shots per pacing interval. */
  maxShots: { fields: "--max-shots", min: 1, max: 10_000 },
  /** A Schedule's kept history (Chaos Mesh's historyLimit). */
  historyLimit: { fields: "a Schedule's historyLimit", min: 1, max: 1000 },
  /** How late a Schedule's instant may still start (Chaos Mesh's startingDeadlineSeconds). */
  startingDeadlineSeconds: { fields: "a Schedule's startingDeadlineSeconds", min: 0, max: 86_400 },
  /** Replica and restart counts a kubernetes probe compares with. */
  probeCount: {
    fields: "a kubernetes probe's readyReplicasAtLeast and restartCountAtMost",
    min: 0,
    max: 100_000,
  },
  /** Steps of an Experiment's method, and of its rollbacks (also what keeps its CRD's CEL cost bounded). */
  experimentSteps: { fields: "an Experiment's method steps, and its rollbacks", min: 1, max: 100 },
  /** Probes of an Experiment's hypothesis. */
  probes: { fields: "an Experiment's probes", min: 1, max: 20 },
  /** A duel's legs, rounds per leg and attacks per round. */
  duelLegs: { fields: "a Duel's legs", min: 1, max: 4 },
  duelRounds: { fields: "a Duel leg's rounds", min: 1, max: 20 },
  duelAttacks: { fields: "a Duel's attacks", min: 1, max: 20 },
  /** Fake nodes of a sandbox. */
  sandboxNodes: { fields: "sandbox up --nodes", min: 1, max: 500 },
} as const satisfies Record<string, CountLimit>;

export const documentLimits = {
  /** Experiment files and reports are read whole; anything larger is refused before it is parsed. */
  fileBytes: 1_048_576,
  /** Maps and lists nested deeper than this are refused (a real experiment nests fewer than 15). */
  depth: 64,
  /** YAML alias expansions: a tiny file must not expand into gigabytes. */
  yamlAliases: 100,
  /**
   * A deleted object kept whole in its ledger record (a duel's `delete` attack), as JSON: a record is one
   * ConfigMap, at most 1 MiB with its escaping, so half of that.
   */
  deletedObjectBytes: 524_288,
} as const;

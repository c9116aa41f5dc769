import { CoreV1Api } from "@kubernetes/client-node";
import type { Command } from "commander";
import { hostname } from "node:os";
import { pino } from "pino";
import { runAgent } from "../agent/agent.js";
import { observability, observabilityConfig } from "../agent/http/observability.js";
import { Duration } from "../core/duration.js";
import { durationLimits } from "../core/input-limits.js";
import { optional } from "../core/objects.js";
import { broadsideNamespace, ensureBroadsideNamespace } from "../kube/ledger-store.js";
import { ClientNodeLeaseStore, leaseApiOf } from "../kube/leader/client-node-lease-store.js";
import { candidateIdentity } from "../kube/leader/identity.js";
import { ClusterStatusWriter } from "../kube/resource-status.js";
import { ClusterEventRecorder } from "../kube/events.js";
import { PodCache } from "../kube/pod-cache.js";
import { describeError } from "../core/errors.js";
import { leaderTimings } from "../kube/leader/timings.js";
import type { CliConfig } from "./config.js";
import { addClusterFlags, connectEngine, type ClusterFlags } from "./engine-setup.js";
import { durationOption, type CliIo } from "./options.js";

interface AgentFlags extends ClusterFlags {
  readonly healthProbeBindAddress?: string;
  readonly metricsBindAddress?: string;
  readonly leaderElect: boolean;
  readonly leaderElectLeaseDuration?: Duration;
  readonly leaderElectRenewDeadline?: Duration;
  readonly leaderElectRetryPeriod?: Duration;
  readonly resync: Duration;
}

const timingFlags = {
  leaseDurationMs: "--leader-elect-lease-duration",
  renewDeadlineMs: "--leader-elect-renew-deadline",
  retryPeriodMs: "--leader-elect-retry-period",
} as const;

/**
 * `broadside agent`: the resident controller (docs/agent.md). Every flag is checked before the first
 * request; SIGTERM and SIGINT stop it gracefully (the Lease released, the listeners closed), exit 0.
 */
export function registerAgentCommand(program: Command, config: CliConfig, io: CliIo, version: string): void {
  const leaderDuration = (flag: string) => durationOption(flag, durationLimits.leaderElection);
  addClusterFlags(program.command("agent"))
    .description(
      "Run the resident controller (leader-elected): reverts ledger records at their deadlines, reconciles PodChaos",
    )
    .option("--health-probe-bind-address <host:port>", "/healthz and /readyz (default: 127.0.0.1:8080)")
    .option("--metrics-bind-address <host:port>", "/metrics (default: 127.0.0.1:8080)")
    .option("--no-leader-elect", "act at once without a Lease (one replica only)")
    .option(
      `${timingFlags.leaseDurationMs} <duration>`,
      "how long a standby waits before taking over (default: 15s)",
      leaderDuration(timingFlags.leaseDurationMs),
    )
    .option(
      `${timingFlags.renewDeadlineMs} <duration>`,
      "how long the leader may fail to renew (default: 10s)",
      leaderDuration(timingFlags.renewDeadlineMs),
    )
    .option(
      `${timingFlags.retryPeriodMs} <duration>`,
      "the pause between tries (default: 2s)",
      leaderDuration(timingFlags.retryPeriodMs),
    )
    .option(
      "--resync <duration>",
      "the longest wait between two looks at the ledger",
      durationOption("--resync", durationLimits.agentResync),
      Duration.parse("1m", "--resync"),
    )
    .action(async (flags: AgentFlags) => {
      const timings = leaderTimings(
        {
          ...optional("leaseDurationMs", flags.leaderElectLeaseDuration?.milliseconds),
          ...optional("renewDeadlineMs", flags.leaderElectRenewDeadline?.milliseconds),
          ...optional("retryPeriodMs", flags.leaderElectRetryPeriod?.milliseconds),
        },
        timingFlags,
      );
      const seen = observability(
        observabilityConfig({
          version,
          healthAddress: flags.healthProbeBindAddress,
          metricsAddress: flags.metricsBindAddress,
        }),
      );
      // Opt-in by default in agent mode: only namespaces annotated broadside.dev/chaos=enabled are targets.
      const connected = connectEngine(config, io, { ...flags, optIn: true, observer: seen.metrics });
      const { kubeConfig, kube } = connected;
      const log = pino({ base: { component: "agent" } }, pino.destination(2));
      // Shots pick their targets from a cache of trimmed pods, not from a LIST per shot (docs/benchmarks.md).
      const podCache = new PodCache({
        watches: connected.ctx.watches,
        clock: connected.ctx.clock,
        fallback: connected.ctx.podFacts,
        onError: (error) => {
          log.warn({ err: describeError(error) }, "pod cache");
        },
      });
      // The engine's progress lines go to the log, as JSON like everything the agent says.
      const ctx = {
        ...connected.ctx,
        podFacts: podCache,
        progress: (message: string) => {
          log.info({ progress: message }, "progress");
        },
      };
      const stop = new AbortController();
      const onSignal = (): void => {
        stop.abort();
      };
      process.once("SIGTERM", onSignal);
      process.once("SIGINT", onSignal);
      // In a pod, the host name is the pod's name: the Lease says which pod leads.
      const identity = candidateIdentity(hostname());
      await ensureBroadsideNamespace(kubeConfig.makeApiClient(CoreV1Api));
      await runAgent(
        {
          identity,
          leaderElect: flags.leaderElect,
          timings,
          resyncMs: flags.resync.milliseconds,
          // As `broadside run` waits for a PodChaos's recovery.
          recoveryTimeout: Duration.parse("5m", "recoveryTimeout"),
        },
        {
          ctx,
          leases: new ClientNodeLeaseStore(leaseApiOf(kubeConfig), broadsideNamespace),
          status: new ClusterStatusWriter(kube),
          events: new ClusterEventRecorder(kube, ctx.clock, identity, (error) => {
            log.warn({ err: describeError(error) }, "could not record an event");
          }),
          observability: seen,
          log,
          podCache,
        },
        stop.signal,
      );
    });
}

import { CoreV1Api } from "@kubernetes/client-node";
import type { Command } from "commander";
import { hostname } from "node:os";
import { pino, type Logger } from "pino";
import type { Clock } from "../core/clock.js";
import { runAgent } from "../agent/agent.js";
import { checkChaosMeshCrds, serveChaosMeshApiFlag } from "../agent/chaos-mesh-api.js";
import { chaosMeshKinds, kindDefinitions } from "../agent/crds/definitions.js";
import { notificationCounters } from "../agent/notify-metrics.js";
import { AgentNotifications } from "../agent/notify/agent-notifications.js";
import { notificationConfigFromText, notificationsFlag } from "../agent/notify/config-file.js";
import type { NotificationConfig } from "../agent/notify/config.js";
import { createNotifier } from "../agent/notify/notifier.js";
import type { ExperimentSettings } from "../agent/experiment-reconciler.js";
import { isLoopback } from "../experiments/files/probes.js";
import type { KubeClients } from "../kube/client.js";
import { ClusterCrdReader } from "../kube/crds.js";
import { ClusterSecretKeyReader } from "../kube/secrets.js";
import { readInputFile } from "./input-file.js";
import { parseWatchNamespaces, watchNamespacesFlag } from "../agent/watch-scope.js";
import { observability, observabilityConfig } from "../agent/http/observability.js";
import { Duration } from "../core/duration.js";
import { durationLimits } from "../core/input-limits.js";
import { optional } from "../core/objects.js";
import { broadsideNamespace, ensureBroadsideNamespace } from "../kube/ledger-store.js";
import { ClientNodeLeaseStore, leaseApiOf } from "../kube/leader/client-node-lease-store.js";
import { candidateIdentity } from "../kube/leader/identity.js";
import { ClusterStatusWriter } from "../kube/resource-status.js";
import { ClusterFinalizerWriter } from "../kube/finalizers.js";
import { ClusterEventRecorder } from "../kube/events.js";
import { ClusterChildObjects } from "../kube/chaos-children.js";
import { PodCache } from "../kube/pod-cache.js";
import { ClusterPodLabels } from "../kube/pod-labels.js";
import { describeError, usageError } from "../core/errors.js";
import { parseListenAddress } from "../agent/http/address.js";
import { ApiLatencyRing } from "../board/api-latencies.js";
import { LeaderBoard } from "../board/leader-board.js";
import { LeaderPodLabel } from "../board/leader-pod-label.js";
import { startBoardService } from "../board/serve.js";
import type { EngineContext } from "../engine/context.js";
import { ClusterAccessReviewer } from "../kube/access-review.js";
import type { ApiRequestObserver } from "../kube/api-request-observer.js";
import { boardAudiences } from "./board-command.js";
import { leaderTimings } from "../kube/leader/timings.js";
import type { CliConfig } from "./config.js";
import { connectEngine } from "./engine-setup.js";
import { addClusterFlags, describeSummary, type ClusterFlags } from "./engine-context.js";
import { durationOption, type CliIo } from "./options.js";

interface AgentFlags extends ClusterFlags {
  readonly healthProbeBindAddress?: string;
  readonly metricsBindAddress?: string;
  readonly leaderElect: boolean;
  readonly leaderElectLeaseDuration?: Duration;
  readonly leaderElectRenewDeadline?: Duration;
  readonly leaderElectRetryPeriod?: Duration;
  readonly resync: Duration;
  readonly notifications?: string;
  readonly serveChaosMeshApi?: boolean;
  readonly nodeDaemons?: boolean;
  readonly watchNamespaces?: readonly string[];
  readonly boardListen?: string;
  readonly boardAudience?: string;
}

const boardListenFlag = "--board-listen";
const boardAudienceFlag = "--board-audience";

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
      "Run the resident controller (leader-elected): reverts ledger records at their deadlines, reconciles PodChaos and Schedules",
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
    .option(
      `${notificationsFlag} <file>`,
      "the notifications configuration (YAML: a notifications: section; docs/agent.md#notifications)",
    )
    .option(
      serveChaosMeshApiFlag,
      "also reconcile chaos-mesh.org PodChaos and Schedule (needs Broadside's CRDs from deploy/crds/chaos-mesh/)",
    )
    .option(
      "--node-daemons",
      "node daemons (broadside daemon) run on the target pods' nodes: hand PodChaos container-kill to them (a sandbox with pod bodies runs them)",
    )
    .option(
      `${watchNamespacesFlag} <names>`,
      "namespaced mode: watch and act only in these namespaces, comma-separated (default: all namespaces)",
      parseWatchNamespaces,
    )
    .option(
      `${boardListenFlag} <host:port>`,
      "serve the GameDay board here (docs/board.md); only the leader serves games that act (default: no board)",
    )
    .option(
      `${boardAudienceFlag} <name>`,
      `with ${boardListenFlag}: refuse operator tokens not minted for this audience`,
    )
    .action(async (flags: AgentFlags) => {
      const boarding = agentBoardSettings(flags);
      // Read and checked before the first request: a bad file is exit 2 naming its field.
      const notifying =
        flags.notifications === undefined
          ? undefined
          : notificationConfigFromText(
              await readInputFile(flags.notifications, notificationsFlag),
              flags.notifications,
            );
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
      const connected = connectEngine(config, io, {
        ...flags,
        optIn: true,
        observer: withBoardLatencies(seen.metrics, boarding),
        ...optional("watchedNamespaces", flags.watchNamespaces),
      });
      const { kubeConfig, kube } = connected;
      const log = pino({ base: { component: "agent" } }, pino.destination(2));
      // Shots pick their targets from a cache of trimmed pods, not from a LIST per shot (docs/benchmarks.md).
      // The cache watches pods, namespaces and ReplicaSets cluster-wide: in namespaced mode, whose RBAC
      // grants no cluster-wide list (ADR 0014), the engine lists per shot in its namespaces instead.
      const podCache =
        flags.watchNamespaces === undefined
          ? new PodCache({
              watches: connected.ctx.watches,
              clock: connected.ctx.clock,
              fallback: connected.ctx.podFacts,
              onError: (error) => {
                log.warn({ err: describeError(error) }, "pod cache");
              },
            })
          : undefined;
      // The engine's progress lines go to the log, as JSON like everything the agent says.
      const ctx = {
        ...connected.ctx,
        podFacts: podCache ?? connected.ctx.podFacts,
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
      if (flags.serveChaosMeshApi === true)
        await checkChaosMeshCrds(new ClusterCrdReader(kubeConfig), chaosMeshPlurals());
      await ensureBroadsideNamespace(kubeConfig.makeApiClient(CoreV1Api));
      const notifications = startNotifications(notifying, { kube, ctx, log, seen });
      const board = leaderBoard(boarding, { ctx, kube, self: config.selfPod });
      try {
        await runAgent(
          {
            identity,
            leaderElect: flags.leaderElect,
            timings,
            resyncMs: flags.resync.milliseconds,
            // As `broadside run` waits for a PodChaos's recovery.
            recoveryTimeout: Duration.parse("5m", "recoveryTimeout"),
            serveChaosMeshApi: flags.serveChaosMeshApi === true,
            nodeDaemons: flags.nodeDaemons === true,
            // An Experiment's run, as `broadside run` would run it against this cluster (ADR 0017).
            experiments: experimentSettings(config, kubeConfig),
          },
          {
            ctx,
            leases: new ClientNodeLeaseStore(leaseApiOf(kubeConfig), broadsideNamespace),
            status: new ClusterStatusWriter(kube),
            finalizers: new ClusterFinalizerWriter(kube),
            events: new ClusterEventRecorder(kube, ctx.clock, identity, (error) => {
              log.warn({ err: describeError(error) }, "could not record an event");
            }),
            children: new ClusterChildObjects(kube),
            observability: seen,
            log,
            ...optional("notifications", notifications?.feed),
            ...optional("podCache", podCache),
            ...optional("board", board),
          },
          stop.signal,
        );
      } finally {
        // Queued messages are still delivered for up to delivery.drainTimeout.
        await notifications?.notifier.close();
      }
    });
}

/** --board-listen and --board-audience, checked before the first request; undefined without a board. */
function agentBoardSettings(flags: AgentFlags) {
  if (flags.boardListen === undefined) {
    if (flags.boardAudience !== undefined) throw usageError(boardAudienceFlag, `needs ${boardListenFlag}`);
    return undefined;
  }
  return {
    listen: parseListenAddress(flags.boardListen, boardListenFlag),
    audiences: boardAudiences(flags.boardAudience, boardAudienceFlag),
    // The board's scoreboard shows the latencies of the agent's own API requests, as the metrics do.
    latencies: new ApiLatencyRing(),
  };
}

type AgentBoardSettings = ReturnType<typeof agentBoardSettings>;

/**
 * The board the leader serves (board/leader-board.ts) over the agent's own engine: its context (the pod
 * cache in cluster mode), its throttled clients, its ledger and kill switch. The board's audit log is
 * JSON lines on stderr, as the agent's log, with `component` "board". Operators are asked for `operate
 * boards.broadside.dev` in Broadside's namespace.
 */
function leaderBoard(
  settings: AgentBoardSettings,
  parts: { readonly ctx: EngineContext; readonly kube: KubeClients; readonly self: CliConfig["selfPod"] },
): LeaderBoard | undefined {
  if (settings === undefined) return undefined;
  const { ctx, kube, self } = parts;
  const { latencies } = settings;
  const audit = pino({ base: { component: "board" } }, pino.destination(2));
  if (self === undefined) audit.info({}, "board pod label off: BROADSIDE_POD_NAME is not set");
  return new LeaderBoard({
    listen: settings.listen,
    clock: ctx.clock,
    log: audit,
    // In a pod, the leader labels it so that the board's Service reaches the leader only.
    ...optional(
      "mark",
      self === undefined
        ? undefined
        : new LeaderPodLabel({ pods: new ClusterPodLabels(kube), self, clock: ctx.clock, log: audit }),
    ),
    serve: () =>
      startBoardService(ctx, {
        listen: settings.listen,
        operatorNamespace: broadsideNamespace,
        reviewer: new ClusterAccessReviewer(kube, settings.audiences),
        audit,
        latencies,
        onLeftoverRecovered: (summary) => {
          audit.info({ recovered: describeSummary(summary) }, "recovered a board's drift left behind");
        },
      }),
  });
}

/** Every API request told to the agent's metrics and, with a board, to its scoreboard too. */
function withBoardLatencies(metrics: ApiRequestObserver, board: AgentBoardSettings): ApiRequestObserver {
  if (board === undefined) return metrics;
  return {
    requestEnded: (observation) => {
      metrics.requestEnded(observation);
      board.latencies.requestEnded(observation);
    },
  };
}

/** Probes reach loopback only when the API server is on this machine, as `broadside run` decides. */
function experimentSettings(
  config: CliConfig,
  kubeConfig: { getCurrentCluster(): { readonly server: string } | null },
): ExperimentSettings {
  return {
    loopbackOnly: isLoopback(kubeConfig.getCurrentCluster()?.server ?? ""),
    maxFaultDuration: config.maxFaultDuration,
    ...optional("prometheusUrl", config.prometheusUrl),
  };
}

/** The plural of each chaos-mesh.org drop-in CRD (deploy/crds/chaos-mesh/). */
function chaosMeshPlurals(): string[] {
  return kindDefinitions
    .filter((definition) => chaosMeshKinds.includes(definition.kind))
    .map((definition) => definition.plural);
}

function startNotifications(
  config: NotificationConfig | undefined,
  parts: {
    readonly kube: KubeClients;
    readonly ctx: { readonly clock: Clock; readonly random: () => number };
    readonly log: Logger;
    readonly seen: ReturnType<typeof observability>;
  },
) {
  if (config === undefined) return undefined;
  const { kube, ctx, log, seen } = parts;
  const notifier = createNotifier(config, {
    clock: ctx.clock,
    secrets: new ClusterSecretKeyReader(kube, broadsideNamespace),
    counters: notificationCounters(seen.metrics),
    log,
    random: ctx.random,
  });
  const feed = new AgentNotifications(notifier, ctx.clock, (error) => {
    log.warn({ err: describeError(error) }, "could not make a notification");
  });
  log.info({ sinks: config.sinks.map((sink) => ({ name: sink.name, type: sink.type })) }, "notifications on");
  return { notifier, feed };
}

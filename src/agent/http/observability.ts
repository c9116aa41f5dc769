import { AgentMetrics, defaultMaxFieldManagers, type MetricsConfig } from "../metrics/agent-metrics.js";
import { agentHttpConfig, startAgentHttp, type AgentHttpConfig, type AgentHttpFlags } from "./server.js";
import type { AgentHttpServer, ReadinessCheck } from "./server.js";

/**
 * Everything the agent's health and metrics need, in the one object the entry point builds from its flags
 * and passes down: the metrics exist first (connect() takes them as its request observer), the server
 * starts once the readiness checks exist.
 */
export interface ObservabilityConfig {
  readonly http: AgentHttpConfig;
  readonly metrics: MetricsConfig;
}

export interface ObservabilityFlags extends AgentHttpFlags {
  /** Broadside's version, as `--version` prints it. */
  readonly version: string;
}

/** Checks the address flags (a usage error names the bad one); process metrics on, 20 field managers. */
export function observabilityConfig(flags: ObservabilityFlags): ObservabilityConfig {
  return {
    http: agentHttpConfig(flags),
    metrics: { version: flags.version, processMetrics: true, maxFieldManagers: defaultMaxFieldManagers },
  };
}

export interface Observability {
  readonly metrics: AgentMetrics;
  /** Starts the listeners; resolves once they are bound. */
  readonly serve: (readiness: readonly ReadinessCheck[]) => Promise<AgentHttpServer>;
}

export function observability(config: ObservabilityConfig): Observability {
  const metrics = new AgentMetrics(config.metrics);
  return { metrics, serve: (readiness) => startAgentHttp(config.http, { metrics, readiness }) };
}

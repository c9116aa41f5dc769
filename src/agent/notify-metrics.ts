import type { AgentMetrics } from "./metrics/agent-metrics.js";
import type { NotificationCounters } from "./notify/ports.js";

/**
 * The notifier's counters as the metric broadside_notifications_total{channel, result}: the channel is
 * the sink's type (slack, webex, webhook), never its name, so the series stay few however many sinks a
 * user configures. Retries are in the log; the metric counts what became of each message.
 */
export function notificationCounters(metrics: Pick<AgentMetrics, "notified">): NotificationCounters {
  return {
    delivered: (sink) => {
      metrics.notified(sink.type, "delivered");
    },
    failed: (sink) => {
      metrics.notified(sink.type, "failed");
    },
    dropped: (sink) => {
      metrics.notified(sink.type, "dropped");
    },
    retried: () => undefined,
  };
}

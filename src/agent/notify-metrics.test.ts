import { describe, expect, it } from "vitest";
import { AgentMetrics } from "./metrics/agent-metrics.js";
import { notificationCounters } from "./notify-metrics.js";

describe("what became of notifications, as the agent's metric", () => {
  it("counts each message's fate by the sink's type, never by its name", async () => {
    const metrics = new AgentMetrics({ version: "test", processMetrics: false, maxFieldManagers: 20 });
    const counters = notificationCounters(metrics);
    counters.delivered({ sink: "oncall", type: "slack" });
    counters.delivered({ sink: "team-b", type: "slack" });
    counters.dropped({ sink: "audit", type: "webhook" });
    counters.retried({ sink: "audit", type: "webhook" });
    const text = await metrics.render();
    expect(text).toContain('broadside_notifications_total{channel="slack",result="delivered"} 2');
    expect(text).toContain('broadside_notifications_total{channel="webhook",result="dropped"} 1');
    expect(text).not.toContain("oncall");
  });
});

import { describe, expect, it } from "vitest";
import { BroadsideError } from "../../core/errors.js";
import { notificationEventTypes } from "../../core/notify/event.js";
import { parseNotificationConfig } from "./config.js";

const slack = {
  name: "team",
  type: "slack",
  urlFrom: { secretKeyRef: { name: "broadside-notify", key: "slack-url" } },
};

function problemOf(input: unknown): string {
  try {
    parseNotificationConfig(input, "agent.yaml");
  } catch (error: unknown) {
    if (error instanceof BroadsideError && error.code === "BRD_USAGE") return error.message;
    throw error;
  }
  throw new Error("expected a usage error");
}

describe("the notifications configuration", () => {
  it("fills in the delivery defaults, every event and the default templates", () => {
    const config = parseNotificationConfig({ sinks: [slack] }, "agent.yaml");
    expect(config.delivery).toEqual({
      queueSize: 100,
      attempts: 5,
      attemptTimeoutMs: 10_000,
      backoffMinMs: 1000,
      backoffMaxMs: 60_000,
      drainTimeoutMs: 10_000,
    });
    const [sink] = config.sinks;
    expect(sink?.type).toBe("slack");
    expect([...(sink?.events ?? [])]).toEqual([...notificationEventTypes]);
    expect(sink?.type === "slack" ? sink.urlFrom : undefined).toEqual({
      name: "broadside-notify",
      key: "slack-url",
    });
  });

  it("reads a Webex sink with its room, its token's Secret and the messages API by default", () => {
    const config = parseNotificationConfig(
      {
        sinks: [
          {
            name: "ops",
            type: "webex",
            roomId: "Y2lzY29zcGFyazovL3Vz",
            tokenFrom: { secretKeyRef: { name: "s", key: "token" } },
          },
        ],
        delivery: {
          attempts: 3,
          attemptTimeout: "2s",
          backoffMin: "500ms",
          backoffMax: "30s",
          queueSize: 10,
          drainTimeout: "0",
        },
      },
      "agent.yaml",
    );
    const [sink] = config.sinks;
    expect(sink?.type === "webex" ? sink.apiUrl.href : undefined).toBe("https://webexapis.com/v1/messages");
    expect(config.delivery).toEqual({
      queueSize: 10,
      attempts: 3,
      attemptTimeoutMs: 2000,
      backoffMinMs: 500,
      backoffMaxMs: 30_000,
      drainTimeoutMs: 0,
    });
  });

  it("names the template's field when a placeholder is unknown", () => {
    const message = problemOf({ sinks: [{ ...slack, templates: { recovered: "{{target.nam}} is back" } }] });
    expect(message).toMatch(
      /^agent\.yaml: notifications\.sinks\[0\]\.templates\.recovered: unknown placeholder "\{\{target\.nam\}\}"; known placeholders: event, time, /,
    );
  });

  it("names every bad field at once", () => {
    const message = problemOf({
      sinks: [
        { ...slack, events: ["exploded"], templates: { injected: "{{", healed: "x" } },
        { ...slack, urlFrom: { secretKeyRef: { name: "Bad_Name", key: "a/b" } } },
        {
          name: "ops",
          type: "webex",
          roomId: "r",
          tokenFrom: { secretKeyRef: { name: "s", key: "t" } },
          apiUrl: "http://webex.example/v1/messages",
        },
      ],
      delivery: { attempts: 0, attemptTimeout: "forever", backoffMin: "2m", backoffMax: "1m" },
    });
    for (const line of [
      'agent.yaml: notifications.sinks[0].events[0]: must be one of injected, recovered, reverted, refused, got "exploded"',
      'agent.yaml: notifications.sinks[0].templates.injected: "{{" opens no placeholder; write placeholders as {{target.name}}',
      "agent.yaml: notifications.sinks[0].templates.healed: unknown field",
      "agent.yaml: notifications.sinks[1].urlFrom.secretKeyRef.name: must consist of lowercase letters, digits and '-', starting and ending with a letter or digit, in parts separated by '.'",
      "agent.yaml: notifications.sinks[1].urlFrom.secretKeyRef.key: must consist of letters, digits, '-', '_' and '.'",
      "agent.yaml: notifications.sinks[2].apiUrl: must use https (plain http only to 127.0.0.0/8 or ::1)",
      "agent.yaml: notifications.delivery.attempts: must be at least 1",
      'agent.yaml: notifications.delivery.attemptTimeout: "forever" is not a duration; use a number with a unit: 500ms, 30s, 5m, 1h',
      'agent.yaml: notifications.delivery.backoffMin: must be at most 1m, got "2m"',
    ]) {
      expect(message.split("\n")).toContain(line);
    }
  });

  it("refuses two sinks of the same name: logs and metrics tell sinks apart by name", () => {
    expect(problemOf({ sinks: [slack, { ...slack, type: "webhook" }] })).toBe(
      "agent.yaml: notifications.sinks[1].name: names a sink twice",
    );
  });

  it("refuses a backoffMax shorter than backoffMin", () => {
    expect(problemOf({ sinks: [slack], delivery: { backoffMin: "10s", backoffMax: "5s" } })).toBe(
      "agent.yaml: notifications.delivery.backoffMax: must not be shorter than backoffMin",
    );
  });

  it("refuses a URL written into the configuration instead of a Secret reference", () => {
    expect(
      problemOf({
        sinks: [{ name: "team", type: "slack", url: "https://hooks.slack.com/services/T/B/secret" }],
      }),
    ).toBe(
      "agent.yaml: notifications.sinks[0].urlFrom: is required\nagent.yaml: notifications.sinks[0].url: unknown field",
    );
  });
});

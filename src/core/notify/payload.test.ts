import { describe, expect, it } from "vitest";
import type { NotificationEvent } from "./event.js";
import { slackBody, webexBody, webhookBody, webhookBodySchema } from "./payload.js";

const refused: NotificationEvent = {
  type: "refused",
  faultKind: "pod-evict",
  target: { kind: "Pod", namespace: "shop", name: "web-1", uid: "u-1" },
  source: { apiVersion: "broadside.dev/v1alpha1", kind: "PodChaos", namespace: "shop", name: "evict-web" },
  reason: "Cannot evict pod as it would violate the pod's disruption budget.",
  at: Date.UTC(2026, 11, 6, 18, 0, 0, 5),
};

describe("the generic webhook's body, broadside.dev/notification/v1", () => {
  it("carries the event, the fault, the target, the source, the milestones seen, the reason and the text", () => {
    expect(webhookBody(refused, "refused!")).toEqual({
      schemaVersion: "broadside.dev/notification/v1",
      event: "refused",
      time: "2026-12-06T18:00:00.005Z",
      fault: { kind: "pod-evict" },
      target: { kind: "Pod", namespace: "shop", name: "web-1", uid: "u-1" },
      source: {
        apiVersion: "broadside.dev/v1alpha1",
        kind: "PodChaos",
        namespace: "shop",
        name: "evict-web",
      },
      milestones: {},
      reason: "Cannot evict pod as it would violate the pod's disruption budget.",
      text: "refused!",
    });
  });

  it("says null for a missing source and reason, and passes its own schema", () => {
    const { source, reason, ...bare } = refused;
    expect([source, reason]).not.toContain(undefined);
    const body = webhookBody({ ...bare, type: "recovered", milestones: { readyMs: 900 } }, "ok");
    expect(body).toMatchObject({ source: null, reason: null, milestones: { readyMs: 900 } });
    expect(webhookBodySchema.safeParse(body).success).toBe(true);
  });

  it("copies only the fields of the schema, whatever else the event object carries", () => {
    const extra = { ...refused, target: { ...refused.target, secret: "x" } };
    expect(webhookBody(extra, "t").target).toEqual(refused.target);
  });
});

describe("the chat bodies", () => {
  it("sends Slack its text, and Webex a room and plain text", () => {
    expect(slackBody("hi")).toEqual({ text: "hi" });
    expect(webexBody("room-1", "hi")).toEqual({ roomId: "room-1", text: "hi" });
  });
});

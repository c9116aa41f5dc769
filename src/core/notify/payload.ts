import { z } from "zod";
import { milestoneNames, notificationEventTypes, type NotificationEvent } from "./event.js";

/**
 * The bodies the sinks send. The generic webhook's is Broadside's own, versioned by `schemaVersion`: a
 * field may be added within a version, never renamed, retyped or removed (that takes a new version), so
 * its schema is open (`loose`): a receiver validating against it accepts a field added later. The zod
 * schema is the source of the body's type and of docs/schema/notification.schema.json (json-schema.ts).
 */

export const webhookSchemaVersion = "broadside.dev/notification/v1";

const milestonesSchema = z
  .object(Object.fromEntries(milestoneNames.map((name) => [name, z.number().int().nonnegative().optional()])))
  .loose();

export const webhookBodySchema = z
  .object({
    schemaVersion: z.literal(webhookSchemaVersion),
    event: z.enum(notificationEventTypes),
    /** RFC 3339, UTC, in ms. */
    time: z.iso.datetime(),
    fault: z.object({ kind: z.string() }).loose(),
    target: z.object({ kind: z.string(), namespace: z.string(), name: z.string(), uid: z.string() }).loose(),
    /** The chaos resource, or null when the fault came from elsewhere (a command line). */
    source: z
      .object({ apiVersion: z.string(), kind: z.string(), namespace: z.string(), name: z.string() })
      .loose()
      .nullable(),
    /** Only the milestones that were seen; each in ms since the shot was sent. */
    milestones: milestonesSchema,
    reason: z.string().nullable(),
    /** The sink's template rendered for this event, as plain text. */
    text: z.string(),
  })
  .loose();
export type WebhookBody = z.infer<typeof webhookBodySchema>;

export function webhookBody(event: NotificationEvent, text: string): WebhookBody {
  return {
    schemaVersion: webhookSchemaVersion,
    event: event.type,
    time: new Date(event.at).toISOString(),
    fault: { kind: event.faultKind },
    target: {
      kind: event.target.kind,
      namespace: event.target.namespace,
      name: event.target.name,
      uid: event.target.uid,
    },
    source: sourceOf(event),
    milestones: { ...event.milestones },
    reason: event.reason ?? null,
    text,
  };
}

function sourceOf(event: NotificationEvent): WebhookBody["source"] {
  const source = event.source;
  if (source === undefined) return null;
  return { apiVersion: source.apiVersion, kind: source.kind, namespace: source.namespace, name: source.name };
}

/** Slack incoming webhook: the message as mrkdwn text (escaped by template.ts's slackMrkdwn). */
export function slackBody(text: string): { readonly text: string } {
  return { text };
}

/** Webex messages API: plain text to one room. */
export function webexBody(roomId: string, text: string): { readonly roomId: string; readonly text: string } {
  return { roomId, text };
}

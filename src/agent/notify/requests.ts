import { describeError } from "../../core/errors.js";
import type { NotificationEvent } from "../../core/notify/event.js";
import { slackBody, webexBody, webhookBody } from "../../core/notify/payload.js";
import { plainText, renderTemplate, slackMrkdwn, type Escaper } from "../../core/notify/template.js";
import { sinkUrl } from "../../core/notify/url.js";
import type { SecretKeyRef, SinkConfig, SinkType } from "./config.js";
import type { SecretKeyReader } from "./ports.js";

/**
 * From a notification to the HTTP request each sink type sends. The Secret is read for every delivery,
 * so a rotated webhook URL or token is used from the next notification on, without a restart.
 */

/** A notification waiting in a sink's queue: the event and its message, rendered when it was queued. */
export interface QueuedNotification {
  readonly event: NotificationEvent;
  readonly text: string;
}

export interface OutgoingRequest {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** What must never appear in a log or an error: the URL and the token. */
  readonly secrets: readonly string[];
}

/** Why no request could be made; `retry` when asking again may help (the API did not answer). */
export interface RequestProblem {
  readonly problem: string;
  readonly retry: boolean;
}

const escapers: Readonly<Record<SinkType, Escaper>> = {
  slack: slackMrkdwn,
  webex: plainText,
  webhook: plainText,
};

/** The message of `event` for `sink`, escaped for what the sink renders. */
export function messageFor(sink: SinkConfig, event: NotificationEvent): string {
  return renderTemplate(sink.templates[event.type], event, escapers[sink.type]);
}

const jsonHeaders = { "content-type": "application/json; charset=utf-8", "user-agent": "broadside" };

/** The request that delivers `notification` to `sink`, or why there is none. */
export async function requestFor(
  sink: SinkConfig,
  notification: QueuedNotification,
  secrets: SecretKeyReader,
): Promise<OutgoingRequest | RequestProblem> {
  if (sink.type === "webex") return webexRequest(sink, notification, secrets);
  const read = await readSecret(secrets, sink.urlFrom, "urlFrom");
  if (typeof read !== "string") return read;
  const url = sinkUrl(read);
  if (!(url instanceof URL))
    return { problem: `${where("urlFrom", sink.urlFrom)}: ${url.problem}`, retry: false };
  const body =
    sink.type === "slack" ? slackBody(notification.text) : webhookBody(notification.event, notification.text);
  return { url, headers: jsonHeaders, body: JSON.stringify(body), secrets: [read.trim(), ...secretsOf(url)] };
}

async function webexRequest(
  sink: Extract<SinkConfig, { type: "webex" }>,
  notification: QueuedNotification,
  secrets: SecretKeyReader,
): Promise<OutgoingRequest | RequestProblem> {
  const token = await readSecret(secrets, sink.tokenFrom, "tokenFrom");
  if (typeof token !== "string") return token;
  const trimmed = token.trim();
  // A header value must be visible ASCII: a newline in it would be a header injection, and fetch refuses it.
  if (!/^[\x21-\x7e]+$/.test(trimmed)) {
    return { problem: `${where("tokenFrom", sink.tokenFrom)}: is not a bearer token`, retry: false };
  }
  return {
    url: sink.apiUrl,
    headers: { ...jsonHeaders, authorization: `Bearer ${trimmed}` },
    body: JSON.stringify(webexBody(sink.roomId, notification.text)),
    secrets: [trimmed],
  };
}

/** The field and the Secret's key, as messages name them; never the value. */
function where(field: string, ref: SecretKeyRef): string {
  return `${field} (Secret ${JSON.stringify(ref.name)}, key ${JSON.stringify(ref.key)})`;
}

async function readSecret(
  secrets: SecretKeyReader,
  ref: SecretKeyRef,
  field: string,
): Promise<string | RequestProblem> {
  try {
    const value = await secrets.read(ref);
    if (value === undefined) return { problem: `${where(field, ref)}: no such Secret or key`, retry: false };
    return value;
  } catch (error: unknown) {
    return { problem: `${where(field, ref)}: could not be read: ${describeError(error)}`, retry: true };
  }
}

/** The URL whole, and its path and query on their own (a Slack webhook's key is its path). */
function secretsOf(url: URL): string[] {
  return [url.href, url.pathname + url.search, url.pathname, url.search].filter((part) => part.length > 1);
}

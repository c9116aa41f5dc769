import { printable } from "../terminal-text.js";
import { milestoneNames, type NotificationEvent, type NotificationEventType } from "./event.js";

/**
 * The message templates of notifications: literal text with placeholders such as `{{target.name}}` or
 * `{{milestones.readyMs}}`. A placeholder is a path into the generic webhook's JSON body (payload.ts),
 * and nothing else: there are no expressions, filters, loops or calls, so a template from configuration
 * can never run code. A template is parsed once, when the configuration is read; an unknown placeholder
 * is a problem named with the template's field there, so rendering cannot fail.
 */

export const placeholders = [
  "event",
  "time",
  "fault.kind",
  "target.kind",
  "target.namespace",
  "target.name",
  "target.uid",
  "source.apiVersion",
  "source.kind",
  "source.namespace",
  "source.name",
  ...milestoneNames.map((name) => `milestones.${name}` as const),
  "reason",
] as const;
export type Placeholder = (typeof placeholders)[number];

const knownPlaceholders: ReadonlySet<string> = new Set(placeholders);

function isPlaceholder(name: string): name is Placeholder {
  return knownPlaceholders.has(name);
}

export type TemplatePart = { readonly literal: string } | { readonly placeholder: Placeholder };

export interface Template {
  readonly parts: readonly TemplatePart[];
}

/** The longest template accepted: far more than a chat message needs, little enough to keep in memory. */
export const maxTemplateLength = 2000;
/** A value longer than this (a reason quoting an API answer) is cut, so one message stays readable. */
export const maxValueLength = 1000;
/** What a placeholder renders as when the event has no value for it (a milestone not seen, no reason). */
export const missingValue = "n/a";

// Lazy, and no braces inside: "{{a}} {{b}}" is two placeholders, "{{ {{a}}" leaves an unmatched "{{".
const placeholderPattern = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The parsed template, or why `text` is not one (the caller adds the field's name). */
export function parseTemplate(text: string): Template | { readonly problem: string } {
  if (text.trim() === "") return { problem: "must not be empty" };
  if (text.length > maxTemplateLength) return { problem: `must be at most ${maxTemplateLength} characters` };
  const parts: TemplatePart[] = [];
  let from = 0;
  for (const match of text.matchAll(placeholderPattern)) {
    const [whole, name = ""] = match;
    const literal = text.slice(from, match.index);
    if (literal.includes("{{")) return unmatchedBraces();
    if (!isPlaceholder(name)) return unknownPlaceholder(name);
    if (literal !== "") parts.push({ literal });
    parts.push({ placeholder: name });
    from = match.index + whole.length;
  }
  const rest = text.slice(from);
  if (rest.includes("{{")) return unmatchedBraces();
  if (rest !== "") parts.push({ literal: rest });
  return { parts };
}

function unmatchedBraces(): { readonly problem: string } {
  return { problem: '"{{" opens no placeholder; write placeholders as {{target.name}}' };
}

function unknownPlaceholder(name: string): { readonly problem: string } {
  const shown = JSON.stringify(`{{${printable(name.slice(0, 80))}}}`);
  return { problem: `unknown placeholder ${shown}; known placeholders: ${placeholders.join(", ")}` };
}

/** Turns a value from the event into text the sink shows as text: Slack mrkdwn, plain text, JSON. */
export type Escaper = (value: string) => string;

/**
 * Slack's mrkdwn gives &, < and > meaning (`<!channel>`, `<https://x|link>`); its documentation asks for
 * exactly these three to be escaped as HTML entities.
 */
export const slackMrkdwn: Escaper = (value) =>
  value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** Plain text (Webex's `text` field, the generic webhook's `text`): JSON.stringify encodes the body. */
export const plainText: Escaper = (value) => value;

/**
 * The message for `event`. Values from the event (names and reasons from the cluster) are cleaned of
 * control and bidirectional characters (core/terminal-text.ts) and escaped for the sink; the template's
 * own text is the operator's and keeps its markup, cleaned of control characters too.
 */
export function renderTemplate(template: Template, event: NotificationEvent, escape: Escaper): string {
  const values = placeholderValues(event);
  return template.parts
    .map((part) =>
      "literal" in part ? printable(part.literal) : escape(printable(shorten(values[part.placeholder]))),
    )
    .join("");
}

function shorten(value: string): string {
  return value.length > maxValueLength ? `${value.slice(0, maxValueLength)}...` : value;
}

function orMissing(value: string | number | undefined): string {
  return value === undefined ? missingValue : String(value);
}

/** Every placeholder's text for `event`. */
export function placeholderValues(event: NotificationEvent): Readonly<Record<Placeholder, string>> {
  const source = event.source;
  const milestones = Object.fromEntries(
    milestoneNames.map((name) => [`milestones.${name}`, orMissing(event.milestones?.[name])]),
  ) as Record<`milestones.${(typeof milestoneNames)[number]}`, string>;
  return {
    event: event.type,
    time: new Date(event.at).toISOString(),
    "fault.kind": event.faultKind,
    "target.kind": event.target.kind,
    "target.namespace": event.target.namespace,
    "target.name": event.target.name,
    "target.uid": event.target.uid,
    "source.apiVersion": orMissing(source?.apiVersion),
    "source.kind": orMissing(source?.kind),
    "source.namespace": orMissing(source?.namespace),
    "source.name": orMissing(source?.name),
    ...milestones,
    reason: orMissing(event.reason),
  };
}

/**
 * The messages sent when a sink sets no template of its own: plain text without markup, so each reads
 * the same in Slack, Webex and a webhook's `text`.
 */
export const defaultTemplateText: Readonly<Record<NotificationEventType, string>> = {
  injected:
    "Broadside injected {{fault.kind}} into {{target.kind}} {{target.namespace}}/{{target.name}} ({{source.kind}} {{source.name}})",
  recovered:
    "{{target.kind}} {{target.namespace}}/{{target.name}} recovered from {{fault.kind}}: replacement created {{milestones.createdMs}} ms, scheduled {{milestones.scheduledMs}} ms, Ready {{milestones.readyMs}} ms, workload restored {{milestones.restoredMs}} ms",
  reverted:
    "Broadside reverted {{fault.kind}} on {{target.kind}} {{target.namespace}}/{{target.name}} after {{milestones.revertedMs}} ms",
  refused:
    "Broadside's {{fault.kind}} on {{target.kind}} {{target.namespace}}/{{target.name}} was refused: {{reason}}",
};

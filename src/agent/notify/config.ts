import { z } from "zod";
import { Duration } from "../../core/duration.js";
import { BroadsideError } from "../../core/errors.js";
import { dnsLabelProblem, dnsSubdomainProblem } from "../../core/names.js";
import { notificationEventTypes, type NotificationEventType } from "../../core/notify/event.js";
import { defaultTemplateText, parseTemplate, type Template } from "../../core/notify/template.js";
import { sinkUrl } from "../../core/notify/url.js";
import { Problems } from "../../experiments/files/problems.js";

/**
 * The agent's `notifications` configuration: where to send (sinks, each reading its URL or token from a
 * Secret), which events, with which templates, and how hard to try. Parsed once at the entry point, every
 * problem named by its field; templates are parsed here, so rendering never fails later.
 */

/** A key of a Secret in the agent's own namespace, as Kubernetes' env `valueFrom.secretKeyRef` names one. */
export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

export interface DeliveryPolicy {
  /** Notifications waiting per sink; when full, the oldest waiting one is dropped (and counted). */
  readonly queueSize: number;
  /** Attempts per notification, the first included. */
  readonly attempts: number;
  readonly attemptTimeoutMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  /** How long close() keeps delivering what is queued before it drops the rest. */
  readonly drainTimeoutMs: number;
}

interface SinkCommon {
  /** Unique among the sinks; names the sink in logs and metrics. */
  readonly name: string;
  readonly events: ReadonlySet<NotificationEventType>;
  readonly templates: Readonly<Record<NotificationEventType, Template>>;
}

export type SinkConfig =
  | (SinkCommon & { readonly type: "slack"; readonly urlFrom: SecretKeyRef })
  | (SinkCommon & { readonly type: "webhook"; readonly urlFrom: SecretKeyRef })
  | (SinkCommon & {
      readonly type: "webex";
      readonly roomId: string;
      readonly tokenFrom: SecretKeyRef;
      readonly apiUrl: URL;
    });
export type SinkType = SinkConfig["type"];

export interface NotificationConfig {
  readonly delivery: DeliveryPolicy;
  readonly sinks: readonly SinkConfig[];
}

/** The bounds of each setting (documented in docs/agent.md, "Notifications"). */
export const notificationLimits = {
  sinks: 16,
  queueSize: { min: 1, max: 10_000, default: 100 },
  attempts: { min: 1, max: 20, default: 5 },
  attemptTimeout: { min: "100ms", max: "1m", default: "10s" },
  backoffMin: { min: "10ms", max: "1m", default: "1s" },
  backoffMax: { min: "10ms", max: "10m", default: "1m" },
  drainTimeout: { min: "0", max: "5m", default: "10s" },
} as const;

export const webexMessagesUrl = "https://webexapis.com/v1/messages";

const secretKeyPattern = /^[-._a-zA-Z0-9]+$/;

function problemCheck(problemOf: (text: string) => string | undefined) {
  return (text: string, context: z.RefinementCtx): void => {
    const problem = problemOf(text);
    if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
  };
}

const secretKeyRefSchema = z
  .object({
    secretKeyRef: z
      .object({
        name: z.string().superRefine(problemCheck(dnsSubdomainProblem)),
        key: z.string().max(253).regex(secretKeyPattern, "must consist of letters, digits, '-', '_' and '.'"),
      })
      .strict(),
  })
  .strict()
  .transform(({ secretKeyRef }) => secretKeyRef);

/** The words of Duration.parse's problem, without the field name it puts first. */
function durationProblem(text: string, min: string, max: string): string | undefined {
  try {
    const duration = Duration.parse(text, "@", Duration.parse(max, "@"));
    const lowest = Duration.parse(min, "@");
    return duration.milliseconds < lowest.milliseconds ? `must be at least ${lowest.toString()}` : undefined;
  } catch (error: unknown) {
    if (error instanceof BroadsideError) return error.message.replace(/^@: /, "");
    throw error;
  }
}

function durationSchema(limit: { readonly min: string; readonly max: string; readonly default: string }) {
  return z
    .string()
    .default(limit.default)
    .superRefine(problemCheck((text) => durationProblem(text, limit.min, limit.max)))
    .transform((text) => Duration.parse(text, "@").milliseconds);
}

function countSchema(limit: { readonly min: number; readonly max: number; readonly default: number }) {
  return z.number().int().min(limit.min).max(limit.max).default(limit.default);
}

const deliverySchema = z
  .object({
    queueSize: countSchema(notificationLimits.queueSize),
    attempts: countSchema(notificationLimits.attempts),
    attemptTimeout: durationSchema(notificationLimits.attemptTimeout),
    backoffMin: durationSchema(notificationLimits.backoffMin),
    backoffMax: durationSchema(notificationLimits.backoffMax),
    drainTimeout: durationSchema(notificationLimits.drainTimeout),
  })
  .strict()
  .superRefine((delivery, context) => {
    if (delivery.backoffMax < delivery.backoffMin) {
      context.addIssue({
        code: "custom",
        message: "must not be shorter than backoffMin",
        path: ["backoffMax"],
      });
    }
  })
  .transform((delivery): DeliveryPolicy => ({
    queueSize: delivery.queueSize,
    attempts: delivery.attempts,
    attemptTimeoutMs: delivery.attemptTimeout,
    backoffMinMs: delivery.backoffMin,
    backoffMaxMs: delivery.backoffMax,
    drainTimeoutMs: delivery.drainTimeout,
  }));

const templateSchema = z.string().transform((text, context): Template => {
  const parsed = parseTemplate(text);
  if ("parts" in parsed) return parsed;
  context.addIssue({ code: "custom", message: parsed.problem });
  return z.NEVER;
});

const templatesSchema = z
  .object(Object.fromEntries(notificationEventTypes.map((type) => [type, templateSchema.optional()])))
  .strict();

const urlSchema = z
  .string()
  .default(webexMessagesUrl)
  .transform((text, context): URL => {
    const url = sinkUrl(text);
    if (url instanceof URL) return url;
    context.addIssue({ code: "custom", message: url.problem });
    return z.NEVER;
  });

const common = {
  name: z.string().superRefine(problemCheck(dnsLabelProblem)),
  events: z.array(z.enum(notificationEventTypes)).min(1).optional(),
  templates: templatesSchema.optional(),
};

const sinkSchema = z.discriminatedUnion("type", [
  z.object({ ...common, type: z.literal("slack"), urlFrom: secretKeyRefSchema }).strict(),
  z.object({ ...common, type: z.literal("webhook"), urlFrom: secretKeyRefSchema }).strict(),
  z
    .object({
      ...common,
      type: z.literal("webex"),
      roomId: z
        .string()
        .min(1)
        .max(256)
        .regex(/^[A-Za-z0-9_=-]+$/, "must be a Webex room id"),
      tokenFrom: secretKeyRefSchema,
      apiUrl: urlSchema,
    })
    .strict(),
]);

const notificationsSchema = z
  .object({
    delivery: deliverySchema.prefault({}),
    sinks: z.array(sinkSchema).max(notificationLimits.sinks),
  })
  .strict()
  .superRefine(({ sinks }, context) => {
    const seen = new Set<string>();
    sinks.forEach((sink, index) => {
      if (seen.has(sink.name)) {
        context.addIssue({ code: "custom", message: "names a sink twice", path: ["sinks", index, "name"] });
      }
      seen.add(sink.name);
    });
  });

type ParsedSink = z.infer<typeof sinkSchema>;

function finishSink(sink: ParsedSink): SinkConfig {
  const templates = Object.fromEntries(
    notificationEventTypes.map((type) => [
      type,
      sink.templates?.[type] ?? (parseTemplate(defaultTemplateText[type]) as Template),
    ]),
  ) as Record<NotificationEventType, Template>;
  const events = new Set(sink.events ?? notificationEventTypes);
  return { ...sink, events, templates };
}

/**
 * The `notifications` section (`input`), as read from `source` (a file name, for messages); every problem
 * is reported at once as a usage error naming its field (`notifications.sinks[0].templates.recovered`).
 */
export function parseNotificationConfig(input: unknown, source: string): NotificationConfig {
  const root = { notifications: input };
  const parsed = notificationsSchema.safeParse(input);
  if (!parsed.success) {
    const problems = new Problems();
    problems.addIssues(parsed.error.issues, ["notifications"], root);
    problems.throwIfAny(source, () => undefined);
  }
  const data = parsed.data as z.infer<typeof notificationsSchema>;
  return { delivery: data.delivery, sinks: data.sinks.map(finishSink) };
}

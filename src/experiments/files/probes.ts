import { z } from "zod";
import { optional } from "../../core/objects.js";
import { countLimits, durationLimits } from "../../core/input-limits.js";
import { keyedRecord, namespaceNameSchema, objectNameSchema } from "../../core/schemas.js";
import { durationField } from "./durations.js";
import type {
  HttpProbe,
  KubernetesCondition,
  KubernetesProbe,
  Probe,
  PrometheusProbe,
  StatusRange,
} from "./model.js";
import { httpMethods, promComparators, workloadKinds } from "./model.js";
import { isFrontDoorUrl, parseFrontDoorUrl } from "./front-door-url.js";
import { describeValue } from "./problems.js";
import { toleranceField } from "./tolerance.js";

/**
 * Probes: how an experiment measures its steady state. Each probe yields samples (succeeded or failed,
 * with a latency for HTTP) that its tolerances judge. Schemas are strict so that a misspelt field is an
 * error rather than a probe that silently measures something else.
 */

/** A probe without tolerances must succeed every time. */
export const defaultTolerance = "availability >= 100%";

export const maxHttpFrequencyHz = 50;
/** Prometheus answers change only when it scrapes (typically every 15 s), so asking faster only loads it. */
export const maxPrometheusFrequencyHz = 1;

const probeName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
  error: (issue) => `must be a DNS label (lowercase letters, digits, '-'), got ${describeValue(issue.input)}`,
});

function frequency(max: number, fallback: number) {
  return z
    .number({
      error: (issue) => `must be a number of samples per second (Hz), got ${describeValue(issue.input)}`,
    })
    .positive({ error: "must be more than 0 Hz" })
    .max(max, { error: (issue) => `must be at most ${max} Hz, got ${String(issue.input)}` })
    .default(fallback);
}

function positiveDuration(fallback: string) {
  return durationField(durationLimits.probeTimeout)
    .refine((duration) => duration.milliseconds > 0, { error: "must be more than 0" })
    .prefault(fallback);
}

/** An HTTP header name is a token (RFC 9110 section 5.6.2): visible characters but delimiters. */
function headerNameProblem(name: string): string | undefined {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) ? undefined : "is not an HTTP header name";
}

function httpUrl() {
  return z.url({
    protocol: /^https?$/,
    error: (issue) => `must be an http:// or https:// URL, got ${describeValue(issue.input)}`,
  });
}

/** An http probe's URL may also name a sandbox Service's front door: front-door://SERVICE.NAMESPACE/PATH. */
function probeUrl() {
  return z
    .url({
      protocol: /^(https?|front-door)$/,
      error: (issue) =>
        `must be an http://, https:// or front-door:// URL, got ${describeValue(issue.input)}`,
    })
    .superRefine((url, context) => {
      const door = isFrontDoorUrl(url) ? parseFrontDoorUrl(url) : undefined;
      if (door !== undefined && "problem" in door)
        context.addIssue({ code: "custom", message: door.problem });
    });
}

// ---- expected statuses ----

const statusCode = (value: number): boolean => Number.isInteger(value) && value >= 100 && value <= 599;

const classOrRange = `must be a status (200), a range ("200-299") or a class ("2xx")`;

function statusText(text: string): StatusRange | string {
  const klass = /^([1-5])xx$/i.exec(text.trim());
  if (klass !== null) return { from: Number(klass[1]) * 100, to: Number(klass[1]) * 100 + 99 };
  const range = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(text.trim());
  const from = Number(range?.[1]);
  const to = Number(range?.[2] ?? range?.[1]);
  if (!statusCode(from) || !statusCode(to)) return `${classOrRange}, got ${JSON.stringify(text)}`;
  return from <= to ? { from, to } : `the range ${JSON.stringify(text)} ends before it starts`;
}

function statusRange(item: number | string): StatusRange | string {
  if (typeof item === "string") return statusText(item);
  return statusCode(item) ? { from: item, to: item } : `is not an HTTP status (100-599), got ${item}`;
}

const statusItem = z
  .union([z.number(), z.string()], {
    error: (issue) => `${classOrRange}, got ${describeValue(issue.input)}`,
  })
  .transform((item, context) => {
    const range = statusRange(item);
    if (typeof range !== "string") return range;
    context.addIssue({ code: "custom", message: range });
    return z.NEVER;
  });

// ---- probe schemas ----

const tolerances = z.array(toleranceField()).prefault([defaultTolerance]);

const httpSpec = z
  .strictObject({
    url: probeUrl(),
    method: z.enum(httpMethods).default("GET"),
    headers: keyedRecord(headerNameProblem, z.string()).default({}),
    body: z.string().optional(),
    expectStatus: z
      .array(statusItem)
      .min(1, { error: "must list at least one status" })
      .prefault(["200-299"]),
    latencyThreshold: durationField(durationLimits.probeTimeout).optional(),
    frequency: frequency(maxHttpFrequencyHz, 1),
    timeout: positiveDuration("1s"),
  })
  .superRefine((spec, context) => {
    if (
      spec.latencyThreshold !== undefined &&
      spec.latencyThreshold.milliseconds > spec.timeout.milliseconds
    ) {
      context.addIssue({
        code: "custom",
        path: ["latencyThreshold"],
        message: `is longer than timeout ${spec.timeout.toString()}, so it would never apply`,
      });
    }
  });

const count = z
  .number({ error: (issue) => `must be a whole number, got ${describeValue(issue.input)}` })
  .int({ error: "must be a whole number" })
  .nonnegative({ error: "must not be negative" })
  .max(countLimits.probeCount.max, { error: `must be at most ${countLimits.probeCount.max}` });

const conditionSchema = z.union(
  [
    z.strictObject({ readyReplicasAtLeast: count }),
    z.strictObject({ allPodsReady: z.literal(true) }),
    z.strictObject({ restartCountAtMost: count }),
    z.strictObject({ statusCondition: z.string().min(1) }),
  ],
  {
    error:
      "must be one of readyReplicasAtLeast: N, allPodsReady: true, restartCountAtMost: N, statusCondition: TYPE",
  },
);

const kubernetesSpec = z.strictObject({
  kind: z.enum(workloadKinds),
  namespace: namespaceNameSchema,
  name: objectNameSchema,
  condition: conditionSchema,
});

const prometheusSpec = z.strictObject({
  url: httpUrl().optional(),
  query: z.string().trim().min(1, { error: "must not be empty" }),
  comparator: z.enum(promComparators),
  value: z.number({ error: (issue) => `must be a number, got ${describeValue(issue.input)}` }),
  frequency: frequency(maxPrometheusFrequencyHz, 0.2),
  timeout: positiveDuration("2s"),
});

/** Latency belongs to HTTP samples; other probes only succeed or fail. */
function noLatencyTolerances(
  probe: { readonly tolerances: readonly { readonly metric: string }[] },
  context: z.core.$RefinementCtx,
): void {
  probe.tolerances.forEach((tolerance, index) => {
    if (tolerance.metric === "latency") {
      context.addIssue({
        code: "custom",
        path: ["tolerances", index],
        message: "latency percentiles apply to http probes only; use availability or longest-failure",
      });
    }
  });
}

/** The http branch alone: what `--probe` on the command line is checked against. */
export const httpProbeSchema = z.strictObject({ name: probeName, http: httpSpec, tolerances });

export const probeSchema = z.union(
  [
    httpProbeSchema,
    z
      .strictObject({ name: probeName, kubernetes: kubernetesSpec, tolerances })
      .superRefine(noLatencyTolerances),
    z
      .strictObject({ name: probeName, prometheus: prometheusSpec, tolerances })
      .superRefine(noLatencyTolerances),
  ],
  { error: "must be a probe with a name and one of http, kubernetes or prometheus" },
);

type ParsedProbe = z.output<typeof probeSchema>;

function toCondition(condition: z.output<typeof conditionSchema>): KubernetesCondition {
  if ("readyReplicasAtLeast" in condition)
    return { type: "readyReplicasAtLeast", count: condition.readyReplicasAtLeast };
  if ("restartCountAtMost" in condition)
    return { type: "restartCountAtMost", count: condition.restartCountAtMost };
  if ("statusCondition" in condition)
    return { type: "statusCondition", conditionType: condition.statusCondition };
  return { type: "allPodsReady" };
}

function toHttp(name: string, spec: z.output<typeof httpSpec>, probe: ParsedProbe): HttpProbe {
  return {
    type: "http",
    name,
    tolerances: probe.tolerances,
    url: spec.url,
    method: spec.method,
    headers: spec.headers,
    ...optional("body", spec.body),
    expectStatus: spec.expectStatus,
    ...optional("latencyThreshold", spec.latencyThreshold),
    frequencyHz: spec.frequency,
    timeout: spec.timeout,
  };
}

function toPrometheus(
  name: string,
  spec: z.output<typeof prometheusSpec>,
  probe: ParsedProbe,
): PrometheusProbe {
  return {
    type: "prometheus",
    name,
    tolerances: probe.tolerances,
    ...optional("url", spec.url),
    query: spec.query,
    comparator: spec.comparator,
    threshold: spec.value,
    frequencyHz: spec.frequency,
    timeout: spec.timeout,
  };
}

/** The model of a probe that passed probeSchema. */
export function toProbe(probe: ParsedProbe): Probe {
  if ("http" in probe) return toHttp(probe.name, probe.http, probe);
  if ("prometheus" in probe) return toPrometheus(probe.name, probe.prometheus, probe);
  const { kind, namespace, name } = probe.kubernetes;
  const kubernetes: KubernetesProbe = {
    type: "kubernetes",
    name: probe.name,
    tolerances: probe.tolerances,
    target: { kind, namespace, name },
    condition: toCondition(probe.kubernetes.condition),
  };
  return kubernetes;
}

/**
 * The URL points at this machine: localhost, 127.0.0.0/8 or ::1 (also IPv4-mapped). The WHATWG parser
 * has already normalised other spellings of an IPv4 address ("127.1", "2130706433") to dotted form.
 * The runner allows only such URLs against the sandbox, whose traffic stays on loopback.
 */
export function isLoopback(url: string | URL): boolean {
  let host: string;
  try {
    const parsed = typeof url === "string" ? new URL(url) : url;
    // A front door is 127.0.0.1 by definition, whichever port the sandbox gives it.
    if (parsed.protocol === "front-door:") return true;
    host = parsed.hostname.toLowerCase();
  } catch {
    return false;
  }
  if (host === "localhost" || host === "[::1]") return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  return /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host);
}

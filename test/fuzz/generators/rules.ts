/**
 * The rules inputs are held to, written here from Kubernetes' and the issue's text rather than imported
 * from src/, so that the fuzz tier is an independent oracle: when both agree a value is bad, the
 * product must refuse it; when they disagree, one of them is wrong and a test says so.
 */

/** RFC 1123 label (k8s.io/apimachinery IsDNS1123Label): namespaces, probe names. */
export function isDnsLabel(text: unknown): boolean {
  return typeof text === "string" && text.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(text);
}

/** RFC 1123 subdomain (IsDNS1123Subdomain): names of pods, ConfigMaps, Secrets, workloads, nodes. */
export function isDnsSubdomain(text: unknown): boolean {
  return (
    typeof text === "string" &&
    text.length <= 253 &&
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(text)
  );
}

/** A sandbox name as `broadside sandbox up` documents it: 1-32 lowercase letters, digits or '-'. */
export function isSandboxName(text: unknown): boolean {
  return typeof text === "string" && /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(text);
}

const qualifiedNamePart = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** A label or annotation key (IsQualifiedName): an optional DNS-subdomain prefix and a 63-character name. */
export function isLabelKey(text: unknown): boolean {
  if (typeof text !== "string") return false;
  const parts = text.split("/");
  const name = parts.length === 2 ? parts[1] : parts[0];
  if (parts.length > 2 || name === undefined) return false;
  if (parts.length === 2 && !isDnsSubdomain(parts[0])) return false;
  return name.length <= 63 && qualifiedNamePart.test(name);
}

/** A label value (IsValidLabelValue): empty, or 63 characters of the qualified-name alphabet. */
export function isLabelValue(text: unknown): boolean {
  return typeof text === "string" && (text === "" || (text.length <= 63 && qualifiedNamePart.test(text)));
}

/** A ConfigMap or Secret data key (IsConfigMapKey): '.', '..' and a '..' prefix are refused too. */
export function isDataKey(text: unknown): boolean {
  return (
    typeof text === "string" &&
    text.length <= 253 &&
    /^[-._a-zA-Z0-9]+$/.test(text) &&
    text !== "." &&
    !text.startsWith("..")
  );
}

/**
 * The longest any duration may be: the project's own ceiling on faults (BROADSIDE_MAX_FAULT_DURATION may
 * go no higher, src/cli/config.ts). No wait, window, timeout or schedule has a reason to be longer than
 * the longest fault, and Node's timers (2^31-1 ms, about 596 h) overflow not far above.
 */
export const longestDurationMs = 168 * 3_600_000;

/** Whole numbers in Kubernetes' int32 fields (replicas) and anything Broadside counts. */
export const int32Max = 2_147_483_647;

/**
 * The milliseconds of a Broadside duration ("1m30s"), or undefined when it is not one. Digits that
 * overflow give Infinity, which callers treat as too long.
 */
export function durationMs(text: unknown): number | undefined {
  if (typeof text !== "string") return undefined;
  const trimmed = text.trim();
  if (trimmed === "0") return 0;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(trimmed)) return undefined;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, amount = "0", unit = "ms"] of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(amount) * (units[unit] ?? 1);
  }
  return total;
}

/** The milliseconds of a Go duration (Chaos Mesh's fields), or undefined; a sign is not accepted. */
export function goDurationMs(text: unknown): number | undefined {
  if (typeof text !== "string") return undefined;
  if (text === "0") return 0;
  if (!/^((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/.test(text)) return undefined;
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    μs: 1e-3,
    ms: 1,
    s: 1e3,
    m: 6e4,
    h: 3.6e6,
  };
  let total = 0;
  for (const [, amount = "0", unit = "ns"] of text.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(amount) * (units[unit] ?? 1);
  }
  return total;
}

/** A duration no field could accept: not one, or longer than any field's maximum, or not finite. */
export function isOutOfAnyDurationRange(text: unknown, parse = durationMs): boolean {
  const ms = parse(text);
  return ms === undefined || !Number.isFinite(ms) || ms > longestDurationMs;
}

/** Bidirectional marks, embeddings, overrides and isolates (Trojan Source). */
function isBidiControl(unit: number): boolean {
  return (
    unit === 0x061c ||
    unit === 0x200e ||
    unit === 0x200f ||
    (unit >= 0x202a && unit <= 0x202e) ||
    (unit >= 0x2066 && unit <= 0x2069)
  );
}

function isControl(unit: number): boolean {
  if (unit === 0x09 || unit === 0x0a) return false;
  return unit < 0x20 || (unit >= 0x7f && unit <= 0x9f) || isBidiControl(unit);
}

/** The first character a terminal would act on (C0/C1 controls but tab and line feed, bidi controls). */
export function firstRawControl(text: string): number {
  for (let index = 0; index < text.length; index += 1) if (isControl(text.charCodeAt(index))) return index;
  return -1;
}

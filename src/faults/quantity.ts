/**
 * Kubernetes resource quantities ("500m", "0.5", "256Mi", "1G"), parsed exactly and written in the
 * canonical form the API server stores. The canonical form matters: the server rewrites "0.5" as "500m"
 * and "1024Mi" as "1Gi", and a ledger record holding "0.5" would not match the object at revert time, so
 * recovery would take Broadside's own change for someone else's and leave it in place.
 */

/** A quantity Broadside could not read: always from the cluster, since user input is checked first. */
export class QuantityError extends Error {
  override readonly name = "QuantityError";
}

const decimalSuffixes = new Map<string, number>([
  ["n", -9],
  ["u", -6],
  ["m", -3],
  ["", 0],
  ["k", 3],
  ["M", 6],
  ["G", 9],
  ["T", 12],
  ["P", 15],
  ["E", 18],
]);
const binarySuffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] as const;
const suffixByDecimalExponent = new Map([...decimalSuffixes].map(([suffix, exponent]) => [exponent, suffix]));

/** Kubernetes' grammar: sign, digits with an optional fraction, then an SI suffix or a decimal exponent. */
const quantityPattern = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([numkMGTPE]|[KMGTPE]i)|[eE]([+-]?\d+))?$/;

const nanoDigits = 9;
const perUnit = 10n ** BigInt(nanoDigits);
const perMilli = perUnit / 1000n;
/** Beyond this an exponent is a typo, not a quantity; the cap keeps the arithmetic small. */
const maxExponent = 64;

interface ParsedQuantity {
  /** Exact value in billionths (Kubernetes keeps nine fractional digits and rounds finer ones up). */
  readonly nanos: bigint;
  /** The suffix as written: "" for none, "e" for an exponent. */
  readonly suffix: string;
}

function parse(text: string): ParsedQuantity | undefined {
  const match = quantityPattern.exec(text.trim());
  if (match === null) return undefined;
  const [, sign, number = "", suffix, exponent] = match;
  const scale = scaleOf(suffix, exponent);
  if (scale === undefined) return undefined;
  const magnitude = magnitudeOf(number, scale);
  return {
    nanos: sign === "-" ? -magnitude : magnitude,
    suffix: exponent === undefined ? (suffix ?? "") : "e",
  };
}

/** The digits as billionths, scaled by the suffix; digits finer than a billionth round up, as in Go. */
function magnitudeOf(number: string, scale: { decimal: number; binary: number }): bigint {
  const [whole = "", fraction = ""] = number.split(".");
  const digits = BigInt(`${whole}${fraction}` || "0") * 2n ** BigInt(scale.binary);
  const shift = nanoDigits - fraction.length + scale.decimal;
  return shift >= 0 ? digits * 10n ** BigInt(shift) : ceilDivide(digits, 10n ** BigInt(-shift));
}

function scaleOf(
  suffix: string | undefined,
  exponent: string | undefined,
): { decimal: number; binary: number } | undefined {
  if (exponent !== undefined) {
    const value = Number(exponent);
    return Math.abs(value) > maxExponent ? undefined : { decimal: value, binary: 0 };
  }
  const binary = binarySuffixes.indexOf(suffix as (typeof binarySuffixes)[number]);
  if (suffix !== undefined && binary > 0) return { decimal: 0, binary: binary * 10 };
  const decimal = decimalSuffixes.get(suffix ?? "");
  return decimal === undefined ? undefined : { decimal, binary: 0 };
}

function ceilDivide(numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator;
}

/** The value of a quantity in billionths of its unit, or undefined when `text` is not a quantity. */
export function quantityNanos(text: string): bigint | undefined {
  return parse(text)?.nanos;
}

/** Negative, zero or positive as `a` is less than, equal to or greater than `b`. Throws on a non-quantity. */
export function compareQuantities(a: string, b: string): number {
  const left = quantityNanos(a);
  const right = quantityNanos(b);
  if (left === undefined || right === undefined) {
    throw new QuantityError(`cannot compare "${a}" with "${b}": not both are quantities`);
  }
  return left < right ? -1 : left > right ? 1 : 0;
}

/** `value`, or `max` when `value` is larger: a request may not exceed its limit. */
export function clampQuantity(value: string, max: string): string {
  return compareQuantities(value, max) > 0 ? max : value;
}

export type QuantityFormat = "DecimalSI" | "BinarySI";

/**
 * The API server's canonical text for a value, after apimachinery's Quantity.CanonicalizeBytes: binary
 * suffixes only for whole numbers of at least 1024 (as many factors of 1024 as divide it), otherwise the
 * decimal suffix whose exponent is the largest multiple of three that keeps the number whole.
 */
export function formatQuantity(nanos: bigint, format: QuantityFormat): string {
  if (nanos === 0n) return "0";
  return (format === "BinarySI" ? formatBinary(nanos) : undefined) ?? formatDecimal(nanos);
}

function formatBinary(nanos: bigint): string | undefined {
  const magnitude = nanos < 0n ? -nanos : nanos;
  if (magnitude < 1024n * perUnit || nanos % perUnit !== 0n) return undefined;
  let amount = nanos / perUnit;
  let power = 0;
  while (power < binarySuffixes.length - 1 && amount % 1024n === 0n) {
    amount /= 1024n;
    power += 1;
  }
  return `${amount}${binarySuffixes[power] ?? ""}`;
}

function formatDecimal(nanos: bigint): string {
  let amount = nanos;
  let exponent = -nanoDigits;
  while (amount % 10n === 0n) {
    amount /= 10n;
    exponent += 1;
  }
  const extra = ((exponent % 3) + 3) % 3;
  amount *= 10n ** BigInt(extra);
  exponent -= extra;
  return `${amount}${suffixByDecimalExponent.get(exponent) ?? `e${exponent}`}`;
}

/** A checked user-given quantity in canonical form, or what is wrong with it. */
export type QuantityCheck =
  { readonly ok: true; readonly canonical: string } | { readonly ok: false; readonly problem: string };

const cpuForms = 'use cores ("0.5", "2") or millicores ("500m")';
const memoryForms =
  'use bytes with a suffix: "64Mi", "1Gi" (powers of 1024) or "500M", "1G" (powers of 1000)';

/** A CPU amount for a limit: cores or millicores, more than zero, no finer than 1m (the kubelet's unit). */
export function checkCpuQuantity(text: string): QuantityCheck {
  const parsed = parse(text);
  if (parsed === undefined || !["", "m"].includes(parsed.suffix)) {
    return { ok: false, problem: `"${text}" is not a CPU quantity; ${cpuForms}` };
  }
  if (parsed.nanos <= 0n) return { ok: false, problem: `must be more than zero, got "${text}"` };
  if (parsed.nanos % perMilli !== 0n) {
    return { ok: false, problem: `"${text}" is finer than 1m, the smallest CPU amount Kubernetes enforces` };
  }
  return { ok: true, canonical: formatQuantity(parsed.nanos, "DecimalSI") };
}

const memorySuffixes = new Set<string>(["", "k", "M", "G", "T", "P", "E", ...binarySuffixes]);

/** A memory amount for a limit: a whole number of bytes, more than zero. */
export function checkMemoryQuantity(text: string): QuantityCheck {
  const slip = memorySlip(text.trim());
  if (slip !== undefined) return { ok: false, problem: slip };
  const parsed = parse(text);
  if (parsed === undefined || !memorySuffixes.has(parsed.suffix)) {
    return { ok: false, problem: `"${text}" is not a memory quantity; ${memoryForms}` };
  }
  if (parsed.nanos <= 0n) return { ok: false, problem: `must be more than zero, got "${text}"` };
  if (parsed.nanos % perUnit !== 0n)
    return { ok: false, problem: `"${text}" is not a whole number of bytes` };
  // The suffix decides the format, as in apimachinery: "Ki".."Ei" are binary, everything else decimal.
  const format = parsed.suffix.endsWith("i") ? "BinarySI" : "DecimalSI";
  return { ok: true, canonical: formatQuantity(parsed.nanos, format) };
}

/** Two classic slips: "K" is not a Kubernetes suffix, and "m" means thousandths of a byte. */
function memorySlip(text: string): string | undefined {
  if (/^[\d.]+K$/.test(text)) return `"${text}": Kubernetes has no "K"; use "k" (1000) or "Ki" (1024)`;
  if (/^[\d.]+m$/.test(text)) return `"${text}" is in thousandths of a byte; did you mean "Mi" or "M"?`;
  return undefined;
}

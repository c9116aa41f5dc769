/**
 * How figures read, the same in every format: a reader comparing the terminal summary with the HTML page
 * or a CI log should see the same numbers written the same way.
 */

/** Availability with its 4 decimals always shown ("1.0000"), so columns line up; "n/a" without samples. */
export function formatAvailability(value: number | null): string {
  return value === null ? "n/a" : value.toFixed(4);
}

/**
 * A duration for people: "0 ms", "0.8 ms" and "1534 ms" below 10 s (probe-interval precision matters there),
 * "12.3 s" below a minute, "2m 03s" above. Exact values stay in the JSON.
 */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "n/a";
  const size = Math.abs(ms);
  if (size < 10) return `${Number.isInteger(ms) ? ms : ms.toFixed(1)} ms`;
  if (size < 10_000) return `${Math.round(ms)} ms`;
  if (size < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, "0")}s`;
}

/** Epoch ms as ISO 8601 UTC: the same text whatever the time zone of the machine that renders it. */
export function formatInstant(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** A time inside the run as an offset from its start, the way the timeline's axis labels it. */
export function formatOffset(epochMs: number, startedAt: number): string {
  return `+${((epochMs - startedAt) / 1000).toFixed(1)} s`;
}

/**
 * Characters XML 1.0 forbids even as references (most C0 controls, lone surrogates, U+FFFE/U+FFFF); a
 * probe's error text may carry any of them. They become U+FFFD so the document stays well-formed.
 */
const notXmlChar = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Escapes text for XML and HTML content and for attribute values in either quote style. */
export function escapeXml(text: string): string {
  return text
    .replace(notXmlChar, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Pluralizes a count: "1 sample", "3 samples". */
export function count(value: number, noun: string): string {
  return `${value} ${noun}${value === 1 ? "" : "s"}`;
}

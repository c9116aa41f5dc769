/**
 * Text on its way to a terminal. Names, titles and messages come from files and from the cluster, and
 * either may hold escape sequences: ESC [ 2 J clears the screen, OSC 52 writes the clipboard, a carriage
 * return overwrites what was printed, a bidirectional override makes text read differently than it is.
 * Every such character is shown as a visible escape (`\u001b`) instead of reaching the terminal; line
 * feeds and tabs, which Broadside's own output is made of, pass.
 */

const tab = 0x09;
const lineFeed = 0x0a;

/** Bidirectional marks, embeddings, overrides and isolates (Trojan Source, CVE-2021-42574). */
function isBidiControl(unit: number): boolean {
  return (
    unit === 0x061c ||
    unit === 0x200e ||
    unit === 0x200f ||
    (unit >= 0x202a && unit <= 0x202e) ||
    (unit >= 0x2066 && unit <= 0x2069)
  );
}

/**
 * Works on UTF-16 code units: every character it looks for is in the Basic Multilingual Plane, and no
 * surrogate is one of them, so characters outside it pass untouched.
 */
function isUnprintable(unit: number): boolean {
  if (unit === tab || unit === lineFeed) return false;
  // C0 controls, DEL and C1 controls.
  if (unit < 0x20 || (unit >= 0x7f && unit <= 0x9f)) return true;
  return isBidiControl(unit);
}

function firstUnprintable(text: string): number {
  for (let index = 0; index < text.length; index += 1) {
    if (isUnprintable(text.charCodeAt(index))) return index;
  }
  return -1;
}

/** `text` with every control and bidirectional-control character replaced by its visible escape. */
export function printable(text: string): string {
  const first = firstUnprintable(text);
  // The common case, and a large JSON result, costs one scan and no copy.
  if (first === -1) return text;
  let result = text.slice(0, first);
  for (let index = first; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    result += isUnprintable(unit) ? `\\u${unit.toString(16).padStart(4, "0")}` : text.charAt(index);
  }
  return result;
}

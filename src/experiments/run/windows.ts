import type { TimeWindow } from "../report/samples.js";

/**
 * Chaos windows as the report wants them: sorted, not overlapping. Faults of a Schedule with
 * concurrencyPolicy Allow, or pod faults that do not wait for recovery, can overlap; their union is
 * what was disturbed.
 */
export function mergeWindows(windows: readonly TimeWindow[]): TimeWindow[] {
  const sorted = [...windows].filter((w) => w.end > w.start).sort((a, b) => a.start - b.start);
  const merged: TimeWindow[] = [];
  for (const window of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && window.start <= last.end) {
      merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, window.end) };
    } else {
      merged.push({ ...window });
    }
  }
  return merged;
}

/**
 * The nearest-rank percentile of ascending `sorted` (the value at rank ceil(p/100 × n)): always a value
 * that was measured, never an interpolation. Undefined for no values. Run reports' latencies and the
 * board's MTTR both use it.
 */
export function nearestRank(sorted: readonly number[], percent: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((percent * sorted.length) / 100));
  return sorted[Math.min(rank, sorted.length) - 1];
}

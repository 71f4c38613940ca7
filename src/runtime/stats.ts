/**
 * Summary statistics for the performance report (trtexec's min/max/mean/median/percentiles).
 * Pure functions, unit-tested in test/runtime/stats.test.ts.
 */

/** A summary of a series of times in milliseconds. */
export interface Summary {
  count: number;
  total: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  p90: number;
  p95: number;
  p99: number;
}

/**
 * The p-th percentile of ascending `sorted` by the nearest-rank method: the smallest value such
 * that at least p% of the values are less than or equal to it (p in (0, 100]). NaN when empty.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The median of ascending `sorted` (the mean of the two middle values for an even count). */
export function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (!n) return NaN;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/** Summarizes `values` (any order). Every field is NaN for an empty series except count and total (0). */
export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const total = s.reduce((a, b) => a + b, 0);
  return {
    count: s.length, total,
    min: s.length ? s[0] : NaN, max: s.length ? s[s.length - 1] : NaN, mean: s.length ? total / s.length : NaN,
    median: median(s), p90: percentile(s, 90), p95: percentile(s, 95), p99: percentile(s, 99),
  };
}

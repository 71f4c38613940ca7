/**
 * Timing statistics shared by the benchmarks: warm-up, then repeated runs until a count or a time
 * budget is reached, summarised by median and p90 (never the mean: one stall would move it).
 */

/** Latency summary of one measured configuration, in milliseconds. */
export interface LatencyStats {
  median_ms: number;
  p90_ms: number;
  runs: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The q-quantile by nearest rank (q in 0..1). */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

export function summarize(ms: readonly number[]): LatencyStats {
  return { median_ms: median(ms), p90_ms: quantile(ms, 0.9), runs: ms.length };
}

export interface LoopOptions {
  warmup: number;
  /** At most this many timed runs... */
  runs: number;
  /** ...and stop early once this many seconds have passed (with at least `minRuns` runs). */
  budgetS: number;
  minRuns?: number;
}

/**
 * Times `fn(i)` (i = run index, for rotating inputs) by the host clock around each awaited call.
 * `measure`, when given, replaces the host time of a run (e.g. GPU timestamps read after it).
 */
export async function timeLoop(fn: (i: number) => Promise<unknown>, o: LoopOptions, measure?: () => number): Promise<LatencyStats> {
  for (let i = 0; i < o.warmup; i++) await fn(i);
  const ms: number[] = [];
  const end = performance.now() + o.budgetS * 1e3;
  for (let i = 0; i < o.runs; i++) {
    const t0 = performance.now();
    await fn(o.warmup + i);
    const host = performance.now() - t0;
    ms.push(measure ? measure() : host);
    if (performance.now() > end && ms.length >= (o.minRuns ?? 5)) break;
  }
  return summarize(ms);
}

/** ‖a − b‖ / ‖b‖ over the first `n` elements, and the largest absolute difference; NaN anywhere fails. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>, n = Math.min(a.length, b.length)): { rel: number; maxAbs: number; refNorm: number } {
  let num = 0, den = 0, maxAbs = 0;
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    if (Number.isNaN(d)) return { rel: NaN, maxAbs: NaN, refNorm: NaN };
    num += d * d;
    den += b[i] * b[i];
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  return { rel: Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30), maxAbs, refNorm: Math.sqrt(den) };
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** A Markdown table. */
export function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function fmtMs(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}

export function fmtRatio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return '–';
  return `${(a / b).toFixed(2)}×`;
}

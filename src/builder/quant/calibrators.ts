/**
 * INT8 calibration algorithms (TensorRT's post-training calibration): from a tensor's activation
 * statistics to its symmetric clipping threshold T; the tensor's int8 scale is then T / 127.
 *
 * Statistics are a histogram of |x| over [0, amax] in equal bins (2048 by default), gathered over
 * every calibration batch with the range fixed by a first pass (amax of every batch), as TensorRT's
 * legacy calibrators do.
 *
 * - 'entropy' (the default for CNNs): the threshold whose 8-bit quantisation loses the least
 *   information, measured as the KL divergence KL(P || Q) between the clipped reference
 *   distribution P (the first i bins, the clipped tail added to the last) and Q (those i bins merged
 *   into 128 levels and expanded back over the bins that were non-empty), for i from 128 to 2048;
 *   threshold = (i + 0.5) * bin width for the best i. Bin 0 is given bin 1's count first: the
 *   spike of exact zeros after a ReLU would otherwise dominate both distributions.
 * - 'percentile' (default 99.99): the upper edge of the bin where the cumulative count reaches that
 *   share of all values.
 * - 'minmax' (recommended for transformers): the absolute maximum.
 */
import { InputError } from '../../errors';

export type CalibrationAlgorithm = 'entropy' | 'percentile' | 'minmax';
export const CALIBRATION_ALGORITHMS: readonly CalibrationAlgorithm[] = ['entropy', 'percentile', 'minmax'];

/** Histogram bins of TensorRT's calibrators. */
export const HISTOGRAM_BINS = 2048;
/** Quantised levels on one side of zero (int8: 127 steps, 128 levels with zero). */
export const QUANT_LEVELS = 128;
/** The largest int8 magnitude a scale maps the threshold to. */
export const INT8_MAX = 127;

/** One tensor's statistics: |x| counts in `counts.length` equal bins over [0, amax]. */
export interface TensorHistogram {
  amax: number;
  counts: Float64Array;
}

export interface ThresholdOptions {
  algorithm: CalibrationAlgorithm;
  /** Percentile for 'percentile' (0-100), default 99.99. */
  percentile?: number;
  /** Quantised levels for 'entropy' (default 128; tests use small ones). */
  levels?: number;
}

/** Smoothing mass for empty bins in the KL divergence (both distributions get it where empty). */
const KL_EPS = 1e-4;

/**
 * Spreads `eps` onto the zero entries of a distribution that sums to 1, taking it proportionally
 * from the non-zero ones, so that log(p / q) is finite; returns undefined when nothing is non-zero.
 */
function smooth(p: Float64Array): Float64Array | undefined {
  let zeros = 0;
  for (const v of p) if (v === 0) zeros++;
  const nonZeros = p.length - zeros;
  if (nonZeros === 0) return undefined;
  if (zeros === 0) return p;
  const take = (KL_EPS * zeros) / nonZeros;
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p[i] === 0 ? KL_EPS : p[i] - take;
  return out;
}

function normalize(a: Float64Array): Float64Array {
  let s = 0;
  for (const v of a) s += v;
  const out = new Float64Array(a.length);
  if (s > 0) for (let i = 0; i < a.length; i++) out[i] = a[i] / s;
  return out;
}

/** KL(p || q) of two distributions of equal length (each summing to 1), with smoothing. */
export function klDivergence(p: Float64Array, q: Float64Array): number {
  const ps = smooth(p), qs = smooth(q);
  if (!ps || !qs) return Infinity;
  let d = 0;
  for (let i = 0; i < ps.length; i++) if (ps[i] > 0) d += ps[i] * Math.log(ps[i] / qs[i]);
  return d;
}

/**
 * The candidate distribution Q of the entropy calibrator for the first `i` bins: the bins merged
 * into `levels` groups (i / levels bins each, the last group taking the remainder), each group's
 * total spread evenly over the group's non-empty bins (empty bins stay empty).
 */
export function quantizedExpansion(bins: Float64Array, i: number, levels: number): Float64Array {
  const merged = Math.floor(i / levels);
  const q = new Float64Array(i);
  for (let g = 0; g < levels; g++) {
    const start = g * merged;
    const end = g === levels - 1 ? i : start + merged;
    let total = 0, nonEmpty = 0;
    for (let j = start; j < end; j++) {
      total += bins[j];
      if (bins[j] !== 0) nonEmpty++;
    }
    if (nonEmpty === 0) continue;
    const each = total / nonEmpty;
    for (let j = start; j < end; j++) if (bins[j] !== 0) q[j] = each;
  }
  return q;
}

/** The KL divergence of every candidate bin count i (levels..bins), index = i. */
export function entropyDivergences(counts: Float64Array, levels = QUANT_LEVELS): Float64Array {
  const n = counts.length;
  const out = new Float64Array(n + 1).fill(NaN);
  let tail = 0;
  for (let j = levels; j < n; j++) tail += counts[j];
  for (let i = levels; i <= n; i++) {
    const p = counts.slice(0, i);
    p[i - 1] += tail; // the clipped values land in the last kept bin
    const q = quantizedExpansion(counts, i, levels);
    out[i] = klDivergence(normalize(p), normalize(q));
    if (i < n) tail -= counts[i];
  }
  return out;
}

/** The clipping threshold of one tensor's histogram by the chosen algorithm. */
export function threshold(h: TensorHistogram, opts: ThresholdOptions): number {
  const n = h.counts.length;
  if (!(h.amax > 0) || !Number.isFinite(h.amax)) return h.amax > 0 ? h.amax : 0;
  const width = h.amax / n;
  let total = 0;
  for (const v of h.counts) total += v;
  if (total === 0) return h.amax;
  switch (opts.algorithm) {
    case 'minmax':
      return h.amax;
    case 'percentile': {
      const pct = opts.percentile ?? 99.99;
      if (!(pct > 0 && pct <= 100)) throw new InputError(`percentile ${pct} is outside (0, 100]`);
      const target = (total * pct) / 100;
      let cum = 0;
      for (let j = 0; j < n; j++) {
        cum += h.counts[j];
        if (cum >= target) return (j + 1) * width;
      }
      return h.amax;
    }
    case 'entropy': {
      const levels = opts.levels ?? QUANT_LEVELS;
      if (n <= levels) return h.amax;
      // the spike of exact zeros (ReLU outputs, padding) says nothing about where to clip, yet it
      // would dominate both distributions and push the threshold down: bin 0 counts as bin 1 does
      const counts = h.counts.slice();
      if (n > 1) counts[0] = counts[1];
      const div = entropyDivergences(counts, levels);
      let best = levels;
      for (let i = levels + 1; i <= n; i++) if (div[i] < div[best]) best = i;
      return Math.min(h.amax, (best + 0.5) * width);
    }
    default:
      throw new InputError(`unknown calibration algorithm '${String(opts.algorithm)}' (use ${CALIBRATION_ALGORITHMS.join(', ')})`);
  }
}

/** The int8 scale of a threshold: threshold / 127 (a tensor that is all zeros gets scale 1). */
export function int8Scale(thresholdValue: number): number {
  return thresholdValue > 0 && Number.isFinite(thresholdValue) ? thresholdValue / INT8_MAX : 1;
}

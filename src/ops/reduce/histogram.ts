/**
 * vkrt.Histogram (INT8 calibration, builder/quant/calibrators.ts): the counts of |x| in `bins`
 * equal bins over [0, amax] (attributes), as int32 [bins]. bin = min(bins - 1, floor(|x| * inv))
 * with inv = float32(bins / amax) (every bin 0 when amax is 0); NaN is not counted, +-Inf goes in the
 * last bin. The calibration engine adds one per calibrated tensor; the GPU kernel counts in shared
 * memory and adds to the output with atomics, so no tensor is copied to the host.
 */
import { Tensor } from '../../ir/tensor';
import { OpDef } from '../types';
import { VKRT } from '../fused';
import { histogramKernel } from './gpu';

/** Most bins the kernel's shared-memory counts hold. */
export const HISTOGRAM_MAX_BINS = 4096;

/** float32(bins / amax), 0 when amax is not positive (every value then counts in bin 0). */
export function histogramInverseWidth(bins: number, amax: number): number {
  return amax > 0 && Number.isFinite(amax) ? Math.fround(bins / Math.fround(amax)) : 0;
}

export const HISTOGRAM_DEF: OpDef = {
  opType: 'Histogram',
  domain: VKRT,
  kernel: histogramKernel,
  inferShape(ctx) {
    return [{ dtype: 'int32', shape: [ctx.attrs.int('bins', 2048)] }];
  },
  reference(ctx, inputs) {
    const x = inputs[0] ?? ctx.fail('input x is missing');
    if (x.dtype !== 'float32' && x.dtype !== 'float16') ctx.fail(`x must be float32 or float16, got ${x.dtype}`);
    const bins = ctx.attrs.int('bins', 2048);
    if (!(bins >= 1 && bins <= HISTOGRAM_MAX_BINS)) ctx.fail(`bins must be in 1..${HISTOGRAM_MAX_BINS}, got ${bins}`);
    const inv = histogramInverseWidth(bins, ctx.attrs.float('amax', 0));
    const counts = new Int32Array(bins);
    const d = x.normalized().data as Float32Array;
    for (let i = 0; i < d.length; i++) {
      const v = Math.abs(d[i]);
      if (Number.isNaN(v)) continue;
      counts[inv === 0 ? 0 : Math.min(Math.floor(Math.fround(v * inv)), bins - 1)]++;
    }
    return [new Tensor('int32', [bins], counts)];
  },
};

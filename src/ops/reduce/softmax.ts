/**
 * Softmax, LogSoftmax, Hardmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1)
 * and the op runs over the whole second dimension; from opset 13 it runs along the single `axis`
 * (default -1).
 */
import { ValueType } from '../../ir/graph';
import { sizeOf, Tensor } from '../../ir/tensor';
import { OpContext, OpDef } from '../types';
import { softmaxKernel } from './gpu';
import { axisOrFail, checkDType, FLOATS, numeric, splitAxis } from '../util/reduce-common';

type Kind = 'Softmax' | 'LogSoftmax' | 'Hardmax';

/** outer x len x inner layout the op runs over, per the opset's axis semantics. */
function layout(ctx: OpContext, dims: readonly number[]): { outer: number; len: number; inner: number } {
  if (ctx.opset < 13) {
    const axis = axisOrFail(ctx.attrs.int('axis', 1), dims.length, (m) => ctx.fail(m));
    return { outer: sizeOf(dims.slice(0, axis)), len: sizeOf(dims.slice(axis)), inner: 1 };
  }
  const axis = axisOrFail(ctx.attrs.int('axis', -1), dims.length, (m) => ctx.fail(m));
  return splitAxis(dims, axis);
}

/** Apply kind to one row of values (plain float64 math). */
export function softmaxRow(kind: Kind, v: number[]): number[] {
  if (kind === 'Hardmax') {
    let best = 0;
    for (let k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
    return v.map((_, k) => (k === best ? 1 : 0));
  }
  const m = v.reduce((a, b) => Math.max(a, b), -Infinity);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return kind === 'Softmax' ? e.map((x) => x / s) : v.map((x) => x - m - Math.log(s));
}

function makeSoftmax(kind: Kind): OpDef {
  return {
    opType: kind,
    // rows are independent unless the softmax runs along axis 0 (before opset 13: from axis 0 on)
    traits: { ...(kind === 'Hardmax' ? {} : { rangeResetting: true }), batchIndependent: (attrs, opset, rank) => { const a = attrs.int('axis', opset < 13 ? 1 : -1); return (a < 0 ? a + rank : a) > 0; } },
    kernel: (ctx) => softmaxKernel(ctx, kind),
    inferShape(ctx, inputs): ValueType[] {
      const x = inputs[0]!;
      if (x.shape) {
        const dflt = ctx.opset < 13 ? 1 : -1;
        axisOrFail(ctx.attrs.int('axis', dflt), x.shape.length, (m) => ctx.fail(m));
      }
      return [{ dtype: x.dtype, shape: x.shape?.slice() }];
    },
    reference(ctx, inputs) {
      const x = inputs[0]!;
      checkDType(x.dtype, FLOATS, (m) => ctx.fail(m));
      const { outer, len, inner } = layout(ctx, x.dims);
      const d = numeric(x) as Float32Array | Float64Array;
      const out = Tensor.zeros(x.dtype, x.dims);
      const od = out.data as Float32Array | Float64Array;
      const row = new Array<number>(len);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          for (let k = 0; k < len; k++) row[k] = d[(o * len + k) * inner + i];
          const r = softmaxRow(kind, row);
          for (let k = 0; k < len; k++) od[(o * len + k) * inner + i] = r[k];
        }
      }
      return [out];
    },
  };
}

export const SOFTMAX_DEFS: OpDef[] = [makeSoftmax('Softmax'), makeSoftmax('LogSoftmax'), makeSoftmax('Hardmax')];

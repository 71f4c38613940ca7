/**
 * CumSum (opset 11) and CumProd (opset 26): running sum / product along the axis given as a scalar
 * int32/int64 input, with `exclusive` (shift by one, starting from the identity) and `reverse`.
 * Integer types wrap like the machine type (int64 in bigint).
 */
import { ValueType } from '../../ir/graph';
import { allocData, Tensor } from '../../ir/tensor';
import { OpDef } from '../types';
import { cumulativeKernel } from './gpu';
import { arithFor, axisOrFail, checkDType, FLOATS, intValues, numeric, splitAxis } from '../util/reduce-common';

function makeCumulative(opType: 'CumSum' | 'CumProd'): OpDef {
  return {
    opType,
    kernel: (ctx) => cumulativeKernel(ctx, opType === 'CumProd'),
    inferShape(_ctx, inputs): ValueType[] {
      const x = inputs[0]!;
      return [{ dtype: x.dtype, shape: x.shape?.slice() }];
    },
    reference(ctx, inputs) {
      const x = inputs[0]!;
      checkDType(x.dtype, [...FLOATS, 'int32', 'int64', 'uint32', 'uint64'], (m) => ctx.fail(m));
      const at = inputs[1];
      if (!at || at.size !== 1) return ctx.fail('axis must be a scalar (or 1-element) int32/int64 tensor');
      const axis = axisOrFail(intValues(at)[0], x.rank, (m) => ctx.fail(m));
      const exclusive = ctx.attrs.int('exclusive', 0) !== 0;
      const reverse = ctx.attrs.int('reverse', 0) !== 0;
      const ar = arithFor(x.dtype);
      const op = opType === 'CumSum' ? ar.add : ar.mul;
      const identity = opType === 'CumSum' ? ar.zero : ar.one;
      const { outer, len, inner } = splitAxis(x.dims, axis);
      const d = numeric(x) as unknown as (number | bigint)[];
      const out = allocData(x.dtype, x.size) as unknown as (number | bigint)[];
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let acc = identity;
          for (let s = 0; s < len; s++) {
            const k = reverse ? len - 1 - s : s;
            const p = (o * len + k) * inner + i;
            if (exclusive) { out[p] = acc; acc = op(acc, d[p]); } else { acc = op(acc, d[p]); out[p] = acc; }
          }
        }
      }
      return [new Tensor(x.dtype, x.dims, out as unknown as Float64Array)];
    },
  };
}

export const CUMULATIVE_DEFS: OpDef[] = [makeCumulative('CumSum'), makeCumulative('CumProd')];

/** ArgMax / ArgMin: index (int64) of the first (or, with select_last_index, last) extreme along axis. */
import { ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpDef } from '../types';
import { argKernel } from './gpu';
import { axisOrFail, checkDType, checkSize, NUMERIC, numeric, reducedShape, splitAxis } from '../util/reduce-common';

function makeArg(opType: 'ArgMax' | 'ArgMin'): OpDef {
  const better = opType === 'ArgMax' ? (a: number | bigint, b: number | bigint) => a > b : (a: number | bigint, b: number | bigint) => a < b;
  return {
    opType,
    traits: { rangeResetting: true },
    kernel: (ctx) => argKernel(ctx, opType === 'ArgMax'),
    inferShape(ctx, inputs): ValueType[] {
      const x = inputs[0]!;
      const keepdims = ctx.attrs.int('keepdims', 1) !== 0;
      if (!x.shape) return [{ dtype: 'int64', shape: undefined }];
      const axis = axisOrFail(ctx.attrs.int('axis', 0), x.shape.length, (m) => ctx.fail(m));
      return [{ dtype: 'int64', shape: reducedShape(x.shape, [axis], keepdims) }];
    },
    reference(ctx, inputs) {
      const x = inputs[0]!;
      checkDType(x.dtype, NUMERIC, (m) => ctx.fail(m));
      const keepdims = ctx.attrs.int('keepdims', 1) !== 0;
      const last = ctx.attrs.int('select_last_index', 0) !== 0;
      const axis = axisOrFail(ctx.attrs.int('axis', 0), x.rank, (m) => ctx.fail(m));
      const { outer, len, inner } = splitAxis(x.dims, axis);
      if (len === 0) ctx.fail(`cannot take ${opType} over an empty axis`);
      const outDims = x.dims.slice();
      outDims[axis] = 1;
      if (!keepdims) outDims.splice(axis, 1);
      checkSize(outDims, (m) => ctx.fail(m));
      const d = numeric(x);
      const out = new BigInt64Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const at = (k: number) => d[(o * len + k) * inner + i];
          let best = 0;
          let bv = at(0);
          for (let k = 1; k < len; k++) {
            const v = at(k);
            if (typeof bv === 'number' && Number.isNaN(bv)) break; // numpy: the first NaN wins
            if (better(v, bv) || (last && v === bv) || (typeof v === 'number' && Number.isNaN(v))) { best = k; bv = v; }
          }
          out[o * inner + i] = BigInt(best);
        }
      }
      return [new Tensor('int64', outDims, out)];
    },
  };
}

export const ARG_DEFS: OpDef[] = [makeArg('ArgMax'), makeArg('ArgMin')];

/**
 * TopK: the k largest (or smallest) elements along axis and their int64 indices. Equal values keep
 * the lower index first. k is an attribute before opset 10 and a 1-element int64 input after;
 * `largest` and `sorted` arrive at opset 11 (sorted=0 still returns sorted output, which the spec allows).
 */
import { Dim, ValueType } from '../../ir/graph';
import { allocData, Tensor } from '../../ir/tensor';
import { OpDef } from '../types';
import { topkKernel } from './gpu';
import { axisOrFail, checkDType, checkSize, intValues, NUMERIC, numeric, splitAxis } from '../util/reduce-common';

export const TOPK_DEF: OpDef = {
  opType: 'TopK',
  kernel: topkKernel,
  inferShape(ctx, inputs): ValueType[] {
    const x = inputs[0]!;
    if (!x.shape) return [{ dtype: x.dtype }, { dtype: 'int64' }];
    const axis = axisOrFail(ctx.attrs.int('axis', -1), x.shape.length, (m) => ctx.fail(m));
    let k: Dim;
    if (ctx.opset < 10) k = ctx.attrs.int('k');
    else {
      const kt = ctx.constant(1);
      k = kt ? intValues(kt)[0] : `${ctx.node.outputs[0] || ctx.node.name}_k`;
    }
    const shape = x.shape.slice();
    shape[axis] = k;
    return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape: shape.slice() }];
  },
  reference(ctx, inputs) {
    const x = inputs[0]!;
    checkDType(x.dtype, NUMERIC, (m) => ctx.fail(m));
    const axis = axisOrFail(ctx.attrs.int('axis', -1), x.rank, (m) => ctx.fail(m));
    let k: number;
    if (ctx.opset < 10) k = ctx.attrs.int('k');
    else {
      const kt = inputs[1];
      if (!kt || kt.size !== 1) return ctx.fail('K must be a 1-element int64 tensor');
      k = intValues(kt)[0];
    }
    const largest = ctx.opset < 11 ? true : ctx.attrs.int('largest', 1) !== 0;
    if (ctx.opset >= 11) ctx.attrs.int('sorted', 1);
    const { outer, len, inner } = splitAxis(x.dims, axis);
    if (!Number.isInteger(k) || k < 0 || k > len) ctx.fail(`k=${k} is out of range for axis ${axis} of size ${len}`);
    const outDims = x.dims.slice();
    outDims[axis] = k;
    checkSize(outDims, (m) => ctx.fail(m));
    const d = numeric(x);
    const vals = allocData(x.dtype, outer * k * inner) as typeof d;
    const idx = new BigInt64Array(outer * k * inner);
    const order = new Array<number>(len);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = (j: number) => d[(o * len + j) * inner + i];
        for (let j = 0; j < len; j++) order[j] = j;
        order.sort((a, b) => {
          const va = at(a), vb = at(b);
          if (va === vb) return a - b;
          // NaN sorts as the largest value (numpy / onnxruntime)
          const na = typeof va === 'number' && Number.isNaN(va), nb = typeof vb === 'number' && Number.isNaN(vb);
          if (na && nb) return a - b;
          const aAbove = na || (!nb && va > vb);
          return aAbove === largest ? -1 : 1;
        });
        for (let j = 0; j < k; j++) {
          const p = (o * k + j) * inner + i;
          (vals as unknown as (number | bigint)[])[p] = at(order[j]);
          idx[p] = BigInt(order[j]);
        }
      }
    }
    return [new Tensor(x.dtype, outDims, vals), new Tensor('int64', outDims, idx)];
  },
};

/**
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss. Input [N, C, d1..dk], target [N, d1..dk]
 * (int32/int64). loss[n,d] = -input[n, target[n,d], d] * weight[target[n,d]]; targets equal to
 * ignore_index contribute 0 and weigh 0. reduction 'mean' divides the weighted sum by the sum of
 * the weights that were applied (the count of non-ignored targets without weights).
 * SoftmaxCrossEntropyLoss applies LogSoftmax over axis 1 first and can also output it (log_prob).
 */
import { ValueType } from '../../ir/graph';
import { sizeOf, Tensor } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { checkDType, FLOATS, numeric } from '../util/reduce-common';
import { softmaxRow } from './softmax';
import { lossKernel } from './gpu';

function reductionOf(ctx: OpContext | ShapeContext): 'none' | 'sum' | 'mean' {
  const r = ctx.attrs.string('reduction', 'mean');
  if (r !== 'none' && r !== 'sum' && r !== 'mean') return ctx.fail(`reduction '${r}' is not one of none, sum, mean`);
  return r;
}

function lossShapes(ctx: ShapeContext, inputs: readonly (ValueType | undefined)[], withLogProb: boolean): ValueType[] {
  const x = inputs[0]!;
  const t = inputs[1];
  const red = reductionOf(ctx);
  const shape = red === 'none' ? (t?.shape?.slice() ?? (x.shape ? [x.shape[0], ...x.shape.slice(2)] : undefined)) : [];
  if (shape && x.shape && x.shape.length < 2) ctx.fail(`input must have rank >= 2, got ${x.shape.length}`);
  const out: ValueType[] = [{ dtype: x.dtype, shape }];
  if (withLogProb && ctx.outputCount > 1) out.push({ dtype: x.dtype, shape: x.shape?.slice() });
  return out;
}

/** The loss over log-probabilities `lp` laid out [N, C, D] (D = product of the trailing dims). */
function nll(ctx: OpContext, lp: ArrayLike<number>, dims: readonly number[], target: Tensor, weight: Tensor | undefined, dtype: Tensor['dtype']): Tensor {
  if (dims.length < 2) ctx.fail(`input must have rank >= 2, got ${dims.length}`);
  checkDType(target.dtype, ['int32', 'int64'], (m) => ctx.fail(m), 'target');
  const N = dims[0], C = dims[1], D = sizeOf(dims.slice(2));
  const tdims = [N, ...dims.slice(2)];
  if (target.rank !== tdims.length || target.dims.some((d, i) => d !== tdims[i])) {
    ctx.fail(`target dims [${target.dims.join(',')}] do not match input dims [${dims.join(',')}] (expected [${tdims.join(',')}])`);
  }
  if (weight && (weight.rank !== 1 || weight.dims[0] !== C)) ctx.fail(`weight must have shape [${C}], got [${weight.dims.join(',')}]`);
  const red = reductionOf(ctx);
  const ignore = ctx.attrs.optInt('ignore_index');
  const w = weight ? numeric(weight) : undefined;
  const loss = new Float64Array(N * D);
  let wsum = 0;
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) {
      const c = Number(target.data[n * D + d]);
      if (ignore !== undefined && c === ignore) continue;
      if (!Number.isInteger(c) || c < 0 || c >= C) ctx.fail(`target value ${c} is out of range [0, ${C}) and is not ignore_index`);
      const wc = w ? Number(w[c]) : 1;
      loss[n * D + d] = -lp[(n * C + c) * D + d] * wc;
      wsum += wc;
    }
  }
  if (red === 'none') return Tensor.from(dtype, tdims, loss);
  const total = loss.reduce((a, b) => a + b, 0);
  return Tensor.from(dtype, [], [red === 'sum' ? total : total / wsum]);
}

export const NLL_DEF: OpDef = {
  opType: 'NegativeLogLikelihoodLoss',
  kernel: (ctx) => lossKernel(ctx, false),
  inferShape: (ctx, inputs) => lossShapes(ctx, inputs, false),
  reference(ctx, inputs) {
    const x = inputs[0]!;
    checkDType(x.dtype, FLOATS, (m) => ctx.fail(m));
    return [nll(ctx, numeric(x) as Float32Array, x.dims, inputs[1]!, inputs[2], x.dtype)];
  },
};

export const SCE_DEF: OpDef = {
  opType: 'SoftmaxCrossEntropyLoss',
  kernel: (ctx) => lossKernel(ctx, true),
  inferShape: (ctx, inputs) => lossShapes(ctx, inputs, true),
  reference(ctx, inputs) {
    const x = inputs[0]!;
    checkDType(x.dtype, FLOATS, (m) => ctx.fail(m));
    if (x.rank < 2) ctx.fail(`scores must have rank >= 2, got ${x.rank}`);
    const N = x.dims[0], C = x.dims[1], D = sizeOf(x.dims.slice(2));
    const d = numeric(x) as Float32Array;
    const lp = new Float64Array(x.size);
    const row = new Array<number>(C);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < D; k++) {
        for (let c = 0; c < C; c++) row[c] = d[(n * C + c) * D + k];
        const r = softmaxRow('LogSoftmax', row);
        for (let c = 0; c < C; c++) lp[(n * C + c) * D + k] = r[c];
      }
    }
    const out = [nll(ctx, lp, x.dims, inputs[1]!, inputs[2], x.dtype)];
    if (ctx.outputCount > 1) out.push(Tensor.from(x.dtype, x.dims, lp));
    return out;
  },
};

/** Identity and Dropout (an identity at inference; a seeded mask in training mode). */
import { Tensor } from '../../ir/tensor';
import { OpContext, OpDef } from '../types';
import { need, needT } from '../util/tensor-common';
import { Mt19937 } from '../util/tensor-mt19937';

export const Identity: OpDef = {
  opType: 'Identity',
  inferShape(ctx, inputs) {
    const t = need(ctx, inputs, 0);
    return [{ ...t, shape: t.shape?.slice() }];
  },
  reference(ctx) {
    // Tensors, sequences and optionals pass through unchanged (ops never mutate their inputs).
    const v = ctx.values[0];
    if (v === undefined) return ctx.fail('input 0 is required');
    return [v];
  },
};

/** ratio and training_mode, from attributes before opset 12 and from inputs since. */
function dropoutParams(ctx: OpContext, inputs: readonly (Tensor | undefined)[]): { ratio: number; training: boolean } {
  if (ctx.opset < 12) {
    // Before opset 7 `is_test` chose inference; 7..11 are always inference (no training_mode).
    const training = ctx.opset < 7 ? ctx.attrs.int('is_test', 0) === 0 : false;
    return { ratio: ctx.attrs.float('ratio', 0.5), training };
  }
  const r = inputs[1];
  const t = inputs[2];
  if (r && r.size !== 1) ctx.fail('ratio must be a scalar');
  if (t && t.size !== 1) ctx.fail('training_mode must be a scalar');
  return { ratio: r ? r.get(0) : 0.5, training: t ? t.get(0) !== 0 : false };
}

export const Dropout: OpDef = {
  opType: 'Dropout',
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    const out = [{ dtype: x.dtype, shape: x.shape?.slice() }];
    if (ctx.outputCount > 1) out.push({ dtype: ctx.opset >= 10 ? 'bool' : x.dtype, shape: x.shape?.slice() });
    return out;
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const { ratio, training } = dropoutParams(ctx, inputs);
    const maskDtype = ctx.opset >= 10 ? 'bool' : x.dtype;
    if (!training || ratio === 0) {
      const mask = ctx.outputCount > 1 ? Tensor.from(maskDtype, x.dims, new Uint8Array(x.size).fill(1)) : null;
      return [x, mask];
    }
    if (!(ratio >= 0 && ratio < 1)) ctx.fail(`ratio must be in [0, 1) in training mode, got ${ratio}`);
    if (x.dtype === 'string' || x.data instanceof BigInt64Array || x.data instanceof BigUint64Array) ctx.fail(`Dropout needs a floating-point input, got ${x.dtype}`);
    // The ONNX reference draws numpy's legacy MT19937 stream seeded with `seed`:
    // keep = uniform(0, 1) >= ratio, y = x * keep / (1 - ratio). Reproducing it makes the
    // seeded training-mode tests deterministic.
    const seed = ctx.attrs.int('seed', 0);
    const rng = new Mt19937(seed >>> 0);
    const scale = 1 / (1 - ratio);
    const n = x.size;
    const keep = new Uint8Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      keep[i] = rng.random() >= ratio ? 1 : 0;
      y[i] = keep[i] ? Number(x.data[i]) * scale : 0;
    }
    return [Tensor.from(x.dtype, x.dims, y), ctx.outputCount > 1 ? Tensor.from(maskDtype, x.dims, keep) : null];
  },
};

/**
 * GPU kernels that normalize by statistics computed on the GPU over arbitrary axes
 * (shaders/nn/moments.comp): MeanVarianceNormalization and BatchNormalization in training mode.
 * Pass 0 computes each group's mean and variance (one invocation per group), pass 1 normalizes.
 */
import { BindingRef, grid1d, KernelContext, KernelImpl, withF16 } from '../../../kernel/contract';
import { MAX_PARAM_WORDS, paramLayout } from '../../../kernel/params';
import { isFloat } from '../../../ir/dtype';

/** shaders/nn/moments.comp: elements, groups, elements per group, rank, epsilon, momentum, per axis its dim and whether it is reduced. */
const MOMENTS = paramLayout('moments', {
  n: 'u32', G: 'u32', R: 'u32', rank: 'u32', eps: 'f32', momentum: 'f32', axes: { each: { dim: 'u32', red: 'u32' } },
}, 'MeanVarianceNormalization and training-mode BatchNormalization (src/ops/nn/gpu/moments.ts).');

function momentsImpl(ctx: KernelContext, name: string, reduced: readonly boolean[], mode: 0 | 1, bindings: BindingRef[], extra: { eps: number; momentum: number; saved: boolean }): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const rank = x.dims.length;
  if (6 + 2 * rank > MAX_PARAM_WORDS) return ctx.unsupported(`rank ${rank} is too large for the moments kernel`);
  const n = x.dims.reduce((a, b) => a * b, 1);
  const G = x.dims.reduce((a, d, i) => (reduced[i] ? a : a * d), 1);
  const R = n / Math.max(G, 1);
  const params = (count: number) => MOMENTS.pack({ n: count, G, R, rank, eps: extra.eps, momentum: extra.momentum, axes: x.dims.map((dim, a) => ({ dim, red: reduced[a] ? 1 : 0 })) });
  const defines = { MODE: mode, RANK: rank, ...(extra.saved ? { HAS_SAVED: 1 } : {}) };
  return withF16([{
    name,
    dispatches: [
      { shader: 'nn/moments', defines: { ...defines, PASS: 0 }, params: params(n), workgroup: [64, 1, 1], groups: grid1d(G, 64, ctx.caps), bindings },
      { shader: 'nn/moments', defines: { ...defines, PASS: 1 }, params: params(n), workgroup: [64, 1, 1], groups: grid1d(n, 64, ctx.caps), bindings },
    ],
    // scratch 1 stands in for absent outputs: as long as the per-group outputs, so their writes stay in bounds
    scratch: [Math.max(4, 2 * G * 4), Math.max(4, G * 4)],
  }], ctx);
}

export function mvnKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0];
  if (!x || !isFloat(x.dtype)) return ctx.fail('X must be floating-point');
  const rank = x.dims.length;
  const axes = ctx.attrs.ints('axes', [0, 2, 3]).map((a) => (a < 0 ? a + rank : a));
  if (axes.some((a) => a < 0 || a >= rank)) return ctx.fail(`axes [${axes.join(',')}] are out of range for rank ${rank}`);
  const reduced = x.dims.map((_, a) => axes.includes(a));
  const dummy: BindingRef = { scratch: 1 };
  return momentsImpl(ctx, 'mvn_moments', reduced, 0, [{ input: 0 }, dummy, dummy, dummy, dummy, { output: 0 }, { scratch: 0 }, dummy, dummy, dummy, dummy], { eps: 0, momentum: 0, saved: false });
}

/** BatchNormalization in training mode: batch statistics over every axis but the channel, running statistics updated. */
export function batchNormTrainingKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  if (x.dims.length < 2) return ctx.fail(`X must have rank >= 2, got [${x.dims.join(',')}]`);
  const C = x.dims[1];
  const params = ctx.inputs.slice(1, 5);
  if (params.some((p) => !p || p.dims.reduce((a, b) => a * b, 1) !== C)) return ctx.fail(`scale, B, mean and var need ${C} elements each`);
  const outs = ctx.node.outputs;
  const dummy: BindingRef = { scratch: 1 };
  const out = (k: number): BindingRef => (outs[k] ? { output: k } : dummy);
  const saved = !!(outs[3] || outs[4]);
  const reduced = x.dims.map((_, a) => a !== 1);
  return momentsImpl(ctx, 'batchnorm_training', reduced, 1,
    [{ input: 0 }, { input: 1 }, { input: 2 }, { input: 3 }, { input: 4 }, out(0), { scratch: 0 }, out(1), out(2), out(3), out(4)],
    { eps: ctx.attrs.float('epsilon', 1e-5), momentum: ctx.attrs.float('momentum', 0.9), saved });
}

/**
 * GPU kernels of the normalizations. BatchNormalization (inference) is a generated pointwise
 * kernel over five broadcast inputs; Layer/Instance/Group/RMS normalization share
 * shaders/nn/row_norm.comp (one workgroup per contiguous row); LRN and LpNormalization have small
 * kernels of their own.
 */
import { BindingRef, KernelContext, KernelImpl, grid1d, withF16 } from '../../../kernel/contract';
import { paramLayout } from '../../../kernel/params';
import { pointwiseDispatch } from '../../../kernel/pointwise';
import { isFloat } from '../../../ir/dtype';
import { batchNormTrainingKernel } from './moments';

const WG = 128;

/**
 * shaders/nn/row_norm.comp: `rows` rows of L elements; scale (and with HAS_BIAS bias) element j of
 * row r at (r % R) * Rm + (j / Div) % Mod.
 */
const ROW_NORM = paramLayout('row_norm', {
  rows: 'u32', L: 'u32', epsilon: 'f32', scaleR: 'u32', scaleRm: 'u32', scaleDiv: 'u32', scaleMod: 'u32',
  biasR: 'u32?', biasRm: 'u32?', biasDiv: 'u32?', biasMod: 'u32?',
}, 'Layer/Instance/Group/RMS normalization, a workgroup per row (src/ops/nn/gpu/norm.ts).');
/** shaders/nn/lrn.comp: channels c - before .. c + after; alpha already divided by size. */
const LRN = paramLayout('lrn', {
  total: 'u32', C: 'u32', inner: 'u32', before: 'i32', after: 'i32', alphaOverSize: 'f32', beta: 'f32', bias: 'f32',
}, 'LRN, one invocation per output (src/ops/nn/gpu/norm.ts).');
/** shaders/nn/lp_norm.comp: `lines` lines of A elements, `inner` apart. */
const LP_NORM = paramLayout('lp_norm', { lines: 'u32', A: 'u32', inner: 'u32' }, 'LpNormalization, one invocation per line (src/ops/nn/gpu/norm.ts).');
const prod = (v: readonly number[]): number => v.reduce((a, b) => a * b, 1);

function requireFloat(ctx: KernelContext): void {
  const x = ctx.inputs[0];
  if (!x) ctx.fail('missing input X');
  if (!isFloat(x.dtype)) ctx.unsupported(`${ctx.node.opType} on ${x.dtype}`);
}

function normAxis(ctx: KernelContext, rank: number): number {
  const a = ctx.attrs.int('axis', -1);
  const axis = a < 0 ? a + rank : a;
  if (axis < 0 || axis >= rank) ctx.fail(`axis ${a} is out of range for rank ${rank}`);
  return axis;
}

/** BatchNormalization in inference mode: (x - mean) / sqrt(var + eps) * scale + B. */
export function batchNormKernel(ctx: KernelContext): KernelImpl[] {
  requireFloat(ctx);
  const training = ctx.opset >= 14 ? ctx.attrs.int('training_mode', 0) !== 0 : ctx.outputs.length > 1;
  if (ctx.opset < 9 && ctx.attrs.int('spatial', 1) === 0) return ctx.unsupported('spatial=0 has no GPU kernel');
  if (training) return batchNormTrainingKernel(ctx);
  const x = ctx.inputs[0]!;
  const C = x.dims[1];
  const chan = [C, ...new Array<number>(x.dims.length - 2).fill(1)];
  const params = ctx.inputs.slice(1, 5);
  if (params.some((p) => !p || prod(p.dims) !== C)) return ctx.fail(`scale, B, mean and var need ${C} elements each`);
  const d = pointwiseDispatch({
    name: 'batchnorm',
    inputs: [{ gpu: x.gpu, dims: x.dims, as: 'float' }, ...params.map((p) => ({ gpu: p!.gpu, dims: chan, as: 'float' as const }))],
    outDims: ctx.outputs[0].dims, outGpu: ctx.outputs[0].gpu, resultAs: 'float',
    expr: '(v0 - v3) / sqrt(v4 + eps) * v1 + v2',
    floatParams: { eps: ctx.attrs.float('epsilon', 1e-5) },
  }, ctx.caps);
  d.bindings = [0, 1, 2, 3, 4].map((i): BindingRef => ({ input: i })).concat([{ output: 0 }]);
  return withF16([{ name: 'batchnorm_pointwise', dispatches: [d] }], ctx); // f16: FP32 arithmetic on loaded values
}

/** Index map of a parameter: (row % r) * rm + (j / div) % mod (see row_norm.comp). */
type IndexMap = [number, number, number, number];

/**
 * The map of a parameter broadcast over the normalized axes `norm` (its dims right-aligned to the
 * whole rank, pre-axis dims all 1): the element index is (j / div) % mod where its non-broadcast
 * axes are one contiguous block; undefined otherwise.
 */
function blockMap(pdims: readonly number[], rank: number, axis: number, xdims: readonly number[]): IndexMap | undefined {
  const full = [...new Array<number>(rank - pdims.length).fill(1), ...pdims];
  if (full.slice(0, axis).some((d) => d !== 1)) return undefined;
  const live = full.map((d, i) => (i >= axis && d !== 1 ? i : -1)).filter((i) => i >= 0);
  if (!live.length) return [1, 0, 1, 1];
  const a0 = live[0], a1 = live[live.length - 1] + 1;
  for (let i = a0; i < a1; i++) if (full[i] !== xdims[i]) return undefined;
  return [1, 0, prod(xdims.slice(a1)), prod(xdims.slice(a0, a1))];
}

function rowNorm(ctx: KernelContext, name: string, rows: number, L: number, eps: number, scale: IndexMap, bias: IndexMap | undefined, opts: { rms?: boolean; stats?: boolean }): KernelImpl[] {
  if (L === 0) return ctx.unsupported(`${ctx.node.opType} over empty rows`);
  const defines: Record<string, number> = { NN_WG: WG };
  const [scaleR, scaleRm, scaleDiv, scaleMod] = scale;
  const bindings: BindingRef[] = [{ input: 0 }, { input: 1 }];
  if (bias) { defines.HAS_BIAS = 1; bindings.push({ input: 2 }); }
  const params = ROW_NORM.pack({
    rows, L, epsilon: eps, scaleR, scaleRm, scaleDiv, scaleMod,
    ...(bias ? { biasR: bias[0], biasRm: bias[1], biasDiv: bias[2], biasMod: bias[3] } : {}),
  });
  bindings.push({ output: 0 });
  if (opts.rms) defines.RMS = 1;
  if (opts.stats) { defines.OUT_STATS = 1; bindings.push({ output: 1 }, { output: 2 }); }
  // f16 storage: row_norm.comp's FT buffers; mean and variance accumulate in FP32
  return withF16([{
    name,
    dispatches: [{ shader: 'nn/row_norm', defines, params, workgroup: [WG, 1, 1], groups: grid1d(rows * WG, WG, ctx.caps), bindings }],
  }], ctx);
}

export function layerNormKernel(ctx: KernelContext): KernelImpl[] {
  requireFloat(ctx);
  const x = ctx.inputs[0]!;
  const rank = x.dims.length;
  const axis = normAxis(ctx, rank);
  const rows = prod(x.dims.slice(0, axis)), L = prod(x.dims.slice(axis));
  const s = blockMap(ctx.inputs[1]!.dims, rank, axis, x.dims);
  const bIn = ctx.inputs[2];
  const b = bIn ? blockMap(bIn.dims, rank, axis, x.dims) : undefined;
  if (!s || (bIn && !b)) return ctx.unsupported('Scale and B must broadcast over the normalized axes as one block of them');
  const stats = ctx.outputs.length > 1 && !!ctx.node.outputs[1] && !!ctx.node.outputs[2];
  if (ctx.outputs.length > 1 && !stats && (ctx.node.outputs[1] || ctx.node.outputs[2])) return ctx.unsupported('LayerNormalization with only one of Mean and InvStdDev');
  if (stats && (ctx.outputs[1].gpu !== 'f32' || ctx.outputs[2].gpu !== 'f32')) return ctx.unsupported('stash_type must be a float type');
  return rowNorm(ctx, 'layernorm_rows', rows, L, ctx.attrs.float('epsilon', 1e-5), s, b, { stats });
}

export function rmsNormKernel(ctx: KernelContext): KernelImpl[] {
  requireFloat(ctx);
  const x = ctx.inputs[0]!;
  const rank = x.dims.length;
  const axis = normAxis(ctx, rank);
  const s = blockMap(ctx.inputs[1]!.dims, rank, axis, x.dims);
  if (!s) return ctx.unsupported('scale must broadcast over the normalized axes as one block of them');
  return rowNorm(ctx, 'rmsnorm_rows', prod(x.dims.slice(0, axis)), prod(x.dims.slice(axis)), ctx.attrs.float('epsilon', 1e-5), s, undefined, { rms: true });
}

export function instanceNormKernel(ctx: KernelContext): KernelImpl[] {
  requireFloat(ctx);
  const x = ctx.inputs[0]!;
  const [N, C] = x.dims;
  const L = prod(x.dims.slice(2));
  const m: IndexMap = [C, 1, Math.max(L, 1), 1];
  return rowNorm(ctx, 'instancenorm_rows', N * C, L, ctx.attrs.float('epsilon', 1e-5), m, m, {});
}

export function groupNormKernel(ctx: KernelContext): KernelImpl[] {
  requireFloat(ctx);
  const x = ctx.inputs[0]!;
  const [N, C] = x.dims;
  const G = ctx.attrs.int('num_groups');
  if (G < 1 || C % G !== 0) return ctx.fail(`num_groups ${G} must divide the ${C} channels`);
  const S = prod(x.dims.slice(2));
  const L = (C / G) * S;
  const m: IndexMap = ctx.opset < 21 ? [G, 1, Math.max(L, 1), 1] : [G, C / G, Math.max(S, 1), C / G];
  return rowNorm(ctx, 'groupnorm_rows', N * G, L, ctx.attrs.float('epsilon', 1e-5), m, m, {});
}

export function lrnKernel(ctx: KernelContext): KernelImpl[] {
  requireFloat(ctx);
  const x = ctx.inputs[0]!;
  const size = ctx.attrs.int('size');
  if (size < 1) return ctx.fail(`size ${size} must be positive`);
  const total = prod(x.dims);
  const params = LRN.pack({
    total, C: x.dims[1], inner: prod(x.dims.slice(2)), before: Math.floor((size - 1) / 2), after: Math.ceil((size - 1) / 2),
    alphaOverSize: ctx.attrs.float('alpha', 0.0001) / size, beta: ctx.attrs.float('beta', 0.75), bias: ctx.attrs.float('bias', 1.0),
  });
  return [{ name: 'lrn_direct', dispatches: [{ shader: 'nn/lrn', params, workgroup: [64, 1, 1], groups: grid1d(total, 64, ctx.caps), bindings: [{ input: 0 }, { output: 0 }] }] }];
}

export function lpNormKernel(ctx: KernelContext): KernelImpl[] {
  requireFloat(ctx);
  const x = ctx.inputs[0]!;
  const axis = normAxis(ctx, x.dims.length);
  const p = ctx.attrs.int('p', 2);
  if (p !== 1 && p !== 2) return ctx.fail(`p must be 1 or 2, got ${p}`);
  const A = x.dims[axis], inner = prod(x.dims.slice(axis + 1));
  const lines = prod(x.dims) / Math.max(A, 1);
  return [{ name: 'lpnorm_lines', dispatches: [{ shader: 'nn/lp_norm', defines: { P: p }, params: LP_NORM.pack({ lines, A, inner }), workgroup: [64, 1, 1], groups: grid1d(lines, 64, ctx.caps), bindings: [{ input: 0 }, { output: 0 }] }] }];
}

/**
 * BatchNormalization, InstanceNormalization, LayerNormalization, GroupNormalization,
 * RMSNormalization, LRN, LpNormalization, MeanVarianceNormalization.
 */
import { DType, dtypeFromOnnx, isFloat } from '../../ir/dtype';
import { ValueType } from '../../ir/graph';
import { Tensor, sizeOf } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { broadcastIndex, broadcastShapes, normAxis } from '../util/shape';
import { f64, floatTensor, need } from '../util/nn-common';
import { mvnKernel } from './gpu/moments';
import { batchNormKernel, groupNormKernel, instanceNormKernel, layerNormKernel, lpNormKernel, lrnKernel, rmsNormKernel } from './gpu/norm';

const same = (_ctx: ShapeContext, [x]: readonly (ValueType | undefined)[]): ValueType[] => [{ dtype: x?.dtype ?? 'float32', shape: x?.shape?.slice() }];

function axisOf(ctx: OpContext | ShapeContext, axis: number, rank: number): number {
  try {
    return normAxis(axis, rank);
  } catch {
    return ctx.fail(`axis ${axis} is out of range for rank ${rank}`);
  }
}

/**
 * Group elements of `dims` by their position in the keepdims-reduced shape over `axes`:
 * for each element, its group (reduced output index); plus group count and size.
 */
function groups(dims: readonly number[], axes: readonly number[]): { of: Int32Array; count: number; size: number; keptDims: number[] } {
  const keptDims = dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const count = sizeOf(keptDims);
  return { of: broadcastIndex(keptDims, dims), count, size: count === 0 ? 0 : sizeOf(dims) / count, keptDims };
}

/** Mean and (population) variance per group. */
function moments(x: ArrayLike<number>, g: { of: Int32Array; count: number; size: number }): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(g.count);
  const variance = new Float64Array(g.count);
  for (let i = 0; i < x.length; i++) mean[g.of[i]] += x[i];
  for (let k = 0; k < g.count; k++) mean[k] /= g.size;
  for (let i = 0; i < x.length; i++) { const d = x[i] - mean[g.of[i]]; variance[g.of[i]] += d * d; }
  for (let k = 0; k < g.count; k++) variance[k] /= g.size;
  return { mean, variance };
}

/** Per-element index into a per-channel (axis 1) parameter of C values. */
function channelIndex(dims: readonly number[]): Int32Array {
  const C = dims[1] ?? 1;
  const inner = sizeOf(dims.slice(2));
  const n = sizeOf(dims);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = Math.floor(i / inner) % C;
  return idx;
}

function requireFloatX(ctx: OpContext, X: Tensor): void {
  if (!isFloat(X.dtype)) ctx.fail(`input X must be floating-point, got ${X.dtype}`);
}

export const BatchNormalization: OpDef = {
  opType: 'BatchNormalization',
  kernel: batchNormKernel,
  // inference: each item normalized with the given statistics (training mode computes them over the batch)
  traits: { batchIndependent: (attrs) => attrs.int('training_mode', 0) === 0 },
  sinceVersion: 6,
  inferShape(ctx, [x, , , mean, variance]) {
    const out: ValueType[] = [{ dtype: x?.dtype ?? 'float32', shape: x?.shape?.slice() }];
    for (let k = 1; k < ctx.outputCount; k++) out.push({ dtype: (k === 1 ? mean : variance)?.dtype ?? x?.dtype ?? 'float32', shape: x?.shape ? [x.shape[1]] : undefined });
    return out;
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    const S = need(ctx, inputs, 1, 'scale');
    const B = need(ctx, inputs, 2, 'B');
    const M = need(ctx, inputs, 3, 'input_mean');
    const V = need(ctx, inputs, 4, 'input_var');
    requireFloatX(ctx, X);
    const eps = ctx.attrs.float('epsilon', 1e-5);
    const momentum = ctx.attrs.float('momentum', 0.9);
    const training = ctx.opset >= 14 ? ctx.attrs.int('training_mode', 0) !== 0 : ctx.outputCount > 1;
    if (ctx.opset < 9 && ctx.attrs.int('spatial', 1) === 0) ctx.unsupported('spatial=0 (per-activation statistics) is not supported; re-export with opset >= 9');
    if (X.rank < 2) ctx.fail(`X must have rank >= 2, got [${X.dims.join(',')}]`);
    const C = X.dims[1];
    for (const [t, nm] of [[S, 'scale'], [B, 'B'], [M, 'input_mean'], [V, 'input_var']] as const) {
      if (t.size !== C) ctx.fail(`${nm} has ${t.size} elements, expected ${C} (one per channel)`);
    }
    const x = f64(X);
    const ci = channelIndex(X.dims);
    let mean = f64(M);
    let variance = f64(V);
    const outs: Tensor[] = [];
    let runMean: Float64Array | undefined;
    let runVar: Float64Array | undefined;
    if (training) {
      const g = groups(X.dims, X.dims.map((_, i) => i).filter((i) => i !== 1));
      const mo = moments(x, g);
      runMean = mean.map((m, c) => m * momentum + mo.mean[c] * (1 - momentum));
      runVar = variance.map((v, c) => v * momentum + mo.variance[c] * (1 - momentum));
      mean = mo.mean;
      variance = mo.variance;
    }
    const s = f64(S), b = f64(B);
    const y = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const c = ci[i];
      y[i] = s[c] * (x[i] - mean[c]) / Math.sqrt(variance[c] + eps) + b[c];
    }
    outs.push(floatTensor(X.dtype, X.dims, y));
    if (training) {
      outs.push(floatTensor(M.dtype, [C], runMean!), floatTensor(V.dtype, [C], runVar!));
      // opsets before 14 also had saved_mean / saved_var outputs
      if (ctx.outputCount > 3) outs.push(floatTensor(M.dtype, [C], mean));
      if (ctx.outputCount > 4) outs.push(floatTensor(V.dtype, [C], variance));
    }
    return outs;
  },
};

export const InstanceNormalization: OpDef = {
  opType: 'InstanceNormalization',
  kernel: instanceNormKernel,
  traits: { rangeResetting: true, batchIndependent: true },
  sinceVersion: 1,
  inferShape: same,
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'input');
    const S = need(ctx, inputs, 1, 'scale');
    const B = need(ctx, inputs, 2, 'B');
    requireFloatX(ctx, X);
    if (X.rank < 3) ctx.fail(`input must have rank >= 3, got [${X.dims.join(',')}]`);
    const C = X.dims[1];
    if (S.size !== C || B.size !== C) ctx.fail(`scale and B need ${C} elements (one per channel)`);
    const eps = ctx.attrs.float('epsilon', 1e-5);
    const x = f64(X);
    const g = groups(X.dims, X.dims.map((_, i) => i).filter((i) => i >= 2));
    const { mean, variance } = moments(x, g);
    const s = f64(S), b = f64(B);
    const y = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const k = g.of[i];
      const c = k % C;
      y[i] = s[c] * (x[i] - mean[k]) / Math.sqrt(variance[k] + eps) + b[c];
    }
    return [floatTensor(X.dtype, X.dims, y)];
  },
};

/** Index of each X element in a parameter broadcast (unidirectionally) to X's dims. */
function paramIndexTo(ctx: OpContext, p: Tensor, dims: readonly number[], name: string): Int32Array {
  let ok = true;
  try {
    const b = broadcastShapes(p.dims, dims);
    ok = b.length === dims.length && b.every((d, i) => d === dims[i]);
  } catch {
    ok = false;
  }
  if (!ok) ctx.fail(`${name} [${p.dims.join(',')}] does not broadcast to the input [${dims.join(',')}]`);
  return broadcastIndex(p.dims, dims);
}

function stashType(ctx: OpContext | ShapeContext): DType {
  const code = ctx.attrs.int('stash_type', 1);
  const d = dtypeFromOnnx(code);
  if (!d || !isFloat(d)) return ctx.fail(`stash_type ${code} is not a floating-point type`);
  return d;
}

export const LayerNormalization: OpDef = {
  opType: 'LayerNormalization',
  kernel: layerNormKernel,
  // items are independent unless the normalization starts at axis 0
  traits: { rangeResetting: true, batchIndependent: (attrs, _opset, rank) => { const a = attrs.int('axis', -1); return (a < 0 ? a + rank : a) > 0; } },
  sinceVersion: 17,
  inferShape(ctx, [x]) {
    const dtype = x?.dtype ?? 'float32';
    const out: ValueType[] = [{ dtype, shape: x?.shape?.slice() }];
    if (ctx.outputCount > 1) {
      const u = stashType(ctx);
      let shape: ValueType['shape'];
      if (x?.shape) {
        const axis = axisOf(ctx, ctx.attrs.int('axis', -1), x.shape.length);
        shape = x.shape.map((d, i) => (i < axis ? d : 1));
      }
      out.push({ dtype: u, shape }, { dtype: u, shape: shape?.slice() });
    }
    return out;
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    const S = need(ctx, inputs, 1, 'Scale');
    const B = inputs[2];
    requireFloatX(ctx, X);
    const axis = axisOf(ctx, ctx.attrs.int('axis', -1), X.rank);
    const eps = ctx.attrs.float('epsilon', 1e-5);
    const u = stashType(ctx);
    const x = f64(X);
    const g = groups(X.dims, X.dims.map((_, i) => i).filter((i) => i >= axis));
    const { mean, variance } = moments(x, g);
    const inv = variance.map((v) => 1 / Math.sqrt(v + eps));
    const si = paramIndexTo(ctx, S, X.dims, 'Scale');
    const bi = B ? paramIndexTo(ctx, B, X.dims, 'B') : undefined;
    const s = f64(S);
    const b = B ? f64(B) : undefined;
    const y = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const k = g.of[i];
      y[i] = (x[i] - mean[k]) * inv[k] * s[si[i]] + (b ? b[bi![i]] : 0);
    }
    return [floatTensor(X.dtype, X.dims, y), floatTensor(u, g.keptDims, mean), floatTensor(u, g.keptDims, inv)];
  },
};

export const RMSNormalization: OpDef = {
  opType: 'RMSNormalization',
  kernel: rmsNormKernel,
  traits: { rangeResetting: true },
  sinceVersion: 23,
  inferShape: same,
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    const S = need(ctx, inputs, 1, 'scale');
    requireFloatX(ctx, X);
    const axis = axisOf(ctx, ctx.attrs.int('axis', -1), X.rank);
    const eps = ctx.attrs.float('epsilon', 1e-5);
    stashType(ctx);
    const x = f64(X);
    const g = groups(X.dims, X.dims.map((_, i) => i).filter((i) => i >= axis));
    const ms = new Float64Array(g.count);
    for (let i = 0; i < x.length; i++) ms[g.of[i]] += x[i] * x[i];
    const inv = ms.map((v) => 1 / Math.sqrt(v / g.size + eps));
    const si = paramIndexTo(ctx, S, X.dims, 'scale');
    const s = f64(S);
    const y = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = x[i] * inv[g.of[i]] * s[si[i]];
    return [floatTensor(X.dtype, X.dims, y)];
  },
};

export const GroupNormalization: OpDef = {
  opType: 'GroupNormalization',
  kernel: groupNormKernel,
  sinceVersion: 18,
  inferShape: same,
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    const S = need(ctx, inputs, 1, 'scale');
    const B = need(ctx, inputs, 2, 'bias');
    requireFloatX(ctx, X);
    const G = ctx.attrs.int('num_groups');
    const eps = ctx.attrs.float('epsilon', 1e-5);
    if (ctx.opset >= 21) stashType(ctx);
    if (X.rank < 2) ctx.fail(`X must have rank >= 2, got [${X.dims.join(',')}]`);
    const [N, C] = X.dims;
    if (G < 1 || C % G !== 0) ctx.fail(`num_groups ${G} must be positive and divide the ${C} channels`);
    // opset 18: scale and bias are per group; opset 21: per channel
    const perGroup = ctx.opset < 21;
    const want = perGroup ? G : C;
    if (S.size !== want || B.size !== want) ctx.fail(`scale and bias need ${want} elements (one per ${perGroup ? 'group (opset 18)' : 'channel (opset 21)'}), got ${S.size} and ${B.size}`);
    const x = f64(X);
    const inner = sizeOf(X.dims.slice(2));
    const gsize = (C / G) * inner;
    const s = f64(S), b = f64(B);
    const y = new Float64Array(x.length);
    for (let k = 0; k < N * G; k++) {
      const start = k * gsize;
      let m = 0;
      for (let i = 0; i < gsize; i++) m += x[start + i];
      m /= gsize;
      let v = 0;
      for (let i = 0; i < gsize; i++) { const d = x[start + i] - m; v += d * d; }
      v /= gsize;
      const inv = 1 / Math.sqrt(v + eps);
      const g = k % G;
      for (let i = 0; i < gsize; i++) {
        const c = g * (C / G) + Math.floor(i / inner);
        const p = perGroup ? g : c;
        y[start + i] = (x[start + i] - m) * inv * s[p] + b[p];
      }
    }
    return [floatTensor(X.dtype, X.dims, y)];
  },
};

export const LRN: OpDef = {
  opType: 'LRN',
  kernel: lrnKernel,
  traits: { batchIndependent: true },
  sinceVersion: 1,
  inferShape: same,
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    requireFloatX(ctx, X);
    const alpha = ctx.attrs.float('alpha', 0.0001);
    const beta = ctx.attrs.float('beta', 0.75);
    const bias = ctx.attrs.float('bias', 1.0);
    const size = ctx.attrs.int('size');
    if (size < 1) ctx.fail(`size ${size} must be positive`);
    if (X.rank < 2) ctx.fail(`X must have rank >= 2, got [${X.dims.join(',')}]`);
    const C = X.dims[1];
    const inner = sizeOf(X.dims.slice(2));
    const x = f64(X);
    const y = new Float64Array(x.length);
    const lo = Math.floor((size - 1) / 2);
    const hi = Math.ceil((size - 1) / 2);
    for (let i = 0; i < x.length; i++) {
      const c = Math.floor(i / inner) % C;
      const base = i - c * inner;
      let sq = 0;
      for (let cc = Math.max(0, c - lo); cc <= Math.min(C - 1, c + hi); cc++) sq += x[base + cc * inner] ** 2;
      y[i] = x[i] / (bias + (alpha / size) * sq) ** beta;
    }
    return [floatTensor(X.dtype, X.dims, y)];
  },
};

export const LpNormalization: OpDef = {
  opType: 'LpNormalization',
  kernel: lpNormKernel,
  traits: { rangeResetting: true },
  sinceVersion: 1,
  inferShape: same,
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'input');
    requireFloatX(ctx, X);
    const axis = axisOf(ctx, ctx.attrs.int('axis', -1), X.rank);
    const p = ctx.attrs.int('p', 2);
    if (p !== 1 && p !== 2) ctx.fail(`p must be 1 or 2, got ${p}`);
    const x = f64(X);
    const g = groups(X.dims, [axis]);
    const norm = new Float64Array(g.count);
    for (let i = 0; i < x.length; i++) norm[g.of[i]] += p === 1 ? Math.abs(x[i]) : x[i] * x[i];
    if (p === 2) for (let k = 0; k < g.count; k++) norm[k] = Math.sqrt(norm[k]);
    const y = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = norm[g.of[i]] === 0 ? 0 : x[i] / norm[g.of[i]]; // zero vectors stay zero
    return [floatTensor(X.dtype, X.dims, y)];
  },
};

export const MeanVarianceNormalization: OpDef = {
  opType: 'MeanVarianceNormalization',
  sinceVersion: 9,
  kernel: mvnKernel,
  inferShape: same,
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    requireFloatX(ctx, X);
    const axes = ctx.attrs.ints('axes', [0, 2, 3]).map((a) => axisOf(ctx, a, X.rank));
    const x = f64(X);
    const g = groups(X.dims, axes);
    const { mean } = moments(x, g);
    // as the ONNX function: Var = E[x^2] - E[x]^2, Y = (X - E[x]) / (sqrt(Var) + 1e-9)
    const ex2 = new Float64Array(g.count);
    for (let i = 0; i < x.length; i++) ex2[g.of[i]] += x[i] * x[i];
    const std = ex2.map((v, k) => Math.sqrt(Math.max(0, v / g.size - mean[k] * mean[k])));
    const y = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = (x[i] - mean[g.of[i]]) / (std[g.of[i]] + 1e-9);
    return [floatTensor(X.dtype, X.dims, y)];
  },
};

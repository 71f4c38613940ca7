/** Conv, ConvInteger, QLinearConv, ConvTranspose. */
import { DType, integerRange, isFloat } from '../../ir/dtype';
import { Dim, ValueType } from '../../ir/graph';
import { Tensor, sizeOf } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { checkOutDims, checkWork, f64, floatTensor, need, rint, unknownDim } from '../util/nn-common';
import { WindowTaps, readWindow, windowOutput, windowOutputStatic } from '../util/nn-conv';
import { convKernel, convTransposeKernel } from './gpu/conv';
import { transposeGeometry } from './conv-geometry';
import { applyActivation, readActivation, requantActivated, requantResidual, ResidualQuant } from './gpu/epilogue';
import { convIntegerKernel, qlinearConvKernel } from './gpu/qlinear';

/** Output type of a Conv-like op from X [N,C,...] and W [M,C/g,...k]. */
function convInfer(ctx: ShapeContext, x: ValueType | undefined, w: ValueType | undefined, dtype: DType): ValueType[] {
  if (!x?.shape) return [{ dtype, shape: undefined }];
  const n = x.shape.length - 2;
  if (n < 1) ctx.fail(`input X must have rank >= 3, got ${x.shape.length}`);
  const wk = w?.shape?.slice(2);
  let kernel: number[] | undefined;
  if (wk && wk.every((d) => typeof d === 'number')) kernel = wk as number[];
  else if (ctx.attrs.has('kernel_shape')) kernel = ctx.attrs.ints('kernel_shape');
  const m: Dim = w?.shape ? w.shape[0] : unknownDim(ctx, 1);
  if (!kernel) {
    const sp = x.shape.slice(2).map((_, i) => unknownDim(ctx, 2 + i));
    return [{ dtype, shape: [x.shape[0], m, ...sp] }];
  }
  const win = readWindow(ctx, n, kernel);
  const { out } = windowOutput(ctx, x.shape.slice(2), win);
  return [{ dtype, shape: [x.shape[0], m, ...out] }];
}

interface ConvArgs {
  x: Float64Array; xDims: readonly number[];
  w: Float64Array; wDims: readonly number[];
  bias?: ArrayLike<number>;
  group: number;
}

/**
 * Direct convolution: out[n, m, p] = bias[m] + sum_{c in group, t} x[n, c, tap(p, t)] * w[m, c, t].
 * Taps are precomputed per output position (padding taps are skipped).
 */
export function convolve(ctx: OpContext, a: ConvArgs): { out: Float64Array; dims: number[] } {
  const { x, xDims, w, wDims, group } = a;
  if (xDims.length < 3) ctx.fail(`input X must have rank >= 3 (N, C, spatial...), got [${xDims.join(',')}]`);
  if (wDims.length !== xDims.length) ctx.fail(`weight W has rank ${wDims.length}, X has rank ${xDims.length}; they must match`);
  const [N, C] = xDims;
  const M = wDims[0];
  const Cg = wDims[1];
  if (!Number.isInteger(group) || group < 1) ctx.fail(`group ${group} must be a positive integer`);
  if (C !== Cg * group) ctx.fail(`X has ${C} channels but W expects ${Cg} per group x ${group} groups`);
  if (M % group !== 0) ctx.fail(`W's ${M} output channels do not divide into ${group} groups`);
  const nsp = xDims.length - 2;
  const win = readWindow(ctx, nsp, wDims.slice(2));
  const inSp = xDims.slice(2);
  const { out: outSp, padsBegin } = windowOutputStatic(ctx, inSp, win);
  const dims = [N, M, ...outSp];
  checkOutDims(ctx, dims);
  if (a.bias && a.bias.length !== M) ctx.fail(`bias has ${a.bias.length} elements, expected ${M}`);
  const taps = new WindowTaps(inSp, outSp, win.kernel, win.strides, win.dilations, padsBegin);
  const { outSize, kSize, inSize } = taps;
  checkWork(ctx, N * M * outSize * Cg * kSize, 'convolution');
  const useTable = outSize * kSize <= 1 << 24;
  const table = useTable ? taps.table() : undefined;
  const row = new Int32Array(kSize);
  const out = new Float64Array(N * M * outSize);
  const Mg = M / group;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      for (let p = 0; p < outSize; p++) {
        let tab: Int32Array;
        let base = 0;
        if (table) { tab = table; base = p * kSize; } else { taps.fill(p, row); tab = row; }
        for (let mg = 0; mg < Mg; mg++) {
          const m = g * Mg + mg;
          let acc = a.bias ? a.bias[m] : 0;
          for (let c = 0; c < Cg; c++) {
            const xb = (n * C + g * Cg + c) * inSize;
            const wb = (m * Cg + c) * kSize;
            for (let t = 0; t < kSize; t++) {
              const off = tab[base + t];
              if (off >= 0) acc += x[xb + off] * w[wb + t];
            }
          }
          out[(n * M + m) * outSize + p] = acc;
        }
      }
    }
  }
  return { out, dims };
}

export const Conv: OpDef = {
  opType: 'Conv',
  traits: { epilogue: true, batchIndependent: true },
  sinceVersion: 1,
  inferShape(ctx, [x, w]) {
    return convInfer(ctx, x, w, x?.dtype ?? 'float32');
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    const W = need(ctx, inputs, 1, 'W');
    const B = inputs[2];
    if (!isFloat(X.dtype)) ctx.fail(`Conv takes floating-point X, got ${X.dtype}`);
    const { out, dims } = convolve(ctx, { x: f64(X), xDims: X.dims, w: f64(W), wDims: W.dims, bias: B ? f64(B) : undefined, group: ctx.attrs.int('group', 1) });
    // fused epilogue (internal attributes and input 3, set by the fusion pass): residual, activation
    const R = inputs[3];
    const act = readActivation(ctx.attrs, ctx.fail);
    if (R || act.kind) {
      if (R && R.dims.join(',') !== dims.join(',')) ctx.fail(`residual input [${R.dims.join(',')}] must have the output's shape [${dims.join(',')}]`);
      const res = R ? f64(R) : undefined;
      for (let i = 0; i < out.length; i++) out[i] = applyActivation(act, res ? out[i] + res[i] : out[i]);
    }
    return [floatTensor(X.dtype, dims, out)];
  },
  kernel: convKernel,
};

/** x - zero_point for a per-tensor zero point (a scalar or one-element tensor). */
function minusScalarZp(ctx: OpContext, t: Tensor, zp: Tensor | undefined, name: string): Float64Array {
  const v = f64(t).slice();
  if (!zp) return v;
  if (zp.size !== 1) ctx.unsupported(`${name} must be a scalar (per-tensor) here, got dims [${zp.dims.join(',')}]`);
  const z = zp.get(0);
  for (let i = 0; i < v.length; i++) v[i] -= z;
  return v;
}

/** w - zero_point with a per-tensor or per-output-channel (axis 0) zero point. */
function minusChannelZp(ctx: OpContext, w: Tensor, zp: Tensor | undefined, name: string): Float64Array {
  const v = f64(w).slice();
  if (!zp) return v;
  const M = w.dims[0];
  const per = w.size / Math.max(M, 1);
  if (zp.size === 1) {
    const z = zp.get(0);
    for (let i = 0; i < v.length; i++) v[i] -= z;
  } else if (zp.size === M) {
    for (let i = 0; i < v.length; i++) v[i] -= zp.get(Math.floor(i / per));
  } else {
    ctx.fail(`${name} has ${zp.size} elements; expected 1 or ${M} (one per output channel)`);
  }
  return v;
}

export const ConvInteger: OpDef = {
  opType: 'ConvInteger',
  kernel: convIntegerKernel,
  traits: { byteStorage: { inputs: [0, 1], outputs: [] } },
  sinceVersion: 10,
  inferShape(ctx, [x, w]) {
    return convInfer(ctx, x, w, 'int32');
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'x');
    const W = need(ctx, inputs, 1, 'w');
    const x = minusScalarZp(ctx, X, inputs[2], 'x_zero_point');
    const w = minusChannelZp(ctx, W, inputs[3], 'w_zero_point');
    const { out, dims } = convolve(ctx, { x, xDims: X.dims, w, wDims: W.dims, group: ctx.attrs.int('group', 1) });
    return [Tensor.from('int32', dims, out)];
  },
};

/**
 * QLinearConv's residual inputs (internal, set by the Q/DQ folding pass; docs/int8.md): 9 skip
 * (int8/uint8, the output's shape), 10 skip_scale, 11 skip_zero_point, 12 mid_scale and
 * 13 mid_zero_point (the quantization the convolution's output had before the Add; absent when
 * the Add read the float output). The epilogue is requantResidual.
 */
function residualOf(ctx: OpContext, inputs: readonly (Tensor | undefined)[], dims: number[]): { skip: Tensor; quant: ResidualQuant } | undefined {
  const skip = inputs[9];
  if (!skip) {
    if (inputs.slice(10).some((t) => t)) ctx.fail('residual scale or zero point without the residual input 9');
    return undefined;
  }
  if (skip.dtype !== 'int8' && skip.dtype !== 'uint8') ctx.fail(`the residual input must be int8 or uint8, got ${skip.dtype}`);
  if (skip.dims.join(',') !== dims.join(',')) ctx.fail(`the residual input [${skip.dims.join(',')}] must have the output's shape [${dims.join(',')}]`);
  const ss = need(ctx, inputs, 10, 'residual scale');
  const sz = inputs[11];
  const [ms, mz] = [inputs[12], inputs[13]];
  for (const [t, n] of [[ss, 'residual scale'], [sz, 'residual zero point'], [ms, 'mid scale'], [mz, 'mid zero point']] as const) {
    if (t && t.size !== 1) ctx.fail(`the ${n} must be per tensor, got dims [${t.dims.join(',')}]`);
  }
  if (sz && sz.dtype !== skip.dtype) ctx.fail(`the residual zero point's type ${sz.dtype} differs from the residual's ${skip.dtype}`);
  if (!!ms !== !!mz) ctx.fail('mid_scale (12) and mid_zero_point (13) come together');
  let mid: ResidualQuant['mid'];
  if (ms && mz) {
    const [mlo, mhi] = integerRange(mz.dtype);
    mid = { scale: ms.get(0), zp: mz.get(0), lo: mlo, hi: mhi };
  }
  return { skip, quant: { skipScale: ss.get(0), skipZp: sz ? sz.get(0) : 0, mid } };
}

export const QLinearConv: OpDef = {
  opType: 'QLinearConv',
  kernel: qlinearConvKernel,
  traits: { byteStorage: { inputs: [0, 3, 9], outputs: [0] } },
  sinceVersion: 10,
  inferShape(ctx, [x, , , w, , , , yzp]) {
    return convInfer(ctx, x, w, yzp?.dtype ?? x?.dtype ?? 'uint8');
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'x');
    const xs = need(ctx, inputs, 1, 'x_scale');
    const W = need(ctx, inputs, 3, 'w');
    const ws = need(ctx, inputs, 4, 'w_scale');
    const ys = need(ctx, inputs, 6, 'y_scale');
    const yzp = inputs[7];
    const B = inputs[8];
    const x = minusScalarZp(ctx, X, inputs[2], 'x_zero_point');
    const w = minusChannelZp(ctx, W, inputs[5], 'w_zero_point');
    const { out, dims } = convolve(ctx, { x, xDims: X.dims, w, wDims: W.dims, bias: B ? f64(B) : undefined, group: ctx.attrs.int('group', 1) });
    const M = dims[1];
    if (xs.size !== 1 || ys.size !== 1) ctx.unsupported('x_scale and y_scale must be scalars (per-tensor quantization)');
    if (ws.size !== 1 && ws.size !== M) ctx.fail(`w_scale has ${ws.size} elements; expected 1 or ${M}`);
    const outType: DType = yzp?.dtype ?? X.dtype;
    const [lo, hi] = integerRange(outType);
    const z = yzp ? yzp.get(0) : 0;
    const per = sizeOf(dims.slice(2));
    // fused activation (internal attributes, set by the Q/DQ folding pass): on the real value
    const act = readActivation(ctx.attrs, ctx.fail);
    const res = new Float64Array(out.length);
    const resid = residualOf(ctx, inputs, dims);
    for (let i = 0; i < out.length; i++) {
      const m = Math.floor(i / per) % M;
      const real = Math.fround(xs.get(0) * ws.get(ws.size === 1 ? 0 : m));
      if (resid) {
        const mid = resid.quant.mid;
        res[i] = requantResidual(act, out[i], real / (mid ? mid.scale : ys.get(0)), real, resid.skip.get(i), resid.quant, ys.get(0), z, lo, hi, rint);
      } else {
        res[i] = requantActivated(act, out[i], real / ys.get(0), real, ys.get(0), z, lo, hi, rint);
      }
    }
    return [Tensor.from(outType, dims, res)];
  },
};

export const ConvTranspose: OpDef = {
  opType: 'ConvTranspose',
  traits: { epilogue: true },
  sinceVersion: 1,
  inferShape(ctx, [x, w]) {
    const dtype = x?.dtype ?? 'float32';
    if (!x?.shape) return [{ dtype, shape: undefined }];
    const group = ctx.attrs.int('group', 1);
    const wk = w?.shape?.slice(2);
    let kernel: number[] | undefined;
    if (wk && wk.every((d) => typeof d === 'number')) kernel = wk as number[];
    else if (ctx.attrs.has('kernel_shape')) kernel = ctx.attrs.ints('kernel_shape');
    const w1 = w?.shape?.[1];
    const m: Dim = typeof w1 === 'number' ? w1 * group : unknownDim(ctx, 1);
    if (!kernel) return [{ dtype, shape: [x.shape[0], m, ...x.shape.slice(2).map((_, i) => unknownDim(ctx, 2 + i))] }];
    const { out } = transposeGeometry(ctx, x.shape.slice(2), kernel);
    return [{ dtype, shape: [x.shape[0], m, ...out] }];
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    const W = need(ctx, inputs, 1, 'W');
    const B = inputs[2];
    if (!isFloat(X.dtype)) ctx.fail(`ConvTranspose takes floating-point X, got ${X.dtype}`);
    if (X.rank < 3 || W.rank !== X.rank) ctx.fail(`X [${X.dims.join(',')}] and W [${W.dims.join(',')}] must have the same rank >= 3`);
    const group = ctx.attrs.int('group', 1);
    const [N, C] = X.dims;
    if (group < 1 || C % group !== 0 || W.dims[0] !== C) ctx.fail(`W's first dim (${W.dims[0]}) must equal X's channels (${C}), divisible by group ${group}`);
    const Cg = C / group;
    const Mg = W.dims[1];
    const M = Mg * group;
    const kernel = ctx.attrs.ints('kernel_shape', W.dims.slice(2) as number[]);
    if (kernel.some((k, i) => k !== W.dims[2 + i])) ctx.fail(`kernel_shape [${kernel.join(',')}] does not match W`);
    const inSp = X.dims.slice(2);
    const geo = transposeGeometry(ctx, inSp, kernel);
    const outSp = geo.out as number[];
    const dims = [N, M, ...outSp];
    checkOutDims(ctx, dims);
    const x = f64(X);
    const w = f64(W);
    const inSize = sizeOf(inSp);
    const outSize = sizeOf(outSp);
    const kSize = sizeOf(kernel);
    checkWork(ctx, N * C * inSize * Mg * kSize, 'transposed convolution');
    // scatter table: for each input position and tap, the output offset or -1. The transposed
    // window is a forward window with stride 1 in output space, so build it per axis.
    const n = inSp.length;
    const axisIdx = inSp.map((inD, a) => {
      const t = new Int32Array(inD * kernel[a]);
      for (let i = 0; i < inD; i++) {
        for (let k = 0; k < kernel[a]; k++) {
          const p = i * geo.strides[a] + k * geo.dilations[a] - geo.padsBegin[a];
          t[i * kernel[a] + k] = p >= 0 && p < outSp[a] ? p : -1;
        }
      }
      return t;
    });
    const outStr: number[] = [];
    { let s = 1; for (let a = n - 1; a >= 0; a--) { outStr[a] = s; s *= outSp[a]; } }
    const offsets = new Int32Array(kSize);
    const out = new Float64Array(N * M * outSize);
    if (B) {
      if (B.size !== M) ctx.fail(`bias has ${B.size} elements, expected ${M}`);
      for (let nm = 0; nm < N * M; nm++) out.fill(B.get(nm % M), nm * outSize, (nm + 1) * outSize);
    }
    const ii = new Array<number>(n).fill(0);
    for (let p = 0; p < inSize; p++) {
      // offsets of every tap for input position ii
      const kc = new Array<number>(n).fill(0);
      for (let t = 0; t < kSize; t++) {
        let off = 0;
        for (let a = 0; a < n; a++) {
          const q = axisIdx[a][ii[a] * kernel[a] + kc[a]];
          if (q < 0) { off = -1; break; }
          off += q * outStr[a];
        }
        offsets[t] = off;
        for (let a = n - 1; a >= 0; a--) { if (++kc[a] < kernel[a]) break; kc[a] = 0; }
      }
      for (let b = 0; b < N; b++) {
        for (let c = 0; c < C; c++) {
          const xv = x[(b * C + c) * inSize + p];
          const g = Math.floor(c / Cg);
          for (let mg = 0; mg < Mg; mg++) {
            const m = g * Mg + mg;
            const ob = (b * M + m) * outSize;
            const wb = (c * Mg + mg) * kSize;
            for (let t = 0; t < kSize; t++) {
              const off = offsets[t];
              if (off >= 0) out[ob + off] += xv * w[wb + t];
            }
          }
        }
      }
      for (let a = n - 1; a >= 0; a--) { if (++ii[a] < inSp[a]) break; ii[a] = 0; }
    }
    const act = readActivation(ctx.attrs, ctx.fail);
    if (act.kind) for (let i = 0; i < out.length; i++) out[i] = applyActivation(act, out[i]);
    return [floatTensor(X.dtype, dims, out)];
  },
  kernel: convTransposeKernel,
};

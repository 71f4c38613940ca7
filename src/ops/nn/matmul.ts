/** MatMul, MatMulInteger, QLinearMatMul, Gemm. */
import { DType, integerRange, isBigInt, isFloat } from '../../ir/dtype';
import { Dim, ValueType } from '../../ir/graph';
import { Tensor, rounderFor } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { broadcastDims, broadcastIndex, broadcastShapes } from '../util/shape';
import { applyActivation, readActivation, requantActivated } from './gpu/epilogue';
import { gemmKernel, matmulKernel } from './gpu/gemm';
import { checkOutDims, checkWork, f64, floatTensor, need, rint } from '../util/nn-common';
import { matmulIntegerKernel, qlinearMatmulKernel } from './gpu/qlinear';

/** Output shape of numpy matmul over possibly symbolic shapes. */
export function matmulShape(ctx: ShapeContext | OpContext, a: readonly Dim[], b: readonly Dim[]): Dim[] {
  if (a.length === 0 || b.length === 0) ctx.fail('MatMul operands must have rank >= 1');
  const A = a.length === 1 ? [1, a[0]] : a.slice();
  const B = b.length === 1 ? [b[0], 1] : b.slice();
  const ka = A[A.length - 1];
  const kb = B[B.length - 2];
  if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) ctx.fail(`inner dimensions differ: [${a.join(',')}] x [${b.join(',')}]`);
  let batch: Dim[] = [];
  try {
    batch = broadcastDims(A.slice(0, -2), B.slice(0, -2));
  } catch (e) {
    ctx.fail(`batch dimensions of [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
  }
  const out = [...batch];
  if (a.length !== 1) out.push(A[A.length - 2]);
  if (b.length !== 1) out.push(B[B.length - 1]);
  return out;
}

interface Batched {
  dims: number[];
  batch: number;
  M: number; K: number; N: number;
  ia: Int32Array; ib: Int32Array;
}

function plan(ctx: OpContext, ad: readonly number[], bd: readonly number[]): Batched {
  const dims = matmulShape(ctx, ad, bd) as number[];
  checkOutDims(ctx, dims);
  const A = ad.length === 1 ? [1, ad[0]] : ad;
  const B = bd.length === 1 ? [bd[0], 1] : bd;
  const ba = A.slice(0, -2);
  const bb = B.slice(0, -2);
  const bo = broadcastShapes(ba, bb);
  const M = A[A.length - 2], K = A[A.length - 1], N = B[B.length - 1];
  const batch = bo.reduce((x, y) => x * y, 1);
  checkWork(ctx, batch * M * K * N, 'matrix product');
  return { dims, batch, M, K, N, ia: broadcastIndex(ba, bo), ib: broadcastIndex(bb, bo) };
}

/** Float batched product over float64 values. */
function matmulF64(p: Batched, a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const { batch, M, K, N } = p;
  const out = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    const ao = p.ia[t] * M * K;
    const bo = p.ib[t] * K * N;
    const oo = t * M * N;
    for (let i = 0; i < M; i++) {
      const row = oo + i * N;
      for (let k = 0; k < K; k++) {
        const av = a[ao + i * K + k];
        const bk = bo + k * N;
        for (let j = 0; j < N; j++) out[row + j] += av * b[bk + j];
      }
    }
  }
  return out;
}

/** Exact integer batched product (wraps to the dtype's width when stored). */
function matmulBig(p: Batched, a: Tensor, b: Tensor): bigint[] {
  const { batch, M, K, N } = p;
  const A = Array.from(a.data as ArrayLike<number | bigint>, (v) => BigInt(v));
  const B = Array.from(b.data as ArrayLike<number | bigint>, (v) => BigInt(v));
  const out = new Array<bigint>(batch * M * N).fill(0n);
  for (let t = 0; t < batch; t++) {
    const ao = p.ia[t] * M * K, bo = p.ib[t] * K * N, oo = t * M * N;
    for (let i = 0; i < M; i++) {
      for (let k = 0; k < K; k++) {
        const av = A[ao + i * K + k];
        for (let j = 0; j < N; j++) out[oo + i * N + j] += av * B[bo + k * N + j];
      }
    }
  }
  return out;
}

function intTensor(dtype: DType, dims: number[], vals: bigint[]): Tensor {
  const bits = dtype.endsWith('64') ? 64 : dtype.endsWith('32') ? 32 : dtype.endsWith('16') ? 16 : 8;
  const signed = dtype.startsWith('int');
  const w = vals.map((v) => (signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v)));
  return Tensor.from(dtype, dims, isBigInt(dtype) ? w : w.map(Number));
}

/** The fused activation of a node (internal attributes set by the fusion pass), in place. */
function activate(ctx: OpContext, v: Float64Array): Float64Array {
  const act = readActivation(ctx.attrs, ctx.fail);
  if (act.kind) for (let i = 0; i < v.length; i++) v[i] = applyActivation(act, v[i]);
  return v;
}

export const MatMul: OpDef = {
  opType: 'MatMul',
  traits: { epilogue: true },
  sinceVersion: 1,
  inferShape(ctx, [a, b]) {
    const dtype = a?.dtype ?? 'float32';
    if (!a?.shape || !b?.shape) return [{ dtype, shape: undefined }];
    return [{ dtype, shape: matmulShape(ctx, a.shape, b.shape) }];
  },
  reference(ctx, inputs) {
    const A = need(ctx, inputs, 0, 'A');
    const B = need(ctx, inputs, 1, 'B');
    if (A.dtype !== B.dtype) ctx.fail(`A is ${A.dtype} but B is ${B.dtype}`);
    const p = plan(ctx, A.dims, B.dims);
    if (isFloat(A.dtype)) return [floatTensor(A.dtype, p.dims, activate(ctx, matmulF64(p, f64(A), f64(B))))];
    if (A.dtype === 'bool' || A.dtype === 'string') ctx.fail(`MatMul does not take ${A.dtype}`);
    return [intTensor(A.dtype, p.dims, matmulBig(p, A, B))];
  },
  kernel: matmulKernel,
};

/**
 * Values minus a zero point that is per-tensor, or per-row of A ([M] or [...,M,1]) / per-column
 * of B ([N] or [...,1,N]); `rowAxis` is true for A.
 */
function minusZp(ctx: OpContext, t: Tensor, zp: Tensor | undefined, isA: boolean, name: string): Float64Array {
  const v = f64(t).slice();
  if (!zp) return v;
  if (zp.size === 1) {
    const z = zp.get(0);
    for (let i = 0; i < v.length; i++) v[i] -= z;
    return v;
  }
  const d = t.dims;
  const rows = d.length >= 2 ? d[d.length - 2] : 1;
  const cols = d[d.length - 1];
  const z = f64(zp);
  if (isA) {
    if (z.length % rows !== 0 || zp.dims[zp.rank - 1] !== (zp.rank === 1 ? rows : 1)) ctx.fail(`${name} dims [${zp.dims.join(',')}] are neither a scalar nor per-row of A`);
    const zb = z.length / rows; // batches of zero points
    for (let i = 0; i < v.length; i++) {
      const mat = Math.floor(i / (rows * cols));
      const r = Math.floor(i / cols) % rows;
      v[i] -= z[(mat % zb) * rows + r];
    }
  } else {
    if (z.length % cols !== 0 || zp.dims[zp.rank - 1] !== cols) ctx.fail(`${name} dims [${zp.dims.join(',')}] are neither a scalar nor per-column of B`);
    const zb = z.length / cols;
    for (let i = 0; i < v.length; i++) {
      const mat = Math.floor(i / (rows * cols));
      v[i] -= z[(mat % zb) * cols + (i % cols)];
    }
  }
  return v;
}

export const MatMulInteger: OpDef = {
  opType: 'MatMulInteger',
  kernel: matmulIntegerKernel,
  traits: { byteStorage: { inputs: [0, 1], outputs: [] } },
  sinceVersion: 10,
  inferShape(ctx, [a, b]) {
    if (!a?.shape || !b?.shape) return [{ dtype: 'int32', shape: undefined }];
    return [{ dtype: 'int32', shape: matmulShape(ctx, a.shape, b.shape) }];
  },
  reference(ctx, inputs) {
    const A = need(ctx, inputs, 0, 'A');
    const B = need(ctx, inputs, 1, 'B');
    const p = plan(ctx, A.dims, B.dims);
    const out = matmulF64(p, minusZp(ctx, A, inputs[2], true, 'a_zero_point'), minusZp(ctx, B, inputs[3], false, 'b_zero_point'));
    return [Tensor.from('int32', p.dims, out)];
  },
};

export const QLinearMatMul: OpDef = {
  opType: 'QLinearMatMul',
  kernel: qlinearMatmulKernel,
  traits: { byteStorage: { inputs: [0, 3], outputs: [0] } },
  sinceVersion: 10,
  inferShape(ctx, [a, , , b, , , , yzp]) {
    const dtype = yzp?.dtype ?? a?.dtype ?? 'uint8';
    if (!a?.shape || !b?.shape) return [{ dtype, shape: undefined }];
    return [{ dtype, shape: matmulShape(ctx, a.shape, b.shape) }];
  },
  reference(ctx, inputs) {
    const A = need(ctx, inputs, 0, 'a');
    const as = need(ctx, inputs, 1, 'a_scale');
    const B = need(ctx, inputs, 3, 'b');
    const bs = need(ctx, inputs, 4, 'b_scale');
    const ys = need(ctx, inputs, 6, 'y_scale');
    const yzp = inputs[7];
    const p = plan(ctx, A.dims, B.dims);
    const acc = matmulF64(p, minusZp(ctx, A, inputs[2], true, 'a_zero_point'), minusZp(ctx, B, inputs[5], false, 'b_zero_point'));
    if (as.size !== 1 || bs.size !== 1 || ys.size !== 1) ctx.unsupported('only per-tensor (scalar) scales are supported');
    // the combined scale is computed in the scales' precision, as the ONNX reference does
    const r = rounderFor(as.dtype) ?? (as.dtype === 'float64' ? (v: number) => v : Math.fround);
    const real = r(as.get(0) * bs.get(0));
    const scale = r(real / ys.get(0));
    const outType: DType = yzp?.dtype ?? A.dtype;
    const [lo, hi] = integerRange(outType);
    const z = yzp ? yzp.get(0) : 0;
    // fused activation (internal attributes, set by the Q/DQ folding pass): on the real value
    const act = readActivation(ctx.attrs, ctx.fail);
    const out = new Float64Array(acc.length);
    for (let i = 0; i < acc.length; i++) out[i] = requantActivated(act, acc[i], scale, real, ys.get(0), z, lo, hi, rint);
    return [Tensor.from(outType, p.dims, out)];
  },
};

function gemmInfer(ctx: ShapeContext, a: ValueType | undefined, b: ValueType | undefined): ValueType[] {
  const dtype = a?.dtype ?? 'float32';
  const ta = ctx.attrs.int('transA', 0);
  const tb = ctx.attrs.int('transB', 0);
  if (!a?.shape || !b?.shape) return [{ dtype, shape: undefined }];
  if (a.shape.length !== 2 || b.shape.length !== 2) ctx.fail(`Gemm takes 2-D A and B, got ranks ${a.shape.length} and ${b.shape.length}`);
  const M = ta ? a.shape[1] : a.shape[0];
  const N = tb ? b.shape[0] : b.shape[1];
  const ka = ta ? a.shape[0] : a.shape[1];
  const kb = tb ? b.shape[1] : b.shape[0];
  if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) ctx.fail(`inner dimensions differ (${ka} vs ${kb})`);
  return [{ dtype, shape: [M, N] }];
}

export const Gemm: OpDef = {
  opType: 'Gemm',
  traits: { epilogue: true },
  sinceVersion: 1,
  inferShape(ctx, [a, b]) {
    return gemmInfer(ctx, a, b);
  },
  reference(ctx, inputs) {
    const A = need(ctx, inputs, 0, 'A');
    const B = need(ctx, inputs, 1, 'B');
    const C = inputs[2];
    const alpha = ctx.attrs.float('alpha', 1.0);
    const beta = ctx.attrs.float('beta', 1.0);
    const ta = ctx.attrs.int('transA', 0);
    const tb = ctx.attrs.int('transB', 0);
    if (A.rank !== 2 || B.rank !== 2) ctx.fail(`Gemm takes 2-D A and B, got [${A.dims.join(',')}] and [${B.dims.join(',')}]`);
    const M = ta ? A.dims[1] : A.dims[0];
    const K = ta ? A.dims[0] : A.dims[1];
    const N = tb ? B.dims[0] : B.dims[1];
    const Kb = tb ? B.dims[1] : B.dims[0];
    if (K !== Kb) ctx.fail(`inner dimensions differ (${K} vs ${Kb})`);
    checkOutDims(ctx, [M, N]);
    checkWork(ctx, M * N * K, 'matrix product');
    let cIdx: Int32Array | undefined;
    if (C) {
      try {
        const bs = broadcastShapes(C.dims, [M, N]);
        if (bs.length !== 2 || bs[0] !== M || bs[1] !== N) throw new Error('');
      } catch {
        ctx.fail(`C [${C.dims.join(',')}] does not broadcast to [${M},${N}]`);
      }
      cIdx = broadcastIndex(C.dims, [M, N]);
    }
    const big = isBigInt(A.dtype) || A.dtype === 'int32' || A.dtype === 'uint32';
    if (big && alpha === 1 && beta === 1) {
      const a = Array.from(A.data as ArrayLike<number | bigint>, (v) => BigInt(v));
      const b = Array.from(B.data as ArrayLike<number | bigint>, (v) => BigInt(v));
      const c = C ? Array.from(C.data as ArrayLike<number | bigint>, (v) => BigInt(v)) : undefined;
      const out = new Array<bigint>(M * N);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0n;
          for (let k = 0; k < K; k++) s += a[ta ? k * M + i : i * K + k] * b[tb ? j * K + k : k * N + j];
          out[i * N + j] = s + (c ? c[cIdx![i * N + j]] : 0n);
        }
      }
      return [intTensor(A.dtype, [M, N], out)];
    }
    const a = f64(A);
    const b = f64(B);
    const c = C ? f64(C) : undefined;
    const out = new Float64Array(M * N);
    for (let i = 0; i < M; i++) {
      for (let k = 0; k < K; k++) {
        const av = a[ta ? k * M + i : i * K + k];
        for (let j = 0; j < N; j++) out[i * N + j] += av * b[tb ? j * K + k : k * N + j];
      }
    }
    for (let i = 0; i < M * N; i++) out[i] = alpha * out[i] + (c ? beta * c[cIdx![i]] : 0);
    if (isFloat(A.dtype)) return [floatTensor(A.dtype, [M, N], activate(ctx, out))];
    return [Tensor.from(A.dtype, [M, N], out.map(Math.trunc))];
  },
  kernel: gemmKernel,
};

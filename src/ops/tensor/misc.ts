/** OneHot, Trilu, ReverseSequence and Det. */
import { Dim } from '../../ir/graph';
import { allocData, sizeOf, Tensor } from '../../ir/tensor';
import { OpDef } from '../types';
import { axisOf, checkDims, cloneData, fillValue, freshDim, need, needT, takeIndices } from '../util/tensor-common';

function depthOf(ctx: { fail(m: string): never }, t: Tensor): number {
  if (t.size !== 1) ctx.fail(`depth must hold one element, got dims [${t.dims.join(',')}]`);
  const d = Math.trunc(t.get(0));
  if (!(d >= 1)) ctx.fail(`depth must be positive, got ${t.get(0)}`);
  return d;
}

export const OneHot: OpDef = {
  opType: 'OneHot',
  sinceVersion: 9,
  inferShape(ctx, inputs) {
    const ind = need(ctx, inputs, 0);
    const values = need(ctx, inputs, 2);
    if (!ind.shape) return [{ dtype: values.dtype, shape: undefined }];
    const rank = ind.shape.length + 1;
    const axis = axisOf(ctx, ctx.attrs.int('axis', -1), rank);
    const dt = ctx.constant(1);
    const shape: Dim[] = ind.shape.slice();
    shape.splice(axis, 0, dt ? depthOf(ctx, dt) : freshDim(ctx, 0, axis));
    return [{ dtype: values.dtype, shape }];
  },
  reference(ctx, inputs) {
    const ind = needT(ctx, inputs, 0);
    const depth = depthOf(ctx, needT(ctx, inputs, 1));
    const values = needT(ctx, inputs, 2);
    if (values.size !== 2) ctx.fail(`values must hold [off, on], got dims [${values.dims.join(',')}]`);
    const rank = ind.rank + 1;
    const axis = axisOf(ctx, ctx.attrs.int('axis', -1), rank);
    const dims = ind.dims.slice();
    dims.splice(axis, 0, depth);
    const n = checkDims(ctx, dims);
    const outer = sizeOf(ind.dims.slice(0, axis));
    const inner = sizeOf(ind.dims.slice(axis));
    const idx = new Int32Array(n); // 0 -> values[0] (off), 1 -> values[1] (on)
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let v = Math.trunc(Number(ind.data[o * inner + i]));
        if (v < 0) v += depth;
        if (v >= 0 && v < depth) idx[(o * depth + v) * inner + i] = 1;
      }
    }
    return [takeIndices(values, dims, idx)];
  },
};

export const Trilu: OpDef = {
  opType: 'Trilu',
  sinceVersion: 14,
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    return [{ dtype: x.dtype, shape: x.shape?.slice() }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    if (x.rank < 2) ctx.fail(`input must have rank >= 2, got ${x.rank}`);
    const kT = inputs[1];
    if (kT && kT.size !== 1) ctx.fail('k must be a scalar');
    const k = kT ? Number(kT.data[0]) : 0;
    const upper = ctx.attrs.int('upper', 1) !== 0;
    const [r, c] = x.dims.slice(-2);
    const out = cloneData(x) as unknown as unknown[];
    const zero = fillValue(x.dtype, 0);
    const mats = sizeOf(x.dims.slice(0, -2));
    for (let m = 0; m < mats; m++) {
      for (let i = 0; i < r; i++) {
        for (let j = 0; j < c; j++) {
          const keep = upper ? j - i >= k : j - i <= k;
          if (!keep) out[(m * r + i) * c + j] = zero;
        }
      }
    }
    return [new Tensor(x.dtype, x.dims, out as never)];
  },
};

export const ReverseSequence: OpDef = {
  opType: 'ReverseSequence',
  sinceVersion: 10,
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    return [{ dtype: x.dtype, shape: x.shape?.slice() }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const lens = needT(ctx, inputs, 1);
    if (x.rank < 2) ctx.fail(`input must have rank >= 2, got ${x.rank}`);
    const batchAxis = ctx.attrs.int('batch_axis', 1);
    const timeAxis = ctx.attrs.int('time_axis', 0);
    if (!((batchAxis === 0 && timeAxis === 1) || (batchAxis === 1 && timeAxis === 0))) ctx.fail(`batch_axis=${batchAxis} and time_axis=${timeAxis} must be 0 and 1 in some order`);
    const B = x.dims[batchAxis], T = x.dims[timeAxis];
    if (lens.rank !== 1 || lens.dims[0] !== B) ctx.fail(`sequence_lens must have dims [${B}]`);
    const inner = sizeOf(x.dims.slice(2));
    const strB = batchAxis === 0 ? T * inner : inner;
    const strT = timeAxis === 0 ? B * inner : inner;
    const idx = new Int32Array(x.size);
    for (let i = 0; i < x.size; i++) idx[i] = i;
    for (let b = 0; b < B; b++) {
      const L = Number(lens.data[b]);
      if (!(L >= 0 && L <= T)) ctx.fail(`sequence length ${L} is outside [0, ${T}]`);
      for (let t = 0; t < L; t++) {
        for (let q = 0; q < inner; q++) idx[b * strB + t * strT + q] = b * strB + (L - 1 - t) * strT + q;
      }
    }
    return [takeIndices(x, x.dims, idx)];
  },
};

export const Det: OpDef = {
  opType: 'Det',
  sinceVersion: 11,
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    if (!x.shape) return [{ dtype: x.dtype, shape: undefined }];
    if (x.shape.length < 2) ctx.fail(`input must have rank >= 2, got ${x.shape.length}`);
    return [{ dtype: x.dtype, shape: x.shape.slice(0, -2) }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    if (x.rank < 2) ctx.fail(`input must have rank >= 2, got ${x.rank}`);
    if (!(x.data instanceof Float32Array || x.data instanceof Float64Array) || x.dtype.startsWith('complex')) ctx.fail(`Det needs a floating-point input, got ${x.dtype}`);
    const [m, m2] = x.dims.slice(-2);
    if (m !== m2) ctx.fail(`matrices must be square, got ${m}x${m2}`);
    const dims = x.dims.slice(0, -2);
    const count = sizeOf(dims);
    const out = allocData(x.dtype, count) as Float32Array | Float64Array;
    const a = new Float64Array(m * m);
    for (let b = 0; b < count; b++) {
      for (let i = 0; i < m * m; i++) a[i] = (x.data as Float32Array | Float64Array)[b * m * m + i];
      out[b] = determinant(a, m);
    }
    return [new Tensor(x.dtype, dims, out)];
  },
};

/** Determinant by LU decomposition with partial pivoting (destroys `a`). */
function determinant(a: Float64Array, n: number): number {
  let det = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[p * n + c])) p = r;
    if (a[p * n + c] === 0) return 0;
    if (p !== c) {
      for (let j = 0; j < n; j++) { const t = a[c * n + j]; a[c * n + j] = a[p * n + j]; a[p * n + j] = t; }
      det = -det;
    }
    const piv = a[c * n + c];
    det *= piv;
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c] / piv;
      if (f === 0) continue;
      for (let j = c; j < n; j++) a[r * n + j] -= f * a[c * n + j];
    }
  }
  return det;
}

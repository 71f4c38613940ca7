/** Ops whose output size depends on the data: NonZero, Compress, Unique. */
import { Dim } from '../../ir/graph';
import { sizeOf, Tensor } from '../../ir/tensor';
import { OpDef } from '../types';
import { axisOf, freshDim, need, needT, takeIndices } from '../util/tensor-common';

function truthy(v: unknown): boolean {
  return typeof v === 'string' ? v !== '' : typeof v === 'bigint' ? v !== 0n : v !== 0; // NaN counts as non-zero, as in numpy
}

export const NonZero: OpDef = {
  opType: 'NonZero',
  sinceVersion: 9,
  // on the GPU as vkrt::NonZeroBounded (bounded.ts), trimmed along axis 1 by the staged engine
  traits: { dataDependent: { bounded: 'NonZeroBounded', outputs: 1, trimAxis: () => 1 } },
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    return [{ dtype: 'int64', shape: [x.shape ? x.shape.length : freshDim(ctx, 0, 0), freshDim(ctx, 0, 1)] }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    if (x.dtype.startsWith('complex')) ctx.unsupported(`NonZero of ${x.dtype} is not implemented`);
    const hits: number[] = [];
    const d = x.data as unknown as ArrayLike<unknown>;
    for (let i = 0; i < x.size; i++) if (truthy(d[i])) hits.push(i);
    const rank = x.rank;
    const nnz = hits.length;
    const out = new BigInt64Array(rank * nnz);
    hits.forEach((flat, j) => {
      let f = flat;
      for (let a = rank - 1; a >= 0; a--) {
        out[a * nnz + j] = BigInt(f % x.dims[a]);
        f = Math.floor(f / x.dims[a]);
      }
    });
    return [new Tensor('int64', [rank, nnz], out)];
  },
};

export const Compress: OpDef = {
  opType: 'Compress',
  sinceVersion: 9,
  // on the GPU as vkrt::CompressBounded (bounded.ts), trimmed along its axis (0 when flattened)
  traits: { dataDependent: { bounded: 'CompressBounded', outputs: 1, trimAxis: (attrs) => attrs.optInt('axis') ?? 0 } },
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    const axis = ctx.attrs.optInt('axis');
    if (axis === undefined) return [{ dtype: x.dtype, shape: [freshDim(ctx, 0, 0)] }];
    if (!x.shape) return [{ dtype: x.dtype, shape: undefined }];
    const a = axisOf(ctx, axis, x.shape.length);
    const shape: Dim[] = x.shape.slice();
    shape[a] = freshDim(ctx, 0, a);
    return [{ dtype: x.dtype, shape }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const cond = needT(ctx, inputs, 1);
    if (cond.rank !== 1) ctx.fail(`condition must be 1-D, got rank ${cond.rank}`);
    const axisAttr = ctx.attrs.optInt('axis');
    const src = axisAttr === undefined ? x.reshape([x.size]) : x;
    const axis = axisAttr === undefined ? 0 : axisOf(ctx, axisAttr, x.rank);
    const d = src.dims[axis];
    const keep: number[] = [];
    for (let i = 0; i < cond.size; i++) {
      if (!cond.data[i]) continue;
      if (i >= d) ctx.fail(`condition selects index ${i} beyond the dim of size ${d}`);
      keep.push(i);
    }
    const dims = src.dims.slice();
    dims[axis] = keep.length;
    const outer = sizeOf(src.dims.slice(0, axis));
    const inner = sizeOf(src.dims.slice(axis + 1));
    const idx = new Int32Array(sizeOf(dims));
    let k = 0;
    for (let o = 0; o < outer; o++) {
      for (const i of keep) {
        const base = (o * d + i) * inner;
        for (let q = 0; q < inner; q++) idx[k++] = base + q;
      }
    }
    return [takeIndices(src, dims, idx)];
  },
};

/** numpy order: numbers ascending with NaN last, bigints and strings ascending. */
function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') {
    const an = Number.isNaN(a), bn = Number.isNaN(b);
    if (an || bn) return an && bn ? 0 : an ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

export const Unique: OpDef = {
  opType: 'Unique',
  sinceVersion: 11,
  // on the GPU as vkrt::UniqueBounded (bounded.ts): Y trimmed along its axis, indices and counts along 0
  traits: { dataDependent: { bounded: 'UniqueBounded', outputs: 4, trimAxis: (attrs, k) => (k === 0 ? attrs.optInt('axis') ?? 0 : 0) } },
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    const axis = ctx.attrs.optInt('axis');
    const u = freshDim(ctx, 0, axis === undefined || !x.shape ? 0 : axisOf(ctx, axis, x.shape.length));
    let yShape: Dim[] | undefined;
    let invLen: Dim = freshDim(ctx, 2, 0);
    if (axis === undefined) {
      yShape = [u];
      const n = x.shape ? x.shape.reduce<number | undefined>((p, d) => (p !== undefined && typeof d === 'number' ? p * d : undefined), 1) : undefined;
      if (n !== undefined) invLen = n;
    } else if (x.shape) {
      const a = axisOf(ctx, axis, x.shape.length);
      yShape = x.shape.slice();
      yShape[a] = u;
      invLen = x.shape[a];
    }
    return [
      { dtype: x.dtype, shape: yShape },
      { dtype: 'int64', shape: [u] },
      { dtype: 'int64', shape: [invLen] },
      { dtype: 'int64', shape: [u] },
    ];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    if (x.dtype.startsWith('complex')) ctx.unsupported(`Unique of ${x.dtype} is not implemented`);
    const sorted = ctx.attrs.int('sorted', 1) !== 0;
    const axisAttr = ctx.attrs.optInt('axis');
    const src = axisAttr === undefined ? x.reshape([x.size]) : x;
    const axis = axisAttr === undefined ? 0 : axisOf(ctx, axisAttr, x.rank);
    const d = src.dims[axis];
    const outer = sizeOf(src.dims.slice(0, axis));
    const inner = sizeOf(src.dims.slice(axis + 1));
    const data = src.data as unknown as ArrayLike<unknown>;
    // slice i along the axis, as a list of values
    const sliceOf = (i: number): unknown[] => {
      const v: unknown[] = [];
      for (let o = 0; o < outer; o++) for (let q = 0; q < inner; q++) v.push(data[(o * d + i) * inner + q]);
      return v;
    };
    const keyOf = (v: unknown[]) => v.map((e) => (typeof e === 'string' ? JSON.stringify(e) : String(e))).join('\u0001');
    const groups = new Map<string, { first: number; count: number; values: unknown[] }>();
    const groupOf: string[] = [];
    for (let i = 0; i < d; i++) {
      const v = sliceOf(i);
      const key = keyOf(v);
      const g = groups.get(key);
      if (g) g.count++;
      else groups.set(key, { first: i, count: 1, values: v });
      groupOf.push(key);
    }
    const list = [...groups.entries()];
    if (sorted) {
      list.sort(([, a], [, b]) => {
        for (let k = 0; k < a.values.length; k++) {
          const c = compareValues(a.values[k], b.values[k]);
          if (c) return c;
        }
        return 0;
      });
    }
    const rankOf = new Map<string, number>();
    list.forEach(([key], r) => rankOf.set(key, r));
    const u = list.length;
    const dims = src.dims.slice();
    dims[axis] = u;
    const idx = new Int32Array(sizeOf(dims));
    let k = 0;
    for (let o = 0; o < outer; o++) {
      for (const [, g] of list) {
        const base = (o * d + g.first) * inner;
        for (let q = 0; q < inner; q++) idx[k++] = base + q;
      }
    }
    const y = takeIndices(src, dims, idx);
    const i64 = (v: number[]) => Tensor.from('int64', [v.length], v);
    return [
      y,
      i64(list.map(([, g]) => g.first)),
      i64(groupOf.map((key) => rankOf.get(key)!)),
      i64(list.map(([, g]) => g.count)),
    ];
  },
};

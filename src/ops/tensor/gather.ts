/** Gather, GatherElements, GatherND: output element = data element at an index read from `indices`. */
import { Dim } from '../../ir/graph';
import { sizeOf, stridesOf, Tensor } from '../../ir/tensor';
import { OpContext, OpDef } from '../types';
import { axisOf, checkDims, freshDim, need, needT, takeIndices } from '../util/tensor-common';

/** An index value checked against [-dim, dim) and made non-negative. */
function checkedIndex(ctx: { fail(m: string): never }, v: number, dim: number): number {
  if (!(v >= -dim && v < dim)) ctx.fail(`index ${v} is out of range for a dim of size ${dim}`);
  return v < 0 ? v + dim : v;
}

function indexTensor(ctx: OpContext, t: Tensor): void {
  if (t.dtype !== 'int32' && t.dtype !== 'int64') ctx.fail(`indices must be int32 or int64, got ${t.dtype}`);
}

export const Gather: OpDef = {
  opType: 'Gather',
  inferShape(ctx, inputs) {
    const data = need(ctx, inputs, 0);
    const ind = need(ctx, inputs, 1);
    if (!data.shape || !ind.shape) return [{ dtype: data.dtype, shape: undefined }];
    const axis = axisOf(ctx, ctx.attrs.int('axis', 0), data.shape.length);
    return [{ dtype: data.dtype, shape: [...data.shape.slice(0, axis), ...ind.shape, ...data.shape.slice(axis + 1)] }];
  },
  reference(ctx, inputs) {
    const data = needT(ctx, inputs, 0);
    const ind = needT(ctx, inputs, 1);
    indexTensor(ctx, ind);
    const axis = axisOf(ctx, ctx.attrs.int('axis', 0), data.rank);
    const dims = [...data.dims.slice(0, axis), ...ind.dims, ...data.dims.slice(axis + 1)];
    const n = checkDims(ctx, dims);
    const outer = sizeOf(data.dims.slice(0, axis));
    const inner = sizeOf(data.dims.slice(axis + 1));
    const d = data.dims[axis];
    const m = ind.size;
    const idx = new Int32Array(n);
    let k = 0;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < m; j++) {
        const i = checkedIndex(ctx, Number(ind.data[j]), d);
        const base = (o * d + i) * inner;
        for (let q = 0; q < inner; q++) idx[k++] = base + q;
      }
    }
    return [takeIndices(data, dims, idx)];
  },
};

export const GatherElements: OpDef = {
  opType: 'GatherElements',
  sinceVersion: 11,
  inferShape(ctx, inputs) {
    const data = need(ctx, inputs, 0);
    const ind = need(ctx, inputs, 1);
    return [{ dtype: data.dtype, shape: ind.shape?.slice() }];
  },
  reference(ctx, inputs) {
    const data = needT(ctx, inputs, 0);
    const ind = needT(ctx, inputs, 1);
    indexTensor(ctx, ind);
    if (ind.rank !== data.rank) ctx.fail(`indices rank ${ind.rank} differs from data rank ${data.rank}`);
    const rank = data.rank;
    const axis = axisOf(ctx, ctx.attrs.int('axis', 0), rank);
    for (let a = 0; a < rank; a++) {
      if (a !== axis && ind.dims[a] > data.dims[a]) ctx.fail(`indices dim ${a} (${ind.dims[a]}) exceeds data dim (${data.dims[a]})`);
    }
    const str = stridesOf(data.dims);
    const n = ind.size;
    const idx = new Int32Array(n);
    const ctr = new Array<number>(rank).fill(0);
    for (let k = 0; k < n; k++) {
      let off = 0;
      for (let a = 0; a < rank; a++) {
        const c = a === axis ? checkedIndex(ctx, Number(ind.data[k]), data.dims[a]) : ctr[a];
        off += c * str[a];
      }
      idx[k] = off;
      for (let a = rank - 1; a >= 0; a--) {
        if (++ctr[a] < ind.dims[a]) break;
        ctr[a] = 0;
      }
    }
    return [takeIndices(data, ind.dims, idx)];
  },
};

function gatherNdDims(ctx: { fail(m: string): never }, data: readonly Dim[], ind: readonly Dim[], b: number, fresh: () => Dim): Dim[] {
  const m = ind[ind.length - 1];
  if (ind.length < 1) ctx.fail('indices must have rank >= 1');
  if (b < 0 || b >= Math.min(data.length, ind.length)) ctx.fail(`batch_dims ${b} must be less than both ranks`);
  if (typeof m !== 'number') return [...data.slice(0, b), ...ind.slice(b, -1), fresh()];
  if (m < 1 || m > data.length - b) ctx.fail(`indices last dim ${m} must be in [1, ${data.length - b}]`);
  return [...data.slice(0, b), ...ind.slice(b, -1), ...data.slice(b + m)];
}

export const GatherND: OpDef = {
  opType: 'GatherND',
  sinceVersion: 11,
  inferShape(ctx, inputs) {
    const data = need(ctx, inputs, 0);
    const ind = need(ctx, inputs, 1);
    if (!data.shape || !ind.shape) return [{ dtype: data.dtype, shape: undefined }];
    const b = ctx.opset >= 12 ? ctx.attrs.int('batch_dims', 0) : 0;
    const m = ind.shape[ind.shape.length - 1];
    if (typeof m !== 'number') return [{ dtype: data.dtype, shape: undefined }];
    return [{ dtype: data.dtype, shape: gatherNdDims(ctx, data.shape, ind.shape, b, () => freshDim(ctx, 0, 0)) }];
  },
  reference(ctx, inputs) {
    const data = needT(ctx, inputs, 0);
    const ind = needT(ctx, inputs, 1);
    if (ind.dtype !== 'int64') ctx.fail(`indices must be int64, got ${ind.dtype}`);
    const b = ctx.opset >= 12 ? ctx.attrs.int('batch_dims', 0) : 0;
    const dims = gatherNdDims(ctx, data.dims, ind.dims, b, () => 0) as number[];
    const n = checkDims(ctx, dims);
    const m = ind.dims[ind.rank - 1];
    const batch = sizeOf(data.dims.slice(0, b));
    const perBatch = sizeOf(ind.dims.slice(b, -1)); // index tuples per batch element
    const slice = sizeOf(data.dims.slice(b + m)); // elements copied per tuple
    const dataBatch = sizeOf(data.dims.slice(b));
    const str = stridesOf(data.dims.slice(b));
    const idx = new Int32Array(n);
    let k = 0;
    for (let bi = 0; bi < batch; bi++) {
      for (let t = 0; t < perBatch; t++) {
        const row = (bi * perBatch + t) * m;
        let off = bi * dataBatch;
        for (let j = 0; j < m; j++) off += checkedIndex(ctx, Number(ind.data[row + j]), data.dims[b + j]) * str[j];
        for (let q = 0; q < slice; q++) idx[k++] = off + q;
      }
    }
    return [takeIndices(data, dims, idx)];
  },
};

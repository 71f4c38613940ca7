/** Expand (broadcast to a shape) and Tile (repeat along each axis). */
import { Dim } from '../../ir/graph';
import { broadcastIndex } from '../util/shape';
import { OpDef } from '../types';
import { checkDims, constInts, freshDim, intsOf, need, needT, takeIndices } from '../util/tensor-common';

/** Bidirectional broadcast of dims against the requested shape (Expand's rule). */
function expandDims(ctx: { fail(m: string): never }, dims: readonly Dim[], shape: readonly number[]): Dim[] {
  const rank = Math.max(dims.length, shape.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const a = i - (rank - dims.length);
    const b = i - (rank - shape.length);
    const d: Dim = a >= 0 ? dims[a] : 1;
    const s = b >= 0 ? shape[b] : 1;
    if (!Number.isSafeInteger(s) || s < 0) ctx.fail(`shape [${shape.join(',')}] has invalid dim ${s}`);
    if (typeof d !== 'number') out.push(s === 1 ? d : s);
    else if (d === s || s === 1) out.push(d);
    else if (d === 1) out.push(s);
    else ctx.fail(`dims [${dims.join(',')}] cannot be expanded to [${shape.join(',')}]`);
  }
  return out;
}

export const Expand: OpDef = {
  opType: 'Expand',
  sinceVersion: 8,
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    const shape = constInts(ctx, 1);
    if (shape && x.shape) return [{ dtype: x.dtype, shape: expandDims(ctx, x.shape, shape) }];
    const n = inputs[1]?.shape?.[0];
    if (x.shape && typeof n === 'number') {
      const rank = Math.max(x.shape.length, n);
      return [{ dtype: x.dtype, shape: Array.from({ length: rank }, (_, i) => freshDim(ctx, 0, i)) }];
    }
    return [{ dtype: x.dtype, shape: undefined }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const s = needT(ctx, inputs, 1);
    if (s.rank !== 1) ctx.fail(`shape must be 1-D, got rank ${s.rank}`);
    const dims = expandDims(ctx, x.dims, intsOf(s)) as number[];
    checkDims(ctx, dims);
    return [takeIndices(x, dims, broadcastIndex(x.dims, dims))];
  },
};

export const Tile: OpDef = {
  opType: 'Tile',
  sinceVersion: 6,
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    if (!x.shape) return [{ dtype: x.dtype, shape: undefined }];
    const reps = constInts(ctx, 1);
    if (!reps) return [{ dtype: x.dtype, shape: x.shape.map((_, i) => freshDim(ctx, 0, i)) }];
    if (reps.length !== x.shape.length) ctx.fail(`repeats has ${reps.length} entries for rank ${x.shape.length}`);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? d * reps[i] : reps[i] === 1 ? d : reps[i] === 0 ? 0 : freshDim(ctx, 0, i))) }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const r = needT(ctx, inputs, 1);
    const reps = intsOf(r);
    if (r.rank !== 1 || reps.length !== x.rank) ctx.fail(`repeats must be 1-D with ${x.rank} entries, got dims [${r.dims.join(',')}]`);
    if (reps.some((v) => v < 0)) ctx.fail(`repeats [${reps.join(',')}] has a negative entry`);
    const dims = x.dims.map((d, i) => d * reps[i]);
    const n = checkDims(ctx, dims);
    const rank = x.rank;
    const inStr = new Array<number>(rank);
    let acc = 1;
    for (let a = rank - 1; a >= 0; a--) { inStr[a] = acc; acc *= x.dims[a]; }
    const idx = new Int32Array(n);
    const ctr = new Array<number>(rank).fill(0);
    for (let k = 0; k < n; k++) {
      let off = 0;
      for (let a = 0; a < rank; a++) off += (ctr[a] % x.dims[a]) * inStr[a];
      idx[k] = off;
      for (let a = rank - 1; a >= 0; a--) {
        if (++ctr[a] < dims[a]) break;
        ctr[a] = 0;
      }
    }
    return [takeIndices(x, dims, idx)];
  },
};

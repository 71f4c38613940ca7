/** Shape arithmetic shared by the operator references and shape inference. */
import { ShapeError } from '../../errors';
import { Dim } from '../../ir/graph';
import { stridesOf } from '../../ir/tensor';

/** Normalize a possibly negative axis against rank; throws a plain Error when out of range. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1)) throw new Error(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Numpy-style multidirectional broadcast of static shapes; throws when they do not fit. */
export function broadcastShapes(...shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) throw new ShapeError(`shapes [${shapes.map((x) => x.join(',')).join('] and [')}] do not broadcast`);
    }
  }
  return out;
}

/** Broadcast of possibly symbolic shapes (unknown where it cannot be decided). */
export function broadcastDims(...shapes: readonly (readonly Dim[])[]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = new Array<Dim>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      const cur = out[o];
      if (cur === 1) out[o] = d;
      else if (d === 1 || d === cur) continue;
      else if (typeof d === 'number' && typeof cur === 'number') throw new ShapeError(`dims ${cur} and ${d} do not broadcast`);
      else if (typeof cur === 'string' && typeof d === 'number') out[o] = d; // symbolic must be d (or 1)
    }
  }
  return out;
}

/**
 * For each output element (row-major over `outDims`), the index of the matching element of an input
 * of shape `inDims` broadcast to `outDims`. The simple, obviously correct way to broadcast.
 */
export function broadcastIndex(inDims: readonly number[], outDims: readonly number[]): Int32Array {
  const n = outDims.reduce((a, b) => a * b, 1);
  const idx = new Int32Array(n);
  const rank = outDims.length;
  const inStr = stridesOf(inDims);
  // effective stride per output axis (0 where the input is broadcast)
  const eff = new Array<number>(rank).fill(0);
  for (let i = 0; i < inDims.length; i++) {
    const o = rank - inDims.length + i;
    eff[o] = inDims[i] === 1 ? 0 : inStr[i];
  }
  const counter = new Array<number>(rank).fill(0);
  let off = 0;
  for (let k = 0; k < n; k++) {
    idx[k] = off;
    for (let a = rank - 1; a >= 0; a--) {
      counter[a]++;
      off += eff[a];
      if (counter[a] < outDims[a]) break;
      off -= eff[a] * counter[a];
      counter[a] = 0;
    }
  }
  return idx;
}

/** Row-major multi-index of flat index i. */
export function unravel(i: number, dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length);
  for (let a = dims.length - 1; a >= 0; a--) {
    out[a] = i % dims[a];
    i = Math.floor(i / dims[a]);
  }
  return out;
}

/** Flat index of a multi-index. */
export function ravel(index: readonly number[], dims: readonly number[]): number {
  let off = 0;
  for (let a = 0; a < dims.length; a++) off = off * dims[a] + index[a];
  return off;
}

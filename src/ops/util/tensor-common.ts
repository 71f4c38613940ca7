/**
 * Helpers shared by the tensor (shape and data movement) family: reading integer tensors, size
 * guards against hostile models, index-map copies that work for every dtype, and small pieces of
 * symbolic shape arithmetic for inferShape.
 */
import { DType, isBigInt, isComplex } from '../../ir/dtype';
import { Dim, ValueType } from '../../ir/graph';
import { allocData, sizeOf, Tensor, TensorData } from '../../ir/tensor';
import { OpContext, ShapeContext } from '../types';

/** Largest element count any op of this family will allocate (ONNX tensors index with int32 here). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

type Ctx = Pick<OpContext, 'fail'> | Pick<ShapeContext, 'fail'>;

/** Validate output dims (non-negative integers, bounded total) and return the element count. */
export function checkDims(ctx: Ctx, dims: readonly number[], what = 'output'): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) ctx.fail(`${what} dimension ${d} is invalid (dims [${dims.join(',')}])`);
    n *= d;
  }
  if (n > MAX_ELEMENTS) ctx.fail(`${what} of dims [${dims.join(',')}] has ${n} elements, more than the ${MAX_ELEMENTS} vkrt allows`);
  return n;
}

/** Integer values of a tensor as numbers (int64 beyond 2^53 are rounded; fine for clamped indices). */
export function intsOf(t: Tensor): number[] {
  const out = new Array<number>(t.size);
  for (let i = 0; i < out.length; i++) out[i] = Number(t.data[i]);
  return out;
}

/** The values of constant input i as integers, or undefined when not known at build time. */
export function constInts(ctx: ShapeContext, i: number): number[] | undefined {
  const t = ctx.constant(i);
  return t ? intsOf(t) : undefined;
}

/** Normalize an axis, failing through ctx (typed error naming the node) when it is out of range. */
export function axisOf(ctx: Ctx, axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) ctx.fail(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/**
 * A new tensor of `src`'s dtype and `dims` whose element k is src element idx[k], or the fill
 * value (src's zero unless given) where idx[k] < 0. The workhorse of every data-movement op:
 * the op computes an index map, this copies values of any dtype (bigint, string, complex) exactly.
 */
export function takeIndices(src: Tensor, dims: readonly number[], idx: ArrayLike<number>, fill?: number | bigint | string | boolean): Tensor {
  const n = sizeOf(dims);
  const out = allocData(src.dtype, n);
  const s = src.data as unknown as ArrayLike<unknown>;
  const o = out as unknown as { [k: number]: unknown };
  if (isComplex(src.dtype)) {
    const fv = fill === undefined ? 0 : Number(fill);
    for (let k = 0; k < n; k++) {
      const j = idx[k];
      o[2 * k] = j < 0 ? fv : s[2 * j];
      o[2 * k + 1] = j < 0 ? 0 : s[2 * j + 1];
    }
    return new Tensor(src.dtype, dims, out);
  }
  let hasFill = false;
  let fv: unknown;
  for (let k = 0; k < n; k++) {
    const j = idx[k];
    if (j >= 0) o[k] = s[j];
    else {
      if (!hasFill) { fv = fillValue(src.dtype, fill); hasFill = true; }
      o[k] = fv;
    }
  }
  return new Tensor(src.dtype, dims, out);
}

/** A value converted to what the host array of dtype holds (bigint, string, number). */
export function fillValue(dtype: DType, v: number | bigint | string | boolean | undefined): unknown {
  if (dtype === 'string') return v === undefined ? '' : String(v);
  if (isBigInt(dtype)) {
    if (v === undefined) return 0n;
    if (typeof v === 'bigint') return dtype === 'uint64' ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v);
    const num = Number(v);
    return Number.isFinite(num) ? (dtype === 'uint64' ? BigInt.asUintN(64, BigInt(Math.trunc(num))) : BigInt.asIntN(64, BigInt(Math.trunc(num)))) : 0n;
  }
  const arr = allocData(dtype, 1) as unknown as { [k: number]: unknown };
  arr[0] = v === undefined ? 0 : typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
  return arr[0];
}

/** A copy of a tensor's data as a plain mutable array of the same type. */
export function cloneData(t: Tensor): TensorData {
  return Array.isArray(t.data) ? t.data.slice() : (t.data.slice() as TensorData);
}

/** For each output element (row-major), its flat index in the input after a permutation of axes. */
export function transposeIndex(inDims: readonly number[], perm: readonly number[]): { dims: number[]; idx: Int32Array } {
  const rank = inDims.length;
  const outDims = perm.map((p) => inDims[p]);
  const inStr = new Array<number>(rank);
  let acc = 1;
  for (let i = rank - 1; i >= 0; i--) { inStr[i] = acc; acc *= inDims[i]; }
  const step = perm.map((p) => inStr[p]);
  const n = sizeOf(outDims);
  const idx = new Int32Array(n);
  const ctr = new Array<number>(rank).fill(0);
  let off = 0;
  for (let k = 0; k < n; k++) {
    idx[k] = off;
    for (let a = rank - 1; a >= 0; a--) {
      ctr[a]++;
      off += step[a];
      if (ctr[a] < outDims[a]) break;
      off -= step[a] * ctr[a];
      ctr[a] = 0;
    }
  }
  return { dims: outDims, idx };
}

/** Product of possibly symbolic dims: a number when all are known, else undefined. */
export function staticSize(dims: readonly Dim[]): number | undefined {
  let n = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

/** All dims are numbers. */
export function isStatic(dims: readonly Dim[] | undefined): dims is number[] {
  return !!dims && dims.every((d) => typeof d === 'number');
}

/** A fresh symbolic dim for an output axis whose size is only known when the graph runs. */
export function freshDim(ctx: ShapeContext, output: number, axis: number): string {
  const name = ctx.node.outputs[output] || ctx.node.name || ctx.node.opType;
  return `${name}_dim${axis}`;
}

/** A tensor ValueType. */
export function tensorType(dtype: DType, shape: Dim[] | undefined): ValueType {
  return { dtype, shape };
}

/** Input i's ValueType or a typed error when it is missing. */
export function need(ctx: ShapeContext, inputs: readonly (ValueType | undefined)[], i: number): ValueType {
  const t = inputs[i];
  if (!t) ctx.fail(`input ${i} is required`);
  return t;
}

/** Input i's tensor or a typed error when it is missing. */
export function needT(ctx: OpContext, inputs: readonly (Tensor | undefined)[], i: number): Tensor {
  const t = inputs[i];
  if (!t) ctx.fail(`input ${i} is required (and must be a tensor)`);
  return t;
}

/** Clamp helper. */
export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

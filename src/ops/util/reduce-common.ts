/**
 * Helpers shared by the reduce family: axis plans (which input elements feed which output), exact
 * integer arithmetic per dtype, reading small integer inputs (axes, k), and size guards.
 */
import { DType, isBigInt } from '../../ir/dtype';
import { Dim, ValueType } from '../../ir/graph';
import { NumericData, sizeOf, stridesOf, Tensor } from '../../ir/tensor';

/** Largest element count a reference output may have (hostile models must not allocate more). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** Throws through `fail` when dims hold more than MAX_ELEMENTS elements. */
export function checkSize(dims: readonly number[], fail: (m: string) => never): void {
  const n = sizeOf(dims);
  if (!(n <= MAX_ELEMENTS)) fail(`output of ${n} elements ([${dims.join(',')}]) is over the 2^31 element limit`);
}

/** Normalize axis against rank, or call fail. */
export function axisOrFail(axis: number, rank: number, fail: (m: string) => never, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) fail(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** The values of a small integer tensor (axes, k, shapes) as numbers. */
export function intValues(t: Tensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/**
 * A plan to reduce `dims` over a set of axes: output element o gathers input elements
 * `base[o] + off[r]` for every r. Plain and obviously correct.
 */
export interface ReducePlan {
  /** Flat input offset of each output element's first contribution (kept axes only). */
  base: Float64Array;
  /** Flat offset of each reduced position (reduced axes only). */
  off: Float64Array;
  /** Output dims with reduced axes kept as 1. */
  keptDims: number[];
  /** Output dims with reduced axes removed. */
  droppedDims: number[];
}

export function reducePlan(dims: readonly number[], axes: readonly number[]): ReducePlan {
  const strides = stridesOf(dims);
  const isRed = dims.map((_, a) => axes.includes(a));
  const keptDims = dims.map((d, a) => (isRed[a] ? 1 : d));
  const droppedDims = dims.filter((_, a) => !isRed[a]);
  const offsets = (want: boolean): Float64Array => {
    const ax = dims.map((_, a) => a).filter((a) => isRed[a] === want);
    const n = sizeOf(ax.map((a) => dims[a]));
    const out = new Float64Array(n);
    const idx = new Array<number>(ax.length).fill(0);
    for (let k = 0; k < n; k++) {
      let off = 0;
      for (let j = 0; j < ax.length; j++) off += idx[j] * strides[ax[j]];
      out[k] = off;
      for (let j = ax.length - 1; j >= 0; j--) {
        if (++idx[j] < dims[ax[j]]) break;
        idx[j] = 0;
      }
    }
    return out;
  };
  return { base: offsets(false), off: offsets(true), keptDims, droppedDims };
}

/** outer x len x inner split of dims around one axis (the layout of single-axis ops). */
export function splitAxis(dims: readonly number[], axis: number): { outer: number; len: number; inner: number } {
  return { outer: sizeOf(dims.slice(0, axis)), len: dims[axis] ?? 1, inner: sizeOf(dims.slice(axis + 1)) };
}

/** Output shape of a reduction over possibly symbolic dims (axes already normalized). */
export function reducedShape(shape: readonly Dim[], axes: readonly number[], keepdims: boolean): Dim[] {
  const out: Dim[] = [];
  shape.forEach((d, a) => {
    if (!axes.includes(a)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** A copy of a value type with another shape (and maybe dtype). */
export function withShape(t: ValueType, shape: Dim[] | undefined, dtype: DType = t.dtype): ValueType {
  return { dtype, shape };
}

/** Exact integer add/mul for a dtype, wrapping like the fixed-width machine type. */
export interface IntArith {
  add(a: number | bigint, b: number | bigint): number | bigint;
  mul(a: number | bigint, b: number | bigint): number | bigint;
  zero: number | bigint;
  one: number | bigint;
}

/** Arithmetic for elements of dtype as held on the host: bigint for 64-bit, exact wrapping for 32-bit. */
export function arithFor(dtype: DType): IntArith {
  if (isBigInt(dtype)) {
    const wrap = dtype === 'int64' ? (v: bigint) => BigInt.asIntN(64, v) : (v: bigint) => BigInt.asUintN(64, v);
    return { add: (a, b) => wrap((a as bigint) + (b as bigint)), mul: (a, b) => wrap((a as bigint) * (b as bigint)), zero: 0n, one: 1n };
  }
  if (dtype === 'int32') return { add: (a, b) => ((a as number) + (b as number)) | 0, mul: (a, b) => Math.imul(a as number, b as number), zero: 0, one: 1 };
  if (dtype === 'uint32') return { add: (a, b) => ((a as number) + (b as number)) >>> 0, mul: (a, b) => Math.imul(a as number, b as number) >>> 0, zero: 0, one: 1 };
  // floats (and the small integer types, whose typed arrays wrap on store): plain number arithmetic
  return { add: (a, b) => (a as number) + (b as number), mul: (a, b) => (a as number) * (b as number), zero: 0, one: 1 };
}

/** Numeric host data of a tensor (throws for strings). */
export function numeric(t: Tensor): NumericData {
  if (Array.isArray(t.data)) throw new Error(`${t.dtype} tensors are not numeric`);
  return t.data;
}

/** Throws through fail unless dtype is one of allowed. */
export function checkDType(dtype: DType, allowed: readonly DType[], fail: (m: string) => never, what = 'input'): void {
  if (!allowed.includes(dtype)) fail(`${what} of type ${dtype} is not allowed (expected one of ${allowed.join(', ')})`);
}

export const FLOATS: readonly DType[] = ['float32', 'float16', 'bfloat16', 'float64'];
export const NUMERIC: readonly DType[] = [...FLOATS, 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'];

/** Helpers shared by the nn operator family (conv, pool, norm, quantization, matmul). */
import { DType, isBigInt, isFloat } from '../../ir/dtype';
import { Dim, ValueType } from '../../ir/graph';
import { Tensor, sizeOf } from '../../ir/tensor';
import { OpContext, ShapeContext } from '../types';

/** Largest number of elements an nn op will allocate for one output. */
export const MAX_ELEMENTS = 2 ** 31;

/** Fail (typed, naming the node) when an output of `dims` would be too large or invalid. */
export function checkOutDims(ctx: OpContext | ShapeContext, dims: readonly number[]): void {
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) ctx.fail(`computed output dimension ${d} is invalid (dims [${dims.join(',')}])`);
    n *= d;
  }
  if (n > MAX_ELEMENTS) ctx.fail(`output of ${n} elements (dims [${dims.join(',')}]) exceeds the limit of 2^31`);
}

/** Fail when a loop of `n` iterations would be unreasonable for the reference. */
export function checkWork(ctx: OpContext, n: number, what = 'work'): void {
  if (!(n <= 2 ** 34)) ctx.fail(`${what} of ${n} steps is too large for the reference`);
}

/** The elements of a numeric tensor as float64 (a copy; bigint converted with Number). */
export function f64(t: Tensor): Float64Array {
  const d = t.data;
  if (d instanceof Float64Array) return d;
  if (d instanceof Float32Array) return Float64Array.from(d);
  return t.toNumbers();
}

/** A float tensor of dtype from float64 values, rounded to narrow formats. */
export function floatTensor(dtype: DType, dims: readonly number[], vals: ArrayLike<number>): Tensor {
  if (dtype === 'float64') return new Tensor(dtype, dims, vals instanceof Float64Array ? vals : Float64Array.from(vals));
  if (dtype === 'float32') return new Tensor(dtype, dims, vals instanceof Float32Array ? vals : Float32Array.from(vals));
  return Tensor.from(dtype, dims, vals);
}

/** Require a float input dtype. */
export function requireFloat(ctx: OpContext, t: Tensor, name: string): void {
  if (!isFloat(t.dtype)) ctx.fail(`input '${name}' must be a floating-point tensor, got ${t.dtype}`);
}

/** A tensor of numbers of dtype (integer dtypes: values are rounded and saturated by the caller). */
export function numberTensor(dtype: DType, dims: readonly number[], vals: ArrayLike<number>): Tensor {
  if (isFloat(dtype)) return floatTensor(dtype, dims, vals);
  return Tensor.from(dtype, dims, vals);
}

/** Required input i, or a typed error. */
export function need(ctx: OpContext, inputs: readonly (Tensor | undefined)[], i: number, name: string): Tensor {
  const t = inputs[i];
  if (!t) ctx.fail(`required input ${i} ('${name}') is missing`);
  return t;
}

/** Round half to even (ONNX / numpy rint). */
export function rint(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** A symbolic dim for a value that cannot be computed at build time. */
export function unknownDim(ctx: ShapeContext, tag: string | number, out = 0): Dim {
  return `${ctx.node.outputs[out] || ctx.node.opType}_d${tag}`;
}

/** The shape of a value type, when its rank is known. */
export function shapeOf(t: ValueType | undefined): Dim[] | undefined {
  return t?.shape;
}

/** Integer data as exact bigint when 64-bit, for exact integer arithmetic. */
export function isBig(t: Tensor): boolean {
  return isBigInt(t.dtype);
}

/** Elements as JS numbers (no copy for float arrays). */
export function nums(t: Tensor): ArrayLike<number> {
  const d = t.data;
  if (d instanceof Float64Array || d instanceof Float32Array) return d;
  if (Array.isArray(d)) throw new Error('string tensor where a number tensor was expected');
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return t.toNumbers();
  return d as ArrayLike<number>;
}

/** Total element count of static dims, or undefined when any dim is symbolic. */
export function staticSize(shape: readonly Dim[] | undefined): number | undefined {
  if (!shape) return undefined;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

export { sizeOf };

/**
 * Tensor plumbing shared by the control family (Loop/Scan stacking, sequences, recurrent ops):
 * slicing along an axis, stacking and concatenating, element-count guards. Works for every host
 * storage (typed arrays, bigint arrays, string[]) and for complex dtypes (pairs of reals).
 */
import { DType, isComplex } from '../../ir/dtype';
import { allocData, sizeOf, Tensor, TensorData } from '../../ir/tensor';

/** Largest number of elements a control op may create (guards hostile models). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** Elements per logical element in host storage (2 for complex). */
export function lanes(dtype: DType): number {
  return isComplex(dtype) ? 2 : 1;
}

/** Throws (via fail) when dims ask for more than MAX_ELEMENTS elements or are invalid. */
export function checkDims(dims: readonly number[], fail: (m: string) => never): void {
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) fail(`invalid dimension ${d} in [${dims.join(',')}]`);
    n *= d;
  }
  if (n > MAX_ELEMENTS) fail(`output of dims [${dims.join(',')}] has ${n} elements, over the limit of ${MAX_ELEMENTS}`);
}

/** Zeroed tensor after a size check. */
export function zerosChecked(dtype: DType, dims: readonly number[], fail: (m: string) => never): Tensor {
  checkDims(dims, fail);
  return Tensor.zeros(dtype, dims);
}

type Store = { [i: number]: unknown; length: number };

/** Copy n logical elements from src[srcOff..] to dst[dstOff..] (offsets in logical elements). */
export function copyElems(src: TensorData, srcOff: number, dst: TensorData, dstOff: number, n: number, lane = 1): void {
  const s = src as unknown as Store, d = dst as unknown as Store;
  const a = srcOff * lane, b = dstOff * lane, m = n * lane;
  for (let i = 0; i < m; i++) d[b + i] = s[a + i];
}

/** Slice index i of `axis` out of t, dropping that axis. */
export function takeAlong(t: Tensor, axis: number, i: number): Tensor {
  const dims = t.dims;
  const outer = sizeOf(dims.slice(0, axis));
  const inner = sizeOf(dims.slice(axis + 1));
  const len = dims[axis];
  const outDims = [...dims.slice(0, axis), ...dims.slice(axis + 1)];
  const out = allocData(t.dtype, outer * inner);
  const ln = lanes(t.dtype);
  for (let o = 0; o < outer; o++) copyElems(t.data, (o * len + i) * inner, out, o * inner, inner, ln);
  return new Tensor(t.dtype, outDims, out);
}

/** Slice [start, start+count) of `axis` out of t, keeping the axis. */
export function sliceAlong(t: Tensor, axis: number, start: number, count: number): Tensor {
  const dims = t.dims;
  const outer = sizeOf(dims.slice(0, axis));
  const inner = sizeOf(dims.slice(axis + 1));
  const len = dims[axis];
  const outDims = dims.slice();
  outDims[axis] = count;
  const out = allocData(t.dtype, outer * count * inner);
  const ln = lanes(t.dtype);
  for (let o = 0; o < outer; o++) copyElems(t.data, (o * len + start) * inner, out, o * count * inner, count * inner, ln);
  return new Tensor(t.dtype, outDims, out);
}

/**
 * Concatenate tensors along an existing axis (all other dims must agree). `fail` reports
 * mismatches. At least one tensor is required.
 */
export function concatAlong(ts: readonly Tensor[], axis: number, fail: (m: string) => never): Tensor {
  const first = ts[0];
  const rank = first.dims.length;
  let total = 0;
  for (const t of ts) {
    if (t.dtype !== first.dtype) fail(`cannot join tensors of dtypes ${first.dtype} and ${t.dtype}`);
    if (t.dims.length !== rank || t.dims.some((d, k) => k !== axis && d !== first.dims[k])) {
      fail(`cannot join tensors of dims [${first.dims.join(',')}] and [${t.dims.join(',')}] along axis ${axis}`);
    }
    total += t.dims[axis];
  }
  const outDims = first.dims.slice();
  outDims[axis] = total;
  checkDims(outDims, fail);
  const outer = sizeOf(first.dims.slice(0, axis));
  const inner = sizeOf(first.dims.slice(axis + 1));
  const out = allocData(first.dtype, outer * total * inner);
  const ln = lanes(first.dtype);
  for (let o = 0; o < outer; o++) {
    let off = 0;
    for (const t of ts) {
      const len = t.dims[axis];
      copyElems(t.data, o * len * inner, out, (o * total + off) * inner, len * inner, ln);
      off += len;
    }
  }
  return new Tensor(first.dtype, outDims, out);
}

/** Stack same-shaped tensors along a new axis inserted at `axis` (0..rank). */
export function stackAlong(ts: readonly Tensor[], axis: number, fail: (m: string) => never): Tensor {
  const expanded = ts.map((t) => t.reshape([...t.dims.slice(0, axis), 1, ...t.dims.slice(axis)]));
  return concatAlong(expanded, axis, fail);
}

/** A scalar or 1-element tensor's value as a number (int64 via Number). */
export function scalarOf(t: Tensor, what: string, fail: (m: string) => never): number {
  if (t.size !== 1) fail(`${what} must hold exactly one value, got dims [${t.dims.join(',')}]`);
  return Number(t.data[0]);
}

/** Tensor data as float64 numbers (complex keeps its interleaved pairs). */
export function toF64(t: Tensor): Float64Array {
  const d = t.data;
  const out = new Float64Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return out;
}

/** Build a tensor of a float dtype from float64 values (rounding happens in Tensor.from). */
export function fromF64(dtype: DType, dims: readonly number[], values: Float64Array | number[]): Tensor {
  return Tensor.from(dtype, dims, values);
}

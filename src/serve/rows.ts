/**
 * Rows along the first (batch) dimension of host tensors: the batcher merges requests by
 * concatenating their rows and hands each its own rows of the outputs back.
 */
import { Tensor, type TensorData } from '../ir/tensor';

/** Elements of one row (the product of the dims after the first). */
export function rowSize(t: Tensor): number {
  return t.dims.slice(1).reduce((a, b) => a * b, 1);
}

function alloc(like: TensorData, n: number): TensorData {
  if (Array.isArray(like)) return new Array<string>(n).fill('');
  return new (like.constructor as new (n: number) => Exclude<TensorData, string[]>)(n);
}

/**
 * The rows of `parts` one after another, zero rows after them up to `rows` rows (the engine's
 * batch). Every part has the same dtype and row shape (the server checked them).
 */
export function concatRows(parts: readonly Tensor[], rows: number): Tensor {
  const first = parts[0];
  const row = rowSize(first);
  const used = parts.reduce((a, t) => a + t.dims[0], 0);
  if (parts.length === 1 && used === rows) return first;
  const data = alloc(first.data, rows * row);
  let at = 0;
  for (const t of parts) {
    const d = t.data;
    if (Array.isArray(data)) (d as string[]).forEach((v, i) => { data[at + i] = v; });
    else (data as Float32Array).set(d as Float32Array, at);
    at += d.length;
  }
  return new Tensor(first.dtype, [rows, ...first.dims.slice(1)], data);
}

/** Rows [from, to) of a tensor, as a new tensor with its own data. */
export function sliceRows(t: Tensor, from: number, to: number): Tensor {
  const row = rowSize(t);
  const d = t.data;
  return new Tensor(t.dtype, [to - from, ...t.dims.slice(1)], d.slice(from * row, to * row) as TensorData);
}

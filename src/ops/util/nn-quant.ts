/** Quantization parameter layout (per-tensor, per-axis, blocked) for the nn family. */
import { DType, dtypeFromOnnx } from '../../ir/dtype';
import { Tensor, stridesOf } from '../../ir/tensor';
import { OpContext } from '../types';

/**
 * For each element of an input of dims `xDims`, the index of its quantization parameter in `p`
 * (scale or zero point): per-tensor (one element), per-axis (1-D of xDims[axis]) or blocked
 * (same rank, dims[axis] = ceil(xDims[axis] / blockSize)).
 */
export function paramIndex(ctx: OpContext, xDims: readonly number[], p: Tensor, axisAttr: number, blockSize: number, name: string): Int32Array {
  const n = xDims.reduce((a, b) => a * b, 1);
  const idx = new Int32Array(n);
  if (p.size === 1 && p.rank <= 1 && blockSize === 0) return idx;
  const rank = xDims.length;
  const axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
  if (axis < 0 || axis >= rank) ctx.fail(`axis ${axisAttr} is out of range for rank ${rank}`);
  const xs = stridesOf(xDims);
  if (blockSize > 0) {
    if (p.rank !== rank) ctx.fail(`blocked ${name} must have the rank of the input (${rank}), got [${p.dims.join(',')}]`);
    for (let a = 0; a < rank; a++) {
      const want = a === axis ? Math.ceil(xDims[a] / blockSize) : xDims[a];
      if (p.dims[a] !== want) ctx.fail(`blocked ${name} has dims [${p.dims.join(',')}]; axis ${a} must be ${want} (block_size ${blockSize})`);
    }
    const ps = stridesOf(p.dims);
    for (let i = 0; i < n; i++) {
      let off = 0;
      let r = i;
      for (let a = 0; a < rank; a++) {
        let c = Math.floor(r / xs[a]);
        r -= c * xs[a];
        if (a === axis) c = Math.floor(c / blockSize);
        off += c * ps[a];
      }
      idx[i] = off;
    }
    return idx;
  }
  if (blockSize < 0) ctx.fail(`block_size ${blockSize} must be >= 0`);
  if (p.rank !== 1 || p.dims[0] !== xDims[axis]) {
    ctx.fail(`${name} has dims [${p.dims.join(',')}]; expected a scalar or 1-D of ${xDims[axis]} (axis ${axis})`);
  }
  for (let i = 0; i < n; i++) idx[i] = Math.floor(i / xs[axis]) % xDims[axis];
  return idx;
}

/** The dtype named by an output_dtype attribute (0 = not given). */
export function attrDType(ctx: OpContext, code: number): DType | undefined {
  if (code === 0) return undefined;
  const d = dtypeFromOnnx(code);
  if (!d) ctx.fail(`output_dtype ${code} is not a known ONNX data type`);
  return d;
}

/**
 * GPU storage of tensors: the storage types, how ONNX dtypes map onto them, and the host arrays
 * that hold tensors in GPU form (weights at build, inputs at run time).
 */
import type { DType } from '../ir/dtype';
import { numberToFloat16Bits } from '../ir/float';
import type { Tensor } from '../ir/tensor';

/** How a tensor is stored on the GPU. */
export type GpuType = 'f32' | 'f16' | 'i32';

/** GLSL scalar type of a GPU storage type. */
export function glslType(t: GpuType): string {
  return t === 'f32' ? 'float' : t === 'f16' ? 'float16_t' : 'int';
}

/** Host array of GPU storage: f32 as Float32Array, i32 as Int32Array, f16 as its bits (Uint16Array). */
export type GpuArray = Float32Array | Int32Array | Uint16Array;

/** Bytes per element of a GPU storage type. */
export function gpuTypeBytes(t: GpuType): number {
  return t === 'f16' ? 2 : 4;
}

/**
 * GPU storage of an ONNX dtype in FP32 engines: floats as f32 (float64 is narrowed), every integer
 * type and bool as i32 (int64 values outside int32 are clamped when uploaded, see runtime/io.ts).
 * Returns undefined for types the GPU does not hold (string, complex).
 */
export function gpuTypeOf(dtype: DType): GpuType | undefined {
  switch (dtype) {
    case 'float32': case 'float64': case 'float16': case 'bfloat16': return 'f32';
    case 'string': case 'complex64': case 'complex128': return undefined;
    default: return dtype.startsWith('float') ? undefined : 'i32';
  }
}

/** A float tensor's values as FP16 bits (round to nearest even; beyond FP16: +-Inf). */
export function toFloat16Bits(data: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < out.length; i++) out[i] = numberToFloat16Bits(Number(data[i]));
  return out;
}

/** Host array of a tensor in its GPU storage type (float32 or FP16 bits for floats, int32 for ints and bool). */
export function toGpuArray(t: Tensor, gpu: 'f32' | 'i32'): Float32Array | Int32Array;
export function toGpuArray(t: Tensor, gpu: GpuType): GpuArray;
export function toGpuArray(t: Tensor, gpu: GpuType): GpuArray {
  if (gpu === 'f16' && t.dtype === 'float16' && t.data instanceof Uint16Array) return t.data; // half bits already
  const d = t.normalized().data;
  if (gpu === 'f16') return toFloat16Bits(d as ArrayLike<number>);
  if (gpu === 'f32') return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>, Number);
  if (d instanceof Int32Array) return d;
  const out = new Int32Array(t.size);
  for (let i = 0; i < out.length; i++) {
    const v = Number(d[i]);
    out[i] = v > 2147483647 ? 2147483647 : v < -2147483648 ? -2147483648 : v;
  }
  return out;
}

/** x rounded up to a multiple of a. */
export function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

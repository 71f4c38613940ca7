/**
 * GPU storage of tensors: the storage types, how ONNX dtypes map onto them, and the host arrays
 * that hold tensors in GPU form (weights at build, inputs at run time).
 */
import type { DType } from '../ir/dtype';
import { MiniFloat, miniFloatToNumber, numberToFloat16Bits, numberToMiniFloat } from '../ir/float';
import { Tensor } from '../ir/tensor';

/**
 * How a tensor is stored on the GPU: f32, f16 and i32 one element per 2 or 4 bytes; the packed
 * types hold the narrow formats' codes in 32-bit words, element k of a word in bits
 * [k*b, k*b+b) (little-endian, as ONNX packs them): `u8x4` four 8-bit codes (float8*), `u4x8` /
 * `i4x8` eight 4-bit codes (float4e2m1, uint4 / int4, read sign-extended), `u2x16` / `i2x16`
 * sixteen 2-bit codes (uint2 / int2). A kernel sees a packed tensor as a `uint` array and reads and
 * writes whole words (src/kernel/pointwise.ts); only ops whose kernels say so take them
 * (OpDef.traits.packedStorage).
 */
export type GpuType = 'f32' | 'f16' | 'i32' | 'sid' | ByteType | PackedType;
/**
 * int8 / uint8 one byte per element (8-bit storage buffers, GL_EXT_shader_8bit_storage): kernels
 * see `int8_t` / `uint8_t` arrays and each invocation writes its own bytes. Never an ONNX type's
 * default storage: the builder chooses it per tensor where every producer and consumer kernel
 * honours it (OpDef.traits.byteStorage, src/builder/int8-storage.ts) and the device has
 * storageBuffer8BitAccess (DeviceCaps.int8); elsewhere int8/uint8 stay i32.
 */
export type ByteType = 'i8' | 'u8';

export function isByte(t: GpuType): t is ByteType {
  return t === 'i8' || t === 'u8';
}

/** The byte storage of an int8/uint8 dtype, undefined for other dtypes. */
export function byteTypeOf(dtype: DType): ByteType | undefined {
  return dtype === 'int8' ? 'i8' : dtype === 'uint8' ? 'u8' : undefined;
}
export type PackedType = 'u8x4' | 'u4x8' | 'i4x8' | 'u2x16' | 'i2x16';

/** Bits per element of a packed type, and whether its codes read sign-extended. */
export const PACKED: Readonly<Record<PackedType, { bits: 8 | 4 | 2; signed: boolean }>> = {
  u8x4: { bits: 8, signed: false }, u4x8: { bits: 4, signed: false }, i4x8: { bits: 4, signed: true },
  u2x16: { bits: 2, signed: false }, i2x16: { bits: 2, signed: true },
};

export function isPacked(t: GpuType): t is PackedType {
  return t in PACKED;
}

/** GLSL scalar type of a GPU storage type (packed types: their 32-bit words; string ids: int). */
export function glslType(t: GpuType): string {
  return t === 'f32' ? 'float' : t === 'f16' ? 'float16_t' : t === 'i32' || t === 'sid' ? 'int' : t === 'i8' ? 'int8_t' : t === 'u8' ? 'uint8_t' : 'uint';
}

/**
 * String tensors are held on the GPU as `sid`: int32 ids, equal for equal strings within one run
 * (the runtime interns every string input of a run into one table when it uploads them). Kernels
 * can compare them for equality and nothing else (OpDef.traits.stringIds); string constants and
 * string outputs stay off the GPU.
 */
export type StringIds = Map<string, number>;

/** Host array of GPU storage: f32 as Float32Array, i32 as Int32Array, f16 as its bits (Uint16Array), packed types as their words (Uint32Array). */
export type GpuArray = Float32Array | Int32Array | Uint16Array | Uint32Array | Int8Array | Uint8Array;

/** Bytes per element of an unpacked GPU storage type (packed types: a fraction, see gpuBytes). */
export function gpuTypeBytes(t: GpuType): number {
  return isPacked(t) ? PACKED[t].bits / 8 : isByte(t) ? 1 : t === 'f16' ? 2 : 4;
}

/** Bytes n elements take on the GPU: at least 4, whole 32-bit words for the packed types. */
export function gpuBytes(t: GpuType, n: number): number {
  if (isPacked(t)) return Math.max(4, 4 * Math.ceil((n * PACKED[t].bits) / 32));
  if (isByte(t)) return Math.max(4, 4 * Math.ceil(n / 4));
  return Math.max(4, n * gpuTypeBytes(t));
}

const MINI_FLOATS: ReadonlySet<DType> = new Set(['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float8e8m0', 'float4e2m1']);

/**
 * GPU storage of an ONNX dtype in FP32 engines: floats as f32 (float64 is narrowed), the 8-bit
 * floats as packed bytes, float4e2m1/int4/uint4 as packed nibbles and int2/uint2 as packed 2-bit
 * codes, every other integer type and bool as i32 (int64 values outside int32 are clamped when uploaded; uint32 keeps its 32 bits,
 * see toGpuArray). Returns undefined for types the GPU does not hold (string, complex).
 */
export function gpuTypeOf(dtype: DType): GpuType | undefined {
  switch (dtype) {
    case 'float32': case 'float64': case 'float16': case 'bfloat16': return 'f32';
    case 'string': return 'sid';
    case 'complex64': case 'complex128': return undefined;
    case 'float4e2m1': case 'uint4': return 'u4x8';
    case 'int4': return 'i4x8';
    case 'uint2': return 'u2x16';
    case 'int2': return 'i2x16';
    default: return MINI_FLOATS.has(dtype) ? 'u8x4' : dtype.startsWith('float') ? undefined : 'i32';
  }
}

/** A float tensor's values as FP16 bits (round to nearest even; beyond FP16: +-Inf). */
export function toFloat16Bits(data: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < out.length; i++) out[i] = numberToFloat16Bits(Number(data[i]));
  return out;
}

/**
 * The code of a narrow-format value the host holds (already a value of the format): exact, -0
 * keeps its sign where the format has one, NaN gets the format's NaN code (float4e2m1 has none:
 * onnx writes NaN as -0, code 0x8).
 */
export function narrowCode(dtype: DType, v: number): number {
  if (dtype === 'float4e2m1' && Number.isNaN(v)) return 0x8;
  const fmt = dtype as MiniFloat;
  if (Object.is(v, -0)) return fmt === 'float8e4m3fnuz' || fmt === 'float8e5m2fnuz' || fmt === 'float8e8m0' ? 0 : fmt === 'float4e2m1' ? 0x8 : 0x80;
  return numberToMiniFloat(fmt, v, false); // exact values: no saturation (e5m2 keeps its infinities)
}

/** Codes of a tensor packed into 32-bit words (bits per element 8, 4 or 2). */
function packCodes(t: Tensor, gpu: PackedType): Uint32Array {
  const { bits } = PACKED[gpu];
  const per = 32 / bits, mask = (1 << bits) - 1;
  const d = t.normalized().data as ArrayLike<number>;
  const out = new Uint32Array(Math.max(1, Math.ceil(t.size / per)));
  const float = MINI_FLOATS.has(t.dtype);
  for (let i = 0; i < t.size; i++) {
    const code = (float ? narrowCode(t.dtype, Number(d[i])) : Number(d[i])) & mask;
    out[(i / per) | 0] |= code << ((i % per) * bits);
  }
  return out;
}

/** Host array of a tensor in its GPU storage type (float32 or FP16 bits for floats, int32 for ints and bool, packed codes). */
export function toGpuArray(t: Tensor, gpu: 'f32' | 'i32'): Float32Array | Int32Array;
export function toGpuArray(t: Tensor, gpu: GpuType, strings?: StringIds): GpuArray;
export function toGpuArray(t: Tensor, gpu: GpuType, strings?: StringIds): GpuArray {
  if (isPacked(gpu)) return packCodes(t, gpu);
  if (isByte(gpu)) {
    // whole 32-bit words (the buffer's size), values wrapped to the byte as the dtype holds them
    const d = t.normalized().data as ArrayLike<number>;
    const out = gpu === 'i8' ? new Int8Array(4 * Math.max(1, Math.ceil(t.size / 4))) : new Uint8Array(4 * Math.max(1, Math.ceil(t.size / 4)));
    for (let i = 0; i < t.size; i++) out[i] = Number(d[i]);
    return out;
  }
  if (gpu === 'sid') {
    if (!strings) throw new Error('toGpuArray: string tensors need the run\'s id table');
    const ids = new Int32Array(t.size);
    (t.data as string[]).forEach((s, i) => {
      let id = strings.get(s);
      if (id === undefined) strings.set(s, (id = strings.size));
      ids[i] = id;
    });
    return ids;
  }
  if (gpu === 'f16' && t.dtype === 'float16' && t.data instanceof Uint16Array) return t.data; // half bits already
  const d = t.normalized().data;
  if (gpu === 'f16') return toFloat16Bits(d as ArrayLike<number>);
  if (gpu === 'f32') return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>, Number);
  if (d instanceof Int32Array) return d;
  // uint32 keeps its bits (values from 2^31 read as negative int, which wrapping arithmetic, the
  // bitwise ops and the readback treat right); wider integers clamp to the int32 range
  if (d instanceof Uint32Array) return new Int32Array(d.buffer, d.byteOffset, d.length).slice();
  const out = new Int32Array(t.size);
  for (let i = 0; i < out.length; i++) {
    const v = Number(d[i]);
    out[i] = v > 2147483647 ? 2147483647 : v < -2147483648 ? -2147483648 : v;
  }
  return out;
}

/**
 * A tensor's host values from its GPU storage (`words`: the bytes read back, whole words): the
 * inverse of toGpuArray for the packed types (codes decoded exactly), f32 and i32.
 */
export function fromGpuArray(dtype: DType, dims: readonly number[], gpu: GpuType, bytes: Uint8Array): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  if (isPacked(gpu)) {
    const { bits, signed } = PACKED[gpu];
    const per = 32 / bits, mask = (1 << bits) - 1;
    const words = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 4 * Math.ceil(n / per)));
    const codes = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let c = (words[(i / per) | 0] >>> ((i % per) * bits)) & mask;
      if (signed && c >= 1 << (bits - 1)) c -= 1 << bits;
      codes[i] = c;
    }
    if (!MINI_FLOATS.has(dtype)) return Tensor.from(dtype, dims, codes);
    const vals = new Float32Array(n);
    for (let i = 0; i < n; i++) vals[i] = miniFloatToNumber(dtype as MiniFloat, codes[i]);
    return new Tensor(dtype, dims, vals);
  }
  if (isByte(gpu)) return Tensor.from(dtype, dims, gpu === 'i8' ? new Int8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n)) : bytes.slice(0, n));
  const view = gpu === 'i32' ? new Int32Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(bytes.buffer, bytes.byteOffset, n);
  return Tensor.from(dtype, dims, view);
}

/** x rounded up to a multiple of a. */
export function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

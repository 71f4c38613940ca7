/**
 * Element types. Names follow numpy/onnxruntime-node (`float32`, `int64`, ...). The ONNX enum
 * values (TensorProto.DataType) are kept next to them for the parser and the Cast operator.
 *
 * Host representation used by the CPU reference (see tensor.ts):
 *   float32, float16, bfloat16, float8*, float4 -> Float32Array holding values already rounded to
 *                                                  the narrow type
 *   float64 -> Float64Array; int8/16/32, uint8/16/32 -> the matching typed array
 *   int4/uint4/int2/uint2 -> Int8Array / Uint8Array holding the small values
 *   int64 -> BigInt64Array, uint64 -> BigUint64Array (exact)
 *   bool -> Uint8Array of 0/1; string -> string[]
 *   complex64/128 -> Float32Array/Float64Array of interleaved (re, im), dims without the pair
 */
export type DType =
  | 'float32' | 'float16' | 'bfloat16' | 'float64'
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'bool' | 'string'
  | 'complex64' | 'complex128'
  | 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz' | 'float8e8m0'
  | 'uint4' | 'int4' | 'float4e2m1' | 'uint2' | 'int2';

/** ONNX TensorProto.DataType numbers, from the ONNX specification. */
export const ONNX_DTYPE: Readonly<Record<number, DType>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64',
  8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64',
  14: 'complex64', 15: 'complex128', 16: 'bfloat16', 17: 'float8e4m3fn', 18: 'float8e4m3fnuz',
  19: 'float8e5m2', 20: 'float8e5m2fnuz', 21: 'uint4', 22: 'int4', 23: 'float4e2m1',
  24: 'float8e8m0', 25: 'uint2', 26: 'int2',
};

const CODE_OF: Record<string, number> = Object.fromEntries(
  Object.entries(ONNX_DTYPE).map(([k, v]) => [v, Number(k)]),
);

const DTYPE_NAMES: ReadonlySet<string> = new Set(Object.values(ONNX_DTYPE));

/** Is `name` one of the dtype names above ('float32', 'int64', ...)? */
export function isDType(name: unknown): name is DType {
  return typeof name === 'string' && DTYPE_NAMES.has(name);
}

/** Every dtype name, for messages. */
export function dtypeNames(): string[] {
  return [...DTYPE_NAMES];
}

/** The ONNX TensorProto.DataType number of a dtype. */
export function onnxDTypeCode(dtype: DType): number {
  return CODE_OF[dtype];
}

/** The dtype of an ONNX TensorProto.DataType number, or undefined if unknown. */
export function dtypeFromOnnx(code: number): DType | undefined {
  return ONNX_DTYPE[code];
}

/** Bytes per element in ONNX raw_data / on the GPU (sub-byte types report a fraction). */
export function dtypeByteSize(dtype: DType): number {
  switch (dtype) {
    case 'float64': case 'int64': case 'uint64': case 'complex64': return 8;
    case 'complex128': return 16;
    case 'float32': case 'int32': case 'uint32': return 4;
    case 'float16': case 'bfloat16': case 'int16': case 'uint16': return 2;
    case 'int4': case 'uint4': case 'float4e2m1': return 0.5;
    case 'int2': case 'uint2': return 0.25;
    case 'string': return 0;
    default: return 1;
  }
}

export type FloatDType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'float8e4m3fn'
  | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz' | 'float8e8m0' | 'float4e2m1';

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype.startsWith('float') || dtype === 'bfloat16';
}

export function isInteger(dtype: DType): boolean {
  return /^u?int\d+$/.test(dtype);
}

export function isSigned(dtype: DType): boolean {
  return dtype.startsWith('int') || isFloat(dtype);
}

/** True for the 64-bit integer types, whose host arrays hold bigint. */
export function isBigInt(dtype: DType): dtype is 'int64' | 'uint64' {
  return dtype === 'int64' || dtype === 'uint64';
}

export function isComplex(dtype: DType): boolean {
  return dtype === 'complex64' || dtype === 'complex128';
}

/** [min, max] of an integer dtype, as numbers (int64/uint64 bounds are approximate). */
export function integerRange(dtype: DType): [number, number] {
  switch (dtype) {
    case 'int8': return [-128, 127];
    case 'uint8': return [0, 255];
    case 'int16': return [-32768, 32767];
    case 'uint16': return [0, 65535];
    case 'int32': return [-2147483648, 2147483647];
    case 'uint32': return [0, 4294967295];
    case 'int64': return [-9223372036854775808, 9223372036854775807];
    case 'uint64': return [0, 18446744073709551615];
    case 'int4': return [-8, 7];
    case 'uint4': return [0, 15];
    case 'int2': return [-2, 1];
    case 'uint2': return [0, 3];
    case 'bool': return [0, 1];
    default: throw new Error(`integerRange: ${dtype} is not an integer type`);
  }
}

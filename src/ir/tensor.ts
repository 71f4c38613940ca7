import { InputError } from '../errors';
import { DType, dtypeNames, isBigInt, isComplex, isDType } from './dtype';
import { MiniFloat, roundToBfloat16, roundToFloat16, roundToMiniFloat } from './float';

/** Host storage of a tensor's elements; see dtype.ts for which array each dtype uses. */
export type TensorData =
  | Float32Array | Float64Array
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array
  | string[];

export type NumericData = Exclude<TensorData, string[]>;

/** Product of dims (1 for a scalar). */
export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Row-major strides of dims, in elements. */
export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

/** Allocate zeroed host storage for n elements of dtype. */
export function allocData(dtype: DType, n: number): TensorData {
  switch (dtype) {
    case 'float64': return new Float64Array(n);
    case 'complex64': return new Float32Array(2 * n);
    case 'complex128': return new Float64Array(2 * n);
    case 'int8': case 'int4': case 'int2': return new Int8Array(n);
    case 'uint8': case 'bool': case 'uint4': case 'uint2': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'uint16': return new Uint16Array(n);
    case 'int32': return new Int32Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'uint64': return new BigUint64Array(n);
    case 'string': return new Array<string>(n).fill('');
    default: return new Float32Array(n); // float32 and every narrow float
  }
}

/** A function that rounds a number to what dtype can hold (identity for float32/float64). */
export function rounderFor(dtype: DType, saturate = true): ((v: number) => number) | undefined {
  switch (dtype) {
    case 'float16': return roundToFloat16;
    case 'bfloat16': return roundToBfloat16;
    case 'float8e4m3fn': case 'float8e4m3fnuz': case 'float8e5m2': case 'float8e5m2fnuz':
    case 'float8e8m0': case 'float4e2m1':
      return (v) => roundToMiniFloat(dtype as MiniFloat, v, saturate);
    case 'int4': return (v) => wrapInt(Math.trunc(v), 4, true);
    case 'uint4': return (v) => wrapInt(Math.trunc(v), 4, false);
    case 'int2': return (v) => wrapInt(Math.trunc(v), 2, true);
    case 'uint2': return (v) => wrapInt(Math.trunc(v), 2, false);
    case 'bool': return (v) => (v !== 0 ? 1 : 0);
    default: return undefined;
  }
}

function wrapInt(v: number, bits: number, signed: boolean): number {
  if (!Number.isFinite(v)) return 0;
  const m = 2 ** bits;
  let r = ((v % m) + m) % m;
  if (signed && r >= m / 2) r -= m;
  return r;
}

function toBigInt(v: number | bigint | boolean): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (!Number.isFinite(v)) return 0n;
  return BigInt(Math.trunc(v));
}

/**
 * An n-dimensional array on the host: the currency of the CPU reference, the parser and the API.
 * `data` is row-major; its type depends on dtype (see dtype.ts). Narrow floats are held as float32
 * values already rounded to the narrow format.
 */
export class Tensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TensorData;

  /**
   * `new Tensor(dtype, dims, data)` with data in the host representation, or onnxruntime-node's
   * order `new Tensor(type, data, dims?)` (data a typed array, or a plain array converted with
   * {@link Tensor.from}; dims default to [data.length]).
   * @throws InputError for an unknown dtype name, or when the element count does not match the dims.
   */
  constructor(dtype: DType, dims: readonly number[], data: TensorData);
  constructor(dtype: DType, data: TensorData | readonly (number | bigint | boolean | string)[], dims?: readonly number[]);
  constructor(dtype: DType, a: readonly unknown[] | TensorData, b?: readonly unknown[] | TensorData) {
    if (!isDType(dtype)) throw new InputError(`unknown dtype ${JSON.stringify(dtype)}; a tensor's dtype is one of ${dtypeNames().join(', ')}`);
    let dims: readonly number[];
    let data: TensorData;
    const typed = (x: unknown): x is TensorData => ArrayBuffer.isView(x);
    const strings = (x: unknown): x is string[] => Array.isArray(x) && x.some((v) => typeof v === 'string');
    if (typed(b) || strings(b) || (Array.isArray(b) && b.length === 0 && Array.isArray(a) && a.length > 0 && sizeOf(a as number[]) === 0)) {
      dims = a as number[]; // vkrt order: (dtype, dims, data)
      data = b as TensorData;
    } else if (typed(a) || strings(a)) {
      data = a; // onnxruntime order: (type, data, dims?)
      dims = (b as number[] | undefined) ?? [isComplex(dtype) ? data.length / 2 : data.length];
    } else {
      const vals = a as readonly (number | bigint | boolean | string)[];
      const t = Tensor.from(dtype, (b as number[] | undefined) ?? [vals.length], vals);
      dims = t.dims;
      data = t.data;
    }
    if (!Array.isArray(dims)) throw new InputError('tensor dims must be an array of integers');
    const n = sizeOf(dims);
    const expect = isComplex(dtype) ? 2 * n : n;
    if (data.length !== expect) {
      throw new InputError(`tensor of dtype ${dtype} and dims [${dims.join(',')}] needs ${expect} elements, got ${data.length}`);
    }
    for (const d of dims) {
      if (!Number.isInteger(d) || d < 0) throw new InputError(`invalid tensor dimension ${d} in [${dims.join(',')}]`);
    }
    this.dtype = dtype;
    this.dims = dims.slice();
    this.data = data;
  }

  /** onnxruntime-node's name for the element type. */
  get type(): DType {
    return this.dtype;
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.dims);
  }

  get rank(): number {
    return this.dims.length;
  }

  static zeros(dtype: DType, dims: readonly number[]): Tensor {
    return new Tensor(dtype, dims, allocData(dtype, sizeOf(dims)));
  }

  /**
   * Build a tensor from plain values, converting to dtype: numbers are rounded to narrow floats,
   * truncated and wrapped for integers (typed-array semantics), bigint for 64-bit integers.
   */
  static from(dtype: DType, dims: readonly number[], values: ArrayLike<number | bigint | boolean | string>): Tensor {
    const n = values.length;
    const data = allocData(dtype, isComplex(dtype) ? n / 2 : n);
    if (dtype === 'string') {
      for (let i = 0; i < n; i++) (data as string[])[i] = String(values[i]);
    } else if (isBigInt(dtype)) {
      const d = data as BigInt64Array | BigUint64Array;
      for (let i = 0; i < n; i++) d[i] = dtype === 'uint64' ? BigInt.asUintN(64, toBigInt(values[i] as number)) : BigInt.asIntN(64, toBigInt(values[i] as number));
    } else {
      const d = data as Exclude<NumericData, BigInt64Array | BigUint64Array>;
      const r = rounderFor(dtype);
      for (let i = 0; i < n; i++) {
        const raw = values[i];
        const v = typeof raw === 'number' ? raw : Number(raw);
        d[i] = r ? r(v) : v;
      }
    }
    return new Tensor(dtype, dims, data);
  }

  /** A scalar (rank-0) tensor. */
  static scalar(dtype: DType, value: number | bigint | boolean | string): Tensor {
    return Tensor.from(dtype, [], [value]);
  }

  /** All elements as numbers (int64 beyond 2^53 loses precision; strings become NaN). */
  toNumbers(): Float64Array {
    const out = new Float64Array(this.data.length);
    const d = this.data;
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
    return out;
  }

  /** Element i as a number. */
  get(i: number): number {
    return Number(this.data[i]);
  }

  /** Same data, other dims (sizes must match). */
  reshape(dims: readonly number[]): Tensor {
    return new Tensor(this.dtype, dims, this.data);
  }

  /** A deep copy. */
  clone(): Tensor {
    const d = this.data;
    return new Tensor(this.dtype, this.dims, Array.isArray(d) ? d.slice() : (d.slice() as TensorData));
  }

  toString(): string {
    return `Tensor<${this.dtype}>[${this.dims.join('x')}]`;
  }
}

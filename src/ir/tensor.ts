import { InputError } from '../errors';
import { DType, dtypeNames, isBigInt, isComplex, isDType, isInteger } from './dtype';
import { bfloat16BitsToNumber, float16BitsToNumber, MiniFloat, numberToFloat16Bits, roundToBfloat16, roundToFloat16, roundToMiniFloat } from './float';

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

/**
 * `t` with axis `axis` made `len` long: the first min(len, its length) entries along it kept, the
 * rest zero (a data-dependent output padded to its bound, or trimmed to its count).
 */
export function resizeAlong(t: Tensor, axis: number, len: number): Tensor {
  const have = t.dims[axis];
  if (len === have) return t;
  const dims = t.dims.slice();
  dims[axis] = len;
  const out = Tensor.zeros(t.dtype, dims);
  const outer = sizeOf(t.dims.slice(0, axis)), inner = sizeOf(t.dims.slice(axis + 1));
  const keep = Math.min(len, have) * inner;
  const src = t.data as unknown as { [i: number]: unknown };
  const dst = out.data as unknown as { [i: number]: unknown };
  for (let o = 0; o < outer; o++) for (let i = 0; i < keep; i++) dst[o * len * inner + i] = src[o * have * inner + i];
  return out;
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

/** IEEE half bits of numbers (round to nearest even): float16 tensor data in onnxruntime's convention. */
export function float16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < out.length; i++) out[i] = numberToFloat16Bits(values[i]);
  return out;
}

/** The numbers that IEEE half bits stand for (e.g. a float16 output's data). */
export function float16Values(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < out.length; i++) out[i] = float16BitsToNumber(bits[i]);
  return out;
}

type TypedCtor = { new (n: number): NumericData; readonly name: string };

/**
 * The typed array onnxruntime-node uses for each type it has (its Tensor.DataTypeMap); float16 is
 * Uint16Array of IEEE half bits.
 */
const ORT_ARRAY: Partial<Record<DType, TypedCtor>> = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array,
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
  int64: BigInt64Array, uint64: BigUint64Array, bool: Uint8Array,
};

/** The dtype onnxruntime-node infers from a typed array (`new Tensor(data, dims)`). */
const TYPE_OF_ARRAY = new Map<unknown, DType>([
  [Float32Array, 'float32'], [Float64Array, 'float64'], [Int8Array, 'int8'], [Uint8Array, 'uint8'], [Int16Array, 'int16'],
  [Uint16Array, 'uint16'], [Int32Array, 'int32'], [Uint32Array, 'uint32'], [BigInt64Array, 'int64'], [BigUint64Array, 'uint64'],
]);

/** The host array vkrt holds each dtype in (allocData's), by constructor. */
function hostArrayOf(dtype: DType): TypedCtor | undefined {
  if (dtype === 'string') return undefined;
  return allocData(dtype, 0).constructor as TypedCtor;
}

const f16Global = (globalThis as { Float16Array?: new (b: ArrayBufferLike, o: number, n: number) => ArrayLike<number> }).Float16Array;

/** Where a tensor's data lives; vkrt's host tensors are always 'cpu' until disposed ('none'). */
export type TensorLocation = 'cpu' | 'cpu-pinned' | 'none';

/**
 * An n-dimensional array on the host: the currency of the CPU reference, the parser and the API.
 * `data` is row-major; its type depends on dtype (see dtype.ts). Narrow floats are held as float32
 * values already rounded to the narrow format, except float16 data given as a Uint16Array, which
 * holds IEEE half bits (onnxruntime's convention; engine outputs of type float16 come back so).
 */
export class Tensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  private dataRef: TensorData | undefined;
  private where: TensorLocation;

  /**
   * onnxruntime-node's constructors, plus vkrt's:
   * - `new Tensor(type, data, dims?)`: data a typed array of the type's array (Float32Array for
   *   'float32', BigInt64Array for 'int64', Uint16Array of half bits for 'float16', Uint8Array for
   *   'bool', ...) or a plain array converted to it; dims default to [data.length];
   * - `new Tensor(data, dims?)`: the type inferred from the typed array (or string[] / boolean[]);
   * - `new Tensor({ location: 'cpu-pinned', type, data, dims })`;
   * - `new Tensor(dtype, dims, data)` with data in vkrt's host representation (dtype.ts).
   * @throws InputError when the data's array does not match the type, or its length the dims.
   */
  constructor(type: DType, data: TensorData | Uint8ClampedArray | readonly (number | bigint | boolean | string)[], dims?: readonly number[]);
  constructor(dtype: DType, dims: readonly number[], data: TensorData);
  constructor(data: TensorData | readonly string[] | readonly boolean[] | Uint8ClampedArray, dims?: readonly number[]);
  constructor(params: { location: 'cpu-pinned' | 'cpu'; type: DType; data: TensorData; dims: readonly number[] });
  constructor(a: unknown, b?: unknown, c?: unknown) {
    let dtype: DType;
    let dims: readonly number[];
    let data: TensorData;
    let where: TensorLocation = 'cpu';
    const typed = (x: unknown): x is NumericData => ArrayBuffer.isView(x) && !(x instanceof DataView);
    const strings = (x: unknown): x is string[] => Array.isArray(x) && x.length > 0 && x.every((v) => typeof v === 'string');
    if (typeof a === 'string') {
      dtype = checkedDType(a);
      if (typed(c) || strings(c) || (Array.isArray(c) && c.length === 0 && Array.isArray(b) && b.length > 0 && sizeOf(b as number[]) === 0)) {
        // vkrt order: (dtype, dims, data) in the host representation
        dims = b as number[];
        data = c as TensorData;
        checkHostData(dtype, data);
      } else {
        // onnxruntime order: (type, data, dims?)
        data = ortData(dtype, b);
        dims = c === undefined ? [isComplex(dtype) ? data.length / 2 : data.length] : (c as number[]);
      }
    } else if (a && typeof a === 'object' && !Array.isArray(a) && !ArrayBuffer.isView(a) && 'location' in a) {
      const p = a as { location: string; type: DType; data: TensorData; dims: readonly number[] };
      if (p.location !== 'cpu-pinned' && p.location !== 'cpu') {
        throw new InputError(`Tensor: location '${p.location}' is not supported by vkrt (host tensors only: 'cpu' or 'cpu-pinned'); give the data as a typed array`);
      }
      dtype = checkedDType(p.type);
      data = ortData(dtype, p.data);
      dims = p.dims;
      where = p.location;
    } else {
      // onnxruntime's (data, dims?): the type from the data
      [dtype, data] = inferType(a);
      dims = b === undefined ? [data.length] : (b as number[]);
    }
    if (!Array.isArray(dims)) throw new InputError('tensor dims must be an array of integers');
    for (const d of dims) {
      if (!Number.isInteger(d) || d < 0) throw new InputError(`invalid tensor dimension ${d} in [${dims.join(',')}]`);
    }
    const n = sizeOf(dims);
    const expect = isComplex(dtype) ? 2 * n : n;
    if (data.length !== expect) {
      throw new InputError(`tensor of dtype ${dtype} and dims [${dims.join(',')}] needs ${expect} elements, got ${data.length}`);
    }
    this.dtype = dtype;
    this.dims = dims.slice();
    this.dataRef = data;
    this.where = where;
  }

  /** The elements (see the class comment for the array of each type). @throws InputError once disposed. */
  get data(): TensorData {
    if (!this.dataRef) throw new InputError('the tensor was disposed; its data is gone');
    return this.dataRef;
  }

  /** Replaces the elements as they are (ExecutionContext.execute checks them against the engine). */
  set data(data: TensorData) {
    this.dataRef = data;
    if (this.where === 'none') this.where = 'cpu';
  }

  /** onnxruntime-node's `location`: 'cpu' (or 'cpu-pinned' as constructed), 'none' once disposed. */
  get location(): TensorLocation {
    return this.where;
  }

  /** onnxruntime-node's getData(): the data (already on the host). */
  async getData(_releaseData?: boolean): Promise<TensorData> {
    return this.data;
  }

  /** Drops the tensor's reference to its data (onnxruntime-node's dispose()); `data` throws after. */
  dispose(): void {
    this.dataRef = undefined;
    this.where = 'none';
  }

  /**
   * The same tensor with float16 data as float32 values in a Float32Array (vkrt's host
   * representation, what the CPU reference and the uploads read); other tensors unchanged.
   */
  normalized(): Tensor {
    const d = this.data;
    if ((this.dtype === 'float16' || this.dtype === 'bfloat16') && !(d instanceof Float32Array)) {
      const bits = d as Uint16Array;
      const values = this.dtype === 'float16' ? float16Values(bits) : Float32Array.from(bits, (h) => bfloat16BitsToNumber(h));
      return new Tensor(this.dtype, this.dims, values);
    }
    return this;
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
   * A tensor of these dims that holds no data (its `data` throws, `location` is 'none'): what the
   * constant folder hands a shape-only operator (Shape, Size), whose reference reads the dims alone,
   * so a shape folds whatever the tensor's size (a [256,128,768] activation allocates nothing).
   */
  static shapeOnly(dtype: DType, dims: readonly number[]): Tensor {
    const t = Object.create(Tensor.prototype) as Tensor;
    Object.assign(t as unknown as Record<string, unknown>, { dtype, dims: Object.freeze([...dims]), dataRef: undefined, where: 'none' });
    return t;
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
    const d = this.normalized().data;
    const out = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
    return out;
  }

  /** Element i as a number. */
  get(i: number): number {
    const d = this.data;
    if (this.dtype === 'float16' && d instanceof Uint16Array) return float16BitsToNumber(d[i]);
    return Number(d[i]);
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

/** The dtype named, or an InputError listing the names. */
function checkedDType(name: unknown): DType {
  if (!isDType(name)) throw new InputError(`unknown dtype ${JSON.stringify(name)}; a tensor's dtype is one of ${dtypeNames().join(', ')}`);
  return name;
}

/** Checks data given in vkrt's order (dtype, dims, data): the host array of the dtype (dtype.ts). */
function checkHostData(dtype: DType, data: TensorData): void {
  if (dtype === 'string') {
    if (!Array.isArray(data) || data.some((v) => typeof v !== 'string')) throw new InputError("a 'string' tensor's data must be an array of strings");
    return;
  }
  const want = hostArrayOf(dtype);
  if (!want) throw new InputError(`unknown tensor type '${dtype}'`);
  if (data instanceof want) return;
  if ((dtype === 'float16' || dtype === 'bfloat16') && data instanceof Uint16Array) return; // IEEE half / bfloat16 bits
  if (dtype === 'float16' && f16Global && data instanceof (f16Global as unknown as TypedCtor)) return;
  throw new InputError(`a '${dtype}' tensor's data must be a ${want.name}${dtype === 'float16' ? ' (float32 values) or a Uint16Array (half bits)' : ''}, got ${describe(data)}`);
}

/** Data given in onnxruntime's order: the type's typed array (checked), or a plain array converted. */
function ortData(dtype: DType, data: unknown): TensorData {
  if (dtype === 'string') {
    if (!Array.isArray(data) || data.some((v) => typeof v !== 'string')) throw new InputError("a 'string' tensor's data must be an array of strings");
    return data as string[];
  }
  const want = ORT_ARRAY[dtype] ?? hostArrayOf(dtype);
  if (!want) throw new InputError(`unknown tensor type '${dtype}'`);
  if (Array.isArray(data)) {
    if (dtype === 'float16') {
      throw new InputError("a 'float16' tensor from a number array: give IEEE half bits as a Uint16Array (float16Bits(values) converts numbers), as onnxruntime does");
    }
    const bad = data.find((v) => !(typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean'));
    if (bad !== undefined) throw new InputError(`a '${dtype}' tensor's data must hold numbers, got ${typeof bad}`);
    if (isBigInt(dtype)) {
      const out = new want(data.length) as BigInt64Array | BigUint64Array;
      for (let i = 0; i < data.length; i++) {
        const v = data[i] as number | bigint | boolean;
        if (typeof v === 'number' && !Number.isInteger(v)) throw new InputError(`a '${dtype}' tensor's data must hold integers, got ${v} at ${i}`);
        out[i] = dtype === 'uint64' ? BigInt.asUintN(64, toBigInt(v)) : BigInt.asIntN(64, toBigInt(v));
      }
      return out;
    }
    if (isInteger(dtype) || dtype === 'bool') {
      const k = data.findIndex((v) => typeof v === 'number' && (!Number.isInteger(v) || (dtype === 'bool' && v !== 0 && v !== 1)));
      if (k >= 0) throw new InputError(`a '${dtype}' tensor's data must hold ${dtype === 'bool' ? 'booleans (or 0 and 1)' : 'integers'}, got ${data[k]} at ${k}`);
    }
    return Tensor.from(dtype, [data.length], data as (number | boolean)[]).data;
  }
  if (data instanceof Uint8ClampedArray) {
    if (dtype !== 'uint8') throw new InputError(`a Uint8ClampedArray holds 'uint8' data, not '${dtype}'`);
    return Uint8Array.from(data);
  }
  if (data instanceof want) return data as TensorData;
  if (dtype === 'float16' && f16Global && data instanceof (f16Global as unknown as TypedCtor)) {
    return float16Bits(data as unknown as ArrayLike<number>);
  }
  // vkrt's own host arrays (float32 values for narrow floats) stay accepted
  const host = hostArrayOf(dtype);
  if (host && host !== want && data instanceof host) return data as TensorData;
  throw new InputError(`a '${dtype}' tensor's data must be a ${want.name}${dtype === 'float16' ? ' of IEEE half bits' : ''}, got ${describe(data)}`);
}

/** onnxruntime's `new Tensor(data, dims?)`: the type from the typed array, string[] or boolean[]. */
function inferType(data: unknown): [DType, TensorData] {
  if (Array.isArray(data)) {
    if (data.length === 0) throw new InputError('a tensor type cannot be inferred from an empty array; give the type: new Tensor(type, data, dims)');
    if (data.every((v) => typeof v === 'string')) return ['string', data as string[]];
    if (data.every((v) => typeof v === 'boolean')) return ['bool', Uint8Array.from(data as boolean[], (v) => (v ? 1 : 0))];
    throw new InputError(`a tensor type cannot be inferred from an array of ${typeof data[0]}; give the type: new Tensor(type, data, dims)`);
  }
  if (data instanceof Uint8ClampedArray) return ['uint8', Uint8Array.from(data)];
  const t = ArrayBuffer.isView(data) ? TYPE_OF_ARRAY.get(data.constructor) : undefined;
  if (!t) throw new InputError(`a tensor type cannot be inferred from ${describe(data)}; give the type: new Tensor(type, data, dims)`);
  return [t, data as TensorData];
}

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return `an array (${x.length} elements)`;
  if (typeof x === 'object') return `a ${(x as object).constructor?.name ?? 'object'}`;
  return `a ${typeof x}`;
}

/**
 * The KServe v2 / Open Inference Protocol's tensors, shared by the server and the client: the
 * datatype names, JSON tensor data (flat or nested row-major arrays) and the binary tensor data
 * extension (little-endian, row-major, no padding; BYTES elements as a 4-byte length and the
 * bytes; BOOL one byte; a body whose first `Inference-Header-Content-Length` bytes are the JSON
 * and the rest the tensors, in the order of the inputs/outputs that carry `binary_data_size`).
 *
 * Host arrays follow vkrt's Tensor conventions (ir/tensor.ts): FP16 and BF16 as Uint16Array bits,
 * INT64 as BigInt64Array, BOOL as Uint8Array, BYTES as string[] (UTF-8).
 */
import type { DType } from '../ir/dtype';
import { allocData, float16Bits, float16Values, sizeOf, Tensor, type TensorData } from '../ir/tensor';
import { badRequest, ServeError } from './errors';

/** The protocol's name of the header that gives the JSON part's length in a binary body. */
export const HEADER_LENGTH = 'inference-header-content-length';

/** KServe datatype of each vkrt dtype that the protocol can carry. */
const DATATYPE_OF: Partial<Record<DType, string>> = {
  bool: 'BOOL', uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32', uint64: 'UINT64',
  int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64',
  float16: 'FP16', float32: 'FP32', float64: 'FP64', bfloat16: 'BF16', string: 'BYTES',
};
const DTYPE_OF: Record<string, DType> = Object.fromEntries(Object.entries(DATATYPE_OF).map(([k, v]) => [v, k as DType]));

/** The KServe datatype name of a dtype, or undefined when the protocol has none. */
export function datatypeOf(dtype: DType): string | undefined {
  return DATATYPE_OF[dtype];
}

/** The dtype of a KServe datatype name, or undefined for a name the protocol does not have. */
export function dtypeOfDatatype(datatype: string): DType | undefined {
  return Object.prototype.hasOwnProperty.call(DTYPE_OF, datatype) ? DTYPE_OF[datatype] : undefined;
}

/** Every datatype name, for messages. */
export const DATATYPES: readonly string[] = Object.values(DATATYPE_OF);

/** Bytes per element in binary form (0 for BYTES, whose elements carry their own length). */
export function elementBytes(datatype: string): number {
  switch (datatype) {
    case 'BOOL': case 'UINT8': case 'INT8': return 1;
    case 'UINT16': case 'INT16': case 'FP16': case 'BF16': return 2;
    case 'UINT32': case 'INT32': case 'FP32': return 4;
    case 'UINT64': case 'INT64': case 'FP64': return 8;
    default: return 0;
  }
}

/** A tensor of a request or response, as JSON ($request_input / $response_output). */
export interface JsonTensor {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Record<string, unknown>;
  data?: unknown[];
}

/** A body split into its JSON object and the binary tensor data after it. */
export interface SplitBody {
  json: Record<string, unknown>;
  binary: Uint8Array;
}

/**
 * Splits a body per the binary extension: `headerLength` (the Inference-Header-Content-Length
 * header) bytes of JSON, then binary data; without it the whole body is JSON.
 * @throws ServeError 400 for a header that is not a byte count within the body, or JSON that is
 *   not an object.
 */
export function splitBody(body: Uint8Array, headerLength: string | undefined, what = 'request'): SplitBody {
  let n = body.length;
  if (headerLength !== undefined) {
    if (!/^\d+$/.test(headerLength.trim()) || Number(headerLength) > body.length) {
      throw badRequest(`the Inference-Header-Content-Length header (${headerLength}) must be the byte length of the JSON at the start of the ${what} body (${body.length} bytes)`);
    }
    n = Number(headerLength);
  }
  const text = Buffer.from(body.buffer, body.byteOffset, n).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw badRequest(`the ${what} body is not valid JSON (${(e as Error).message})${headerLength === undefined && n > 0 && body.includes(0) ? '; binary tensor data needs the Inference-Header-Content-Length header' : ''}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw badRequest(`the ${what} body must be a JSON object`);
  return { json: json as Record<string, unknown>, binary: body.subarray(n) };
}

/** Joins the JSON and binary parts of a body; `headerLength` is undefined when nothing is binary. */
export function joinBody(json: unknown, parts: readonly Uint8Array[]): { body: Buffer; headerLength?: number } {
  const head = Buffer.from(JSON.stringify(json), 'utf8');
  if (!parts.length) return { body: head };
  return { body: Buffer.concat([head, ...parts]), headerLength: head.length };
}

/** Row-major flattening of JSON data (KServe allows flat or nested arrays). */
function flatten(data: unknown[], name: string): unknown[] {
  if (!data.some((v) => Array.isArray(v))) return data;
  const out: unknown[] = [];
  const walk = (a: unknown[], depth: number) => {
    if (depth > 32) throw badRequest(`input '${name}': data is nested more than 32 levels deep`);
    for (const v of a) {
      if (Array.isArray(v)) walk(v, depth + 1);
      else out.push(v);
    }
  };
  walk(data, 0);
  return out;
}

const INT_RANGE: Record<string, [number, number]> = {
  INT8: [-128, 127], UINT8: [0, 255], INT16: [-32768, 32767], UINT16: [0, 65535],
  INT32: [-2147483648, 2147483647], UINT32: [0, 4294967295],
};

/**
 * A tensor from JSON `data` of `datatype` and `shape`.
 * @throws ServeError 400 naming the tensor for a wrong count, a value of the wrong kind or out of
 *   the datatype's range.
 */
export function tensorFromJson(name: string, datatype: string, shape: readonly number[], data: unknown): Tensor {
  const dtype = dtypeOfDatatype(datatype);
  if (!dtype) throw badRequest(`input '${name}': unknown datatype '${datatype}' (one of ${DATATYPES.join(', ')})`);
  if (!Array.isArray(data)) throw badRequest(`input '${name}': 'data' must be an array (or give parameters.binary_data_size with binary data)`);
  const values = flatten(data, name);
  const n = sizeOf(shape);
  if (values.length !== n) throw badRequest(`input '${name}' has shape [${shape.join(',')}] (${n} elements) but 'data' holds ${values.length}`);
  const bad = (i: number, what: string) => badRequest(`input '${name}' (${datatype}): element ${i} is ${JSON.stringify(values[i])}; ${what}`);
  let out: TensorData;
  switch (datatype) {
    case 'BOOL': {
      const d = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'boolean') throw bad(i, 'BOOL data must be true or false');
        d[i] = v ? 1 : 0;
      }
      out = d;
      break;
    }
    case 'BYTES': {
      const d = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        if (typeof values[i] !== 'string') throw bad(i, 'BYTES data must be strings');
        d[i] = values[i] as string;
      }
      out = d;
      break;
    }
    case 'INT64': case 'UINT64': {
      const d = datatype === 'INT64' ? new BigInt64Array(n) : new BigUint64Array(n);
      const [lo, hi] = datatype === 'INT64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      for (let i = 0; i < n; i++) {
        const v = values[i];
        // numbers past 2^53 lose digits in JSON.parse; a string of digits keeps them exact
        const big = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : undefined;
        if (big === undefined) throw bad(i, `${datatype} data must be integers (exact up to 2^53; larger values as strings of digits)`);
        if (big < lo || big > hi) throw bad(i, `out of the ${datatype} range`);
        d[i] = big as never;
      }
      out = d;
      break;
    }
    case 'FP32': case 'FP64': case 'FP16': case 'BF16': {
      const f = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        const x = floatValue(v);
        if (x === undefined) throw bad(i, 'floating-point data must be numbers (or "NaN", "Inf", "-Inf")');
        f[i] = x;
      }
      if (datatype === 'FP32') out = Float32Array.from(f);
      else if (datatype === 'FP64') out = f;
      else if (datatype === 'FP16') out = float16Bits(f);
      else out = bfloat16Bits(f);
      break;
    }
    default: {
      const range = INT_RANGE[datatype];
      const d = allocData(dtype, n) as Int32Array;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(i, `${datatype} data must be integers`);
        if (v < range[0] || v > range[1]) throw bad(i, `out of the ${datatype} range [${range[0]}, ${range[1]}]`);
        d[i] = v;
      }
      out = d;
    }
  }
  return new Tensor(dtype, [...shape], out);
}

/** A JSON float: a number, or JSON's missing NaN and infinities as strings. */
function floatValue(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if (s === 'nan' || s === '+nan' || s === '-nan') return NaN;
  if (s === 'inf' || s === '+inf' || s === 'infinity' || s === '+infinity') return Infinity;
  if (s === '-inf' || s === '-infinity') return -Infinity;
  return undefined;
}

/** BF16 bits (round to nearest even) of float values. */
function bfloat16Bits(values: ArrayLike<number>): Uint16Array {
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i];
    const x = u[0];
    out[i] = Number.isNaN(values[i]) ? 0x7fc0 : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/**
 * A tensor from binary data (the binary extension) of `datatype` and `shape`.
 * @throws ServeError 400 when the byte count does not fit the shape, or BYTES elements overrun.
 */
export function tensorFromBinary(name: string, datatype: string, shape: readonly number[], bytes: Uint8Array): Tensor {
  const dtype = dtypeOfDatatype(datatype);
  if (!dtype) throw badRequest(`input '${name}': unknown datatype '${datatype}' (one of ${DATATYPES.join(', ')})`);
  const n = sizeOf(shape);
  if (datatype === 'BYTES') {
    const out = new Array<string>(n);
    let at = 0;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) {
      if (at + 4 > bytes.length) throw badRequest(`input '${name}' (BYTES, shape [${shape.join(',')}]): binary data ends after ${i} of ${n} elements`);
      const len = view.getUint32(at, true);
      at += 4;
      if (at + len > bytes.length) throw badRequest(`input '${name}' (BYTES): element ${i} claims ${len} bytes; only ${bytes.length - at} are left`);
      out[i] = Buffer.from(bytes.buffer, bytes.byteOffset + at, len).toString('utf8');
      at += len;
    }
    if (at !== bytes.length) throw badRequest(`input '${name}' (BYTES, shape [${shape.join(',')}]): binary_data_size is ${bytes.length} bytes but the ${n} elements take ${at}`);
    return new Tensor('string', [...shape], out);
  }
  const size = elementBytes(datatype);
  if (bytes.length !== n * size) {
    throw badRequest(`input '${name}' (${datatype}, shape [${shape.join(',')}]) needs ${n * size} bytes of binary data; binary_data_size is ${bytes.length}`);
  }
  // a copy into a fresh, aligned buffer (the body's offset may not be a multiple of the element size)
  const data = allocData(dtype === 'float16' || dtype === 'bfloat16' ? 'uint16' : dtype, n) as Exclude<TensorData, string[]>;
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(bytes);
  if (BIG_ENDIAN) swapBytes(new Uint8Array(data.buffer), size);
  return new Tensor(dtype, [...shape], data);
}

const BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

function swapBytes(b: Uint8Array, size: number): void {
  if (size < 2) return;
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

/** A tensor's elements as JSON values (FP16/BF16 as numbers, INT64 as numbers, BOOL as booleans). */
export function jsonData(t: Tensor): unknown[] {
  const d = t.data;
  switch (t.dtype) {
    case 'bool': return Array.from(d as Uint8Array, (v) => v !== 0);
    case 'string': return [...(d as string[])];
    case 'int64': case 'uint64': return Array.from(d as BigInt64Array, (v) => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()));
    case 'float16': return floats(d instanceof Uint16Array ? float16Values(d) : (d as Float32Array));
    case 'bfloat16': return floats(d instanceof Uint16Array ? new Float32Array(Uint32Array.from(d, (h) => h << 16).buffer) : (d as Float32Array));
    case 'float32': case 'float64': return floats(d as Float32Array);
    default: return Array.from(d as Int32Array);
  }
}

/** Floats as JSON numbers; NaN and the infinities, which JSON lacks, as "NaN", "Inf", "-Inf". */
function floats(d: Float32Array | Float64Array): unknown[] {
  return Array.from(d, (v) => (Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Inf' : '-Inf'));
}

/** A tensor's elements in the binary extension's layout. */
export function binaryData(t: Tensor): Uint8Array {
  const datatype = datatypeOf(t.dtype);
  if (!datatype) throw new ServeError(500, `tensor of dtype ${t.dtype} has no KServe datatype`);
  if (datatype === 'BYTES') {
    const parts = (t.data as string[]).map((s) => Buffer.from(s, 'utf8'));
    const out = Buffer.alloc(parts.reduce((a, p) => a + 4 + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.writeUInt32LE(p.length, at);
      p.copy(out, at + 4);
      at += 4 + p.length;
    }
    return out;
  }
  let d = t.data as Exclude<TensorData, string[]>;
  if (datatype === 'FP16' && d instanceof Float32Array) d = float16Bits(d);
  if (datatype === 'BF16' && d instanceof Float32Array) d = bfloat16Bits(d);
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  if (!BIG_ENDIAN) return bytes;
  const copy = bytes.slice();
  swapBytes(copy, elementBytes(datatype));
  return copy;
}

/** Checks that a JSON shape is a list of non-negative integers. */
export function checkShape(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
    throw badRequest(`input '${name}': 'shape' must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return shape as number[];
}

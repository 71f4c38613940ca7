/**
 * Cast, CastLike and BitCast. Conversion rules (ONNX Cast, onnx.reference):
 *   float -> integer: truncate toward zero, wrap to the width (out-of-range is undefined in ONNX)
 *   any -> int4/uint4/int2/uint2: truncate toward zero, wrap to the width (onnx 1.22 golden data)
 *   any -> float8*: round to nearest even; `saturate` (default 1) clamps out-of-range values
 *   any -> float8e8m0: `round_mode` up (default) / down / nearest on the exponent
 *   any -> bool: v != 0 (NaN is true); bool -> any: 0/1
 *   string -> number: decimal text, INF/-INF/NaN (any case); number -> string: shortest text
 *   that reads back to the same value in the source dtype
 */
import { DType, dtypeByteSize, dtypeFromOnnx, isBigInt, isComplex, isFloat } from '../../ir/dtype';
import {
  bfloat16BitsToNumber, float16BitsToNumber, miniFloatToNumber, MiniFloat, numberToBfloat16Bits, numberToFloat16Bits,
  numberToMiniFloat, roundToBfloat16, roundToFloat16, roundToMiniFloat,
} from '../../ir/float';
import { allocData, rounderFor, Tensor, TensorData } from '../../ir/tensor';
import { OpContext, OpDef, RuntimeValue, ShapeContext } from '../types';
import { requiredInput, typeOf } from './driver';

type Elems = { [i: number]: any; length: number }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** TensorProto.DataType names, for Cast-1 whose `to` was a string. */
const ONNX_TYPE_NAMES: Record<string, DType> = {
  FLOAT: 'float32', UINT8: 'uint8', INT8: 'int8', UINT16: 'uint16', INT16: 'int16', INT32: 'int32', INT64: 'int64',
  STRING: 'string', BOOL: 'bool', FLOAT16: 'float16', DOUBLE: 'float64', UINT32: 'uint32', UINT64: 'uint64',
  BFLOAT16: 'bfloat16',
};

const MINI: readonly DType[] = ['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float4e2m1'];
const SMALL_INT: Record<string, true> = { int4: true, uint4: true, int2: true, uint2: true };

type Ctx = Pick<OpContext, 'attrs' | 'fail' | 'unsupported' | 'opset'>;

/** The target dtype of Cast's `to` (an int code since opset 6, a type name before). */
function castTarget(ctx: Pick<ShapeContext, 'attrs' | 'node' | 'fail' | 'unsupported'>): DType {
  const a = ctx.node.attrs.get('to');
  if (a?.type === 'string') {
    const t = ONNX_TYPE_NAMES[(a.value as string).toUpperCase()];
    return t ?? ctx.fail(`unknown type name '${a.value}' in attribute 'to'`);
  }
  const code = ctx.attrs.int('to');
  const t = dtypeFromOnnx(code);
  if (!t) ctx.fail(`attribute 'to' = ${code} is not an ONNX data type`);
  if (isComplex(t)) ctx.unsupported(`casting to ${t} is not supported; keep complex values out of the graph`);
  return t;
}

interface CastOptions {
  saturate: boolean;
  roundMode: 'up' | 'down' | 'nearest';
}

function castOptions(ctx: Ctx): CastOptions {
  const saturate = ctx.attrs.int('saturate', 1);
  if (saturate !== 0 && saturate !== 1) ctx.fail(`saturate must be 0 or 1, got ${saturate}`);
  const roundMode = ctx.attrs.string('round_mode', 'up');
  if (roundMode !== 'up' && roundMode !== 'down' && roundMode !== 'nearest') ctx.fail(`round_mode must be up, down or nearest, got '${roundMode}'`);
  return { saturate: saturate === 1, roundMode };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** number -> float8e8m0 code (an unsigned power of two: the sign is dropped), ONNX round_mode. */
export function toE8M0Code(v: number, opt: CastOptions): number {
  if (Number.isNaN(v)) return 0xff;
  if (!Number.isFinite(v)) return opt.saturate ? 0xfe : 0xff;
  f32[0] = v;
  const bits = u32[0] & 0x7fffffff;
  let e = bits >>> 23;
  const m = bits & 0x7fffff;
  if (e === 0xff) return opt.saturate ? 0xfe : 0xff; // float32 overflowed to infinity
  if (opt.roundMode === 'up' && m !== 0) e += 1;
  else if (opt.roundMode === 'nearest' && (m & 0x400000) !== 0) e += 1;
  if (e >= 0xff) return opt.saturate ? 0xfe : 0xff;
  return e;
}

/** Shortest decimal text that reads back to v in dtype. */
function formatNumber(v: number, dtype: DType): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'INF';
  if (v === -Infinity) return '-INF';
  if (!isFloat(dtype) || dtype === 'float64') return String(v);
  const back = dtype === 'float32' ? Math.fround : dtype === 'float16' ? roundToFloat16 : dtype === 'bfloat16' ? roundToBfloat16
    : (x: number) => roundToMiniFloat(dtype as MiniFloat, x);
  for (let p = 1; p <= 17; p++) {
    const s = Number(v.toPrecision(p));
    if (back(s) === v) return String(s);
  }
  return String(v);
}

function parseNumber(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'nan' || t === '+nan' || t === '-nan') return NaN;
  return t === '' ? NaN : Number(t);
}

function parseBigInt(s: string): bigint {
  const t = s.trim();
  if (/^[+-]?\d+$/.test(t)) return BigInt(t.replace(/^\+/, ''));
  const v = parseNumber(t);
  return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
}

/** Convert every element of x to dtype `to`. */
export function castTensor(ctx: Ctx, x: Tensor, to: DType, opt: CastOptions): Tensor {
  if (isComplex(x.dtype) || isComplex(to)) ctx.unsupported(`casting between ${x.dtype} and ${to} is not supported`);
  const n = x.size;
  const src = x.data as Elems;
  const out = allocData(to, n) as Elems;
  const from = x.dtype;
  if (to === 'string') {
    for (let k = 0; k < n; k++) out[k] = from === 'string' ? src[k] : from === 'bool' ? (src[k] ? 'True' : 'False') : isBigInt(from) ? String(src[k]) : formatNumber(src[k], from);
  } else if (isBigInt(to)) {
    const wrap = to === 'uint64' ? BigInt.asUintN : BigInt.asIntN;
    for (let k = 0; k < n; k++) {
      const v = src[k];
      let b: bigint;
      if (typeof v === 'bigint') b = v;
      else if (typeof v === 'string') b = parseBigInt(v);
      else b = Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
      out[k] = wrap(64, b);
    }
  } else {
    // Everything else goes through a number (exact: int64 beyond 2^53 rounds as numpy does to float).
    const toNum = (v: number | bigint | string): number => (typeof v === 'string' ? parseNumber(v) : Number(v));
    let conv: (v: number) => number;
    if (to === 'bool') conv = (v) => (v !== 0 ? 1 : 0);
    else if (to in SMALL_INT) conv = rounderFor(to)!; // truncate toward zero, then wrap (as onnx 1.22)
    else if (to === 'float8e8m0') conv = (v) => miniFloatToNumber('float8e8m0', toE8M0Code(v, opt));
    // float4e2m1 has no NaN: onnx encodes NaN as 0b1000 (negative zero).
    else if (to === 'float4e2m1') conv = (v) => (Number.isNaN(v) ? -0 : roundToMiniFloat(to, v, opt.saturate));
    else if (MINI.includes(to)) conv = (v) => roundToMiniFloat(to as MiniFloat, v, opt.saturate);
    else if (to === 'float16') conv = roundToFloat16;
    else if (to === 'bfloat16') conv = roundToBfloat16;
    else if (isFloat(to)) conv = (v) => v; // float32 (the store rounds) and float64
    else conv = (v) => (Number.isFinite(v) ? Math.trunc(v) : 0); // integers: the store wraps
    for (let k = 0; k < n; k++) out[k] = conv(toNum(src[k]));
  }
  return new Tensor(to, x.dims, out as TensorData);
}

export const Cast: OpDef = {
  opType: 'Cast',
  traits: { sameShape: true, elementwise: true },
  inferShape(ctx, inputs) {
    const x = typeOf(ctx, inputs, 0);
    return [{ dtype: castTarget(ctx), shape: x.shape?.slice() }];
  },
  reference(ctx, inputs): RuntimeValue[] {
    const x = requiredInput(ctx, inputs, 0);
    return [castTensor(ctx, x, castTarget(ctx), castOptions(ctx))];
  },
};

export const CastLike: OpDef = {
  opType: 'CastLike',
  sinceVersion: 15,
  traits: { sameShape: true },
  inferShape(ctx, inputs) {
    const x = typeOf(ctx, inputs, 0), like = typeOf(ctx, inputs, 1);
    return [{ dtype: like.dtype, shape: x.shape?.slice() }];
  },
  reference(ctx, inputs): RuntimeValue[] {
    const x = requiredInput(ctx, inputs, 0), like = requiredInput(ctx, inputs, 1);
    return [castTensor(ctx, x, like.dtype, castOptions(ctx))];
  },
};

// ---- BitCast: reinterpret each element's bits as another dtype of the same width ----

function bitWidth(d: DType): number {
  return d === 'bool' ? 8 : dtypeByteSize(d) * 8;
}

const buf = new DataView(new ArrayBuffer(8));

/** An element's bit pattern as a bigint. */
function toBits(dtype: DType, v: number | bigint): bigint {
  switch (dtype) {
    case 'float64': buf.setFloat64(0, v as number, true); return buf.getBigUint64(0, true);
    case 'float32': buf.setFloat32(0, v as number, true); return BigInt(buf.getUint32(0, true));
    case 'float16': return BigInt(numberToFloat16Bits(v as number));
    case 'bfloat16': return BigInt(numberToBfloat16Bits(v as number));
    case 'int64': case 'uint64': return BigInt.asUintN(64, v as bigint);
    default:
      if (isFloat(dtype)) return BigInt(numberToMiniFloat(dtype as MiniFloat, v as number));
      return BigInt.asUintN(bitWidth(dtype), BigInt(v as number));
  }
}

function fromBits(dtype: DType, bits: bigint): number | bigint {
  const w = bitWidth(dtype);
  switch (dtype) {
    case 'float64': buf.setBigUint64(0, bits, true); return buf.getFloat64(0, true);
    case 'float32': buf.setUint32(0, Number(bits), true); return buf.getFloat32(0, true);
    case 'float16': return float16BitsToNumber(Number(bits));
    case 'bfloat16': return bfloat16BitsToNumber(Number(bits));
    case 'int64': return BigInt.asIntN(64, bits);
    case 'uint64': return bits;
    case 'bool': return bits !== 0n ? 1 : 0;
    default:
      if (isFloat(dtype)) return miniFloatToNumber(dtype as MiniFloat, Number(bits));
      return Number(dtype.startsWith('u') ? BigInt.asUintN(w, bits) : BigInt.asIntN(w, bits));
  }
}

function bitcastTarget(ctx: Pick<ShapeContext, 'attrs' | 'fail' | 'unsupported'>, from: DType): DType {
  const code = ctx.attrs.int('to');
  const to = dtypeFromOnnx(code) ?? ctx.fail(`attribute 'to' = ${code} is not an ONNX data type`);
  if (to === 'string' || from === 'string' || isComplex(to) || isComplex(from)) ctx.unsupported(`BitCast between ${from} and ${to} is not supported`);
  if (bitWidth(to) !== bitWidth(from)) ctx.fail(`BitCast needs types of the same width: ${from} is ${bitWidth(from)} bits, ${to} is ${bitWidth(to)}`);
  return to;
}

export const BitCast: OpDef = {
  opType: 'BitCast',
  inferShape(ctx, inputs) {
    const x = typeOf(ctx, inputs, 0);
    return [{ dtype: bitcastTarget(ctx, x.dtype), shape: x.shape?.slice() }];
  },
  reference(ctx, inputs): RuntimeValue[] {
    const x = requiredInput(ctx, inputs, 0);
    const to = bitcastTarget(ctx, x.dtype);
    const n = x.size;
    const src = x.data as Elems;
    const out = allocData(to, n) as Elems;
    for (let k = 0; k < n; k++) out[k] = fromBits(to, toBits(x.dtype, src[k]));
    return [new Tensor(to, x.dims, out as TensorData)];
  },
};

export const CAST_OPS: OpDef[] = [Cast, CastLike, BitCast];

/**
 * Narrow floating-point formats: bit-exact decode, and round-to-nearest-even encode.
 * float16 and bfloat16 use direct bit arithmetic; the 8-bit and 4-bit formats (ONNX FLOAT8E4M3FN,
 * FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ, FLOAT8E8M0, FLOAT4E2M1) use a table of all codes.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half bits -> number. */
export function float16BitsToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** number -> IEEE half bits, round to nearest even, overflow to infinity. */
export function numberToFloat16Bits(v: number): number {
  // Rounded from the double directly (not through float32) so ties are decided exactly.
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  if (a >= 65520) return sign | 0x7c00; // rounds to inf (max half 65504, halfway 65520)
  if (a < 2 ** -14) {
    // subnormal: units of 2^-24
    const q = roundHalfEven(a * 2 ** 24);
    return sign | q; // q may be 1024 -> smallest normal, bit pattern still right
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  if (2 ** (e + 1) <= a) e += 1;
  let m = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) { m = 0; e += 1; }
  if (e + 15 >= 31) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Round a number to the nearest float16 value (as a number). */
export function roundToFloat16(v: number): number {
  return float16BitsToNumber(numberToFloat16Bits(v));
}

/** bfloat16 bits -> number. */
export function bfloat16BitsToNumber(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** number -> bfloat16 bits, round to nearest even (NaN stays NaN). */
export function numberToBfloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  if (Number.isNaN(f32[0])) return ((x >>> 16) | 0x40) & 0xffff;
  const lsb = (x >>> 16) & 1;
  return ((x + 0x7fff + lsb) >>> 16) & 0xffff;
}

export function roundToBfloat16(v: number): number {
  return bfloat16BitsToNumber(numberToBfloat16Bits(v));
}

export type MiniFloat = 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz' | 'float8e8m0' | 'float4e2m1';

/**
 * Layout of a narrow float: total bits, exponent and mantissa bits, exponent bias, and how it
 * spends its top codes (fn: the all-ones code is NaN, no infinity; fnuz: 0x80 is the only NaN,
 * no negative zero; ieee: infinities and NaNs as IEEE; e8m0: unsigned powers of two, 0xff NaN;
 * finite: no NaN, no infinity).
 */
export interface MiniSpec { bits: number; exp: number; man: number; bias: number; kind: 'fn' | 'fnuz' | 'ieee' | 'e8m0' | 'finite'; }
export const MINI_SPECS: Readonly<Record<MiniFloat, MiniSpec>> = {
  float8e4m3fn: { bits: 8, exp: 4, man: 3, bias: 7, kind: 'fn' },
  float8e4m3fnuz: { bits: 8, exp: 4, man: 3, bias: 8, kind: 'fnuz' },
  float8e5m2: { bits: 8, exp: 5, man: 2, bias: 15, kind: 'ieee' },
  float8e5m2fnuz: { bits: 8, exp: 5, man: 2, bias: 16, kind: 'fnuz' },
  float8e8m0: { bits: 8, exp: 8, man: 0, bias: 127, kind: 'e8m0' },
  float4e2m1: { bits: 4, exp: 2, man: 1, bias: 1, kind: 'finite' },
};

function decodeWith(spec: MiniSpec, code: number): number {
  if (spec.kind === 'e8m0') return code === 0xff ? NaN : 2 ** (code - 127);
  const signBit = 1 << (spec.exp + spec.man);
  const neg = (code & signBit) !== 0;
  const e = (code >> spec.man) & ((1 << spec.exp) - 1);
  const m = code & ((1 << spec.man) - 1);
  if (spec.kind === 'fnuz' && code === signBit) return NaN;
  if (spec.kind === 'fn' && e === (1 << spec.exp) - 1 && m === (1 << spec.man) - 1) return NaN;
  if (spec.kind === 'ieee' && e === (1 << spec.exp) - 1) return m ? NaN : neg ? -Infinity : Infinity;
  const mag = e === 0 ? m * 2 ** (1 - spec.bias - spec.man) : (1 + m / 2 ** spec.man) * 2 ** (e - spec.bias);
  return neg ? -mag : mag;
}

const tables = new Map<MiniFloat, { decode: Float64Array; pos: { v: number; code: number }[] }>();
function table(fmt: MiniFloat) {
  let t = tables.get(fmt);
  if (!t) {
    const spec = MINI_SPECS[fmt];
    const n = 1 << spec.bits;
    const decode = new Float64Array(n);
    const pos: { v: number; code: number }[] = [];
    for (let c = 0; c < n; c++) {
      decode[c] = decodeWith(spec, c);
      const v = decode[c];
      const neg = spec.kind !== 'e8m0' && (c & (1 << (spec.exp + spec.man))) !== 0;
      if (!neg && Number.isFinite(v)) pos.push({ v, code: c });
    }
    pos.sort((a, b) => a.v - b.v);
    t = { decode, pos };
    tables.set(fmt, t);
  }
  return t;
}

/**
 * The largest finite value of a narrow float, its code, and the overflow threshold: values from
 * `half` (halfway to the next step above max) overflow when not saturating.
 */
export function miniFloatLimits(fmt: MiniFloat): { maxCode: number; max: number; half: number } {
  const { pos } = table(fmt);
  const top = pos[pos.length - 1], below = pos[pos.length - 2];
  return { maxCode: top.code, max: top.v, half: top.v + (top.v - below.v) / 2 };
}

/** Code of a narrow float -> number. */
export function miniFloatToNumber(fmt: MiniFloat, code: number): number {
  return table(fmt).decode[code];
}

/**
 * number -> code of a narrow float, round to nearest even. With `saturate` (ONNX Cast's default),
 * finite values beyond the range clamp to the largest finite value (and for formats without
 * infinity, infinities do too); without it they become infinity where the format has one, else NaN.
 */
export function numberToMiniFloat(fmt: MiniFloat, v: number, saturate = true): number {
  const spec = MINI_SPECS[fmt];
  const { pos } = table(fmt);
  const signBit = spec.kind === 'e8m0' ? 0 : 1 << (spec.exp + spec.man);
  const nanCode = spec.kind === 'fnuz' ? 0x80 : spec.kind === 'e8m0' ? 0xff
    : spec.kind === 'fn' ? 0x7f : spec.kind === 'ieee' ? 0x7f : 0x7; // float4 has no NaN: max
  if (Number.isNaN(v)) return nanCode;
  const neg = v < 0;
  const a = Math.abs(v);
  const max = pos[pos.length - 1];
  const withSign = (code: number) => {
    if (!neg || spec.kind === 'e8m0') return code;
    if (code === 0 && spec.kind === 'fnuz') return 0; // no negative zero
    return code | signBit;
  };
  if (a === Infinity) {
    if (spec.kind === 'ieee') return saturate ? withSign(max.code) : withSign(0x7c);
    return saturate || spec.kind === 'finite' ? withSign(max.code) : nanCode;
  }
  if (a > max.v) {
    // above the largest finite value: does it round down to max?
    const top = pos[pos.length - 1].v, below = pos[pos.length - 2].v;
    const half = top + (top - below) / 2;
    if (saturate || spec.kind === 'finite' || a < half) return withSign(max.code);
    return spec.kind === 'ieee' ? withSign(0x7c) : nanCode;
  }
  // binary search for the neighbours
  let lo = 0, hi = pos.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (pos[mid].v <= a) lo = mid; else hi = mid;
  }
  if (a < pos[0].v) return withSign(pos[0].code);
  const l = pos[lo], h = pos[hi];
  if (a === l.v) return withSign(l.code);
  if (a === h.v) return withSign(h.code);
  const dl = a - l.v, dh = h.v - a;
  const pick = dl < dh ? l : dh < dl ? h : (l.code & 1) === 0 ? l : h;
  return withSign(pick.code);
}

export function roundToMiniFloat(fmt: MiniFloat, v: number, saturate = true): number {
  return miniFloatToNumber(fmt, numberToMiniFloat(fmt, v, saturate));
}

/**
 * The elementwise family as data: one descriptor per ONNX op, holding its scalar function for the
 * CPU reference and a GLSL 450 expression for the GPU kernel generator and the pointwise-fusion
 * pass. The drivers in driver.ts turn each descriptor into an OpDef; nothing else about the op
 * lives elsewhere (except ops with irregular typing: Pow, Clip, Where, Cast, see their files).
 *
 * Conventions for `glsl`: float math on the inputs `a` (and `b`), parameters referenced by the
 * names `params` returns (the generator binds them as constants); helpers it may call are in
 * {@link ELEMENTWISE_GLSL_HELPERS}. A descriptor whose `out` is 'bool' gives a GLSL `bool`.
 */
import { DType } from '../../ir/dtype';
import { Attrs } from '../../ir/attrs';
import type { OpTraits } from '../types';

/** Resolved attribute values of one node (numbers only; enums mapped to numbers). */
export type Params = Readonly<Record<string, number>>;

/** A host scalar: number for most dtypes, bigint for int64/uint64, string for string. */
export type Scalar = number | bigint | string;

export interface ElementwiseScalar {
  arity: 1 | 2;
  /** dtypes the (first) input may have; other inputs must match unless the op says otherwise. */
  types: readonly DType[];
  /** Output dtype: that of the input, or bool. */
  out: 'same' | 'bool';
  /** First opset with this op (earlier opsets refuse it). */
  since?: number;
  /**
   * Reads the node's attributes; the ONNX defaults are written here, once. `fail` raises a
   * GraphError naming the node for invalid values, `unsupported` an UnsupportedError.
   */
  params?(attrs: Attrs, fail: (m: string) => never, opset: number): Params;
  /** Float math (float16/bfloat16 are computed in double and rounded on store). */
  f?(a: number, b: number, p: Params): number;
  /** Math for integers up to 32 bits and bool (the typed-array store wraps modulo 2^bits). */
  i?(a: number, b: number, p: Params): number;
  /** Exact math for int64/uint64 (the driver wraps the result to 64 bits). */
  big?(a: bigint, b: bigint, p: Params): bigint;
  /** Predicate for comparison/logic ops: works on numbers, bigints and strings alike. */
  cmp?(a: Scalar, b: Scalar): boolean;
  /** GLSL 450 expression for float inputs (see the module comment). */
  glsl?: string;
  /**
   * GLSL 450 expression for integer inputs held as i32 (`a`, `b` int; the kernel wraps the result
   * to the dtype's width). uint32 keeps its 32 bits in the int, so unsigned ops cast to uint.
   */
  glslInt?: string;
  /** GLSL for uint32 where the sign matters (compare, divide, pick): the int holds its bits, so these cast to uint. */
  glslUint32?: string;
  /** Operator traits (ops/types.ts); ops with bool outputs are range-resetting without saying so. */
  traits?: OpTraits;
}

/** Bounded output whatever the input's magnitude. */
const RESETS: OpTraits = { rangeResetting: true };

export const FLOATS: readonly DType[] = ['float32', 'float16', 'bfloat16', 'float64'];
export const SINTS: readonly DType[] = ['int8', 'int16', 'int32', 'int64'];
export const UINTS: readonly DType[] = ['uint8', 'uint16', 'uint32', 'uint64'];
export const INTS: readonly DType[] = [...SINTS, ...UINTS];
export const NUMERIC: readonly DType[] = [...FLOATS, ...INTS];
export const SIGNED: readonly DType[] = [...FLOATS, ...SINTS];
export const BOOL: readonly DType[] = ['bool'];

/** Round half to even (ONNX Round, numpy.round). */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** erf(x), Abramowitz-Stegun 7.1.26 refined by a series near 0; |error| < 1.2e-7 relative. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 0.5) {
    // Maclaurin series: converges fast here.
    let term = x, sum = x;
    const x2 = x * x;
    for (let n = 1; n < 30; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc via continued fraction-free Chebyshev fit (Numerical Recipes erfcc, |rel err| < 1.2e-7).
  const t = 1 / (1 + 0.5 * ax);
  const r = t * Math.exp(-ax * ax - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
    + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
    + t * (-0.82215223 + t * 0.17087277)))))))));
  const v = 1 - r;
  return x < 0 ? -v : v;
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** Integer power by squaring (exponent >= 0), low 32 bits exact through Math.imul (one step per exponent bit). */
function ipow(a: number, e: number): number {
  let r = 1, base = a | 0;
  let n = e;
  while (n > 0) {
    if (n % 2 === 1) r = Math.imul(r, base);
    base = Math.imul(base, base);
    n = Math.floor(n / 2);
  }
  return r;
}

/** Integer power of bigint (exponent >= 0), wrapped to 64 bits at every step (bounded loop). */
export function bigPow(a: bigint, e: bigint): bigint {
  if (e < 0n) return a === 1n ? 1n : a === -1n ? (e % 2n === 0n ? 1n : -1n) : 0n;
  let r = 1n, base = a;
  let n = e;
  if (n > 128n) {
    if (a === 0n || a === 1n) return a;
    if (a === -1n) return n % 2n === 0n ? 1n : -1n;
    if (a % 2n === 0n) return 0n; // 2^64 divides the result
    // odd base: the group of units mod 2^64 has exponent 2^62; reduce the exponent
    n = n % (1n << 62n);
  }
  while (n > 0n) {
    if (n & 1n) r = BigInt.asIntN(64, r * base);
    base = BigInt.asIntN(64, base * base);
    n >>= 1n;
  }
  return r;
}

/** Integer power for <=32-bit ints, ONNX/numpy-like for negative exponents. */
export function intPow(a: number, e: number): number {
  if (e < 0) return a === 1 ? 1 : a === -1 ? (e % 2 === 0 ? 1 : -1) : 0;
  return ipow(a, e);
}

/** Python-style modulo (sign follows the divisor), 0 for a zero divisor. */
function floorMod(a: number, b: number): number {
  if (b === 0) return 0;
  const r = a % b;
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
}
function bigFloorMod(a: bigint, b: bigint): bigint {
  if (b === 0n) return 0n;
  const r = a % b;
  return r !== 0n && (r < 0n) !== (b < 0n) ? r + b : r;
}

/** Shift amounts at or beyond 64 give 0 (and bound the bigint size). */
function bigShl(a: bigint, b: bigint): bigint {
  return b >= 64n || b < 0n ? 0n : a << b;
}
function bigShr(a: bigint, b: bigint): bigint {
  return b >= 64n || b < 0n ? 0n : a >> b;
}

const num = (v: Scalar): number | bigint | string => v;

/**
 * op name -> descriptor, for every elementwise op whose typing is regular (unary ops, binary ops
 * with equal input types). Also used for the variadic Sum/Max/Min (through Add/Max/Min's scalar).
 */
export const ELEMENTWISE_SCALAR: Readonly<Record<string, ElementwiseScalar>> = {
  // ---- unary math ----
  Abs: { arity: 1, types: NUMERIC, out: 'same', f: Math.abs, i: Math.abs, big: (a) => (a < 0n ? -a : a), glsl: 'abs(a)', glslInt: 'abs(a)', glslUint32: 'a' },
  Neg: { arity: 1, types: SIGNED, out: 'same', f: (a) => -a, i: (a) => -a, big: (a) => -a, glsl: '-a', glslInt: '(-a)' },
  Reciprocal: { arity: 1, types: FLOATS, out: 'same', f: (a) => 1 / a, glsl: '1.0 / a' },
  Sqrt: { arity: 1, types: FLOATS, out: 'same', f: Math.sqrt, glsl: 'vkrt_sqrt(a)' },
  Exp: { arity: 1, types: FLOATS, out: 'same', f: Math.exp, glsl: 'exp(a)' },
  Log: { arity: 1, types: FLOATS, out: 'same', f: Math.log, glsl: 'vkrt_log(a)' },
  Ceil: { arity: 1, types: FLOATS, out: 'same', f: Math.ceil, glsl: 'ceil(a)' },
  Floor: { arity: 1, types: FLOATS, out: 'same', f: Math.floor, glsl: 'floor(a)' },
  Round: { arity: 1, types: FLOATS, out: 'same', since: 11, f: roundHalfEven, glsl: 'roundEven(a)' },
  Sign: { traits: RESETS, arity: 1, types: NUMERIC, out: 'same', since: 9, f: (a) => (Number.isNaN(a) ? NaN : Math.sign(a)), i: Math.sign, big: (a) => (a > 0n ? 1n : a < 0n ? -1n : 0n), glsl: 'vkrt_sign(a)', glslInt: 'sign(a)' },
  Sin: { traits: RESETS, arity: 1, types: FLOATS, out: 'same', since: 7, f: Math.sin, glsl: 'vkrt_sin(a)' },
  Cos: { traits: RESETS, arity: 1, types: FLOATS, out: 'same', since: 7, f: Math.cos, glsl: 'vkrt_cos(a)' },
  Tan: { arity: 1, types: FLOATS, out: 'same', since: 7, f: Math.tan, glsl: 'vkrt_tan(a)' },
  Asin: { arity: 1, types: FLOATS, out: 'same', since: 7, f: Math.asin, glsl: 'vkrt_asin(a)' },
  Acos: { arity: 1, types: FLOATS, out: 'same', since: 7, f: Math.acos, glsl: 'vkrt_acos(a)' },
  Atan: { arity: 1, types: FLOATS, out: 'same', since: 7, f: Math.atan, glsl: 'vkrt_atan(a)' },
  Sinh: { arity: 1, types: FLOATS, out: 'same', since: 9, f: Math.sinh, glsl: 'sinh(a)' },
  Cosh: { arity: 1, types: FLOATS, out: 'same', since: 9, f: Math.cosh, glsl: 'cosh(a)' },
  Asinh: { arity: 1, types: FLOATS, out: 'same', since: 9, f: Math.asinh, glsl: 'vkrt_asinh(a)' },
  Acosh: { arity: 1, types: FLOATS, out: 'same', since: 9, f: Math.acosh, glsl: 'vkrt_acosh(a)' },
  Atanh: { arity: 1, types: FLOATS, out: 'same', since: 9, f: Math.atanh, glsl: 'vkrt_atanh(a)' },
  Erf: { traits: RESETS, arity: 1, types: NUMERIC, out: 'same', since: 9, f: erf, i: (a) => Math.round(erf(a)), big: (a) => (a > 0n ? 1n : a < 0n ? -1n : 0n), glsl: 'vkrt_erf(a)' },
  IsNaN: { arity: 1, types: FLOATS, out: 'bool', since: 9, f: (a) => (Number.isNaN(a) ? 1 : 0), glsl: 'isnan(a)' },
  IsInf: {
    arity: 1, types: FLOATS, out: 'bool', since: 10,
    params: (at) => ({ detect_negative: at.int('detect_negative', 1), detect_positive: at.int('detect_positive', 1) }),
    f: (a, _b, p) => ((a === Infinity && p.detect_positive !== 0) || (a === -Infinity && p.detect_negative !== 0) ? 1 : 0),
    glsl: '(isinf(a) && ((a > 0.0 && detect_positive != 0.0) || (a < 0.0 && detect_negative != 0.0)))',
  },
  Not: { traits: RESETS, arity: 1, types: BOOL, out: 'same', i: (a) => (a ? 0 : 1), glsl: '!a' },
  BitwiseNot: { arity: 1, types: INTS, out: 'same', since: 18, i: (a) => ~a, big: (a) => ~a, glslInt: '(~a)' },

  // ---- activations ----
  Relu: { arity: 1, types: SIGNED, out: 'same', f: (a) => (a > 0 ? a : Number.isNaN(a) ? a : 0), i: (a) => (a > 0 ? a : 0), big: (a) => (a > 0n ? a : 0n), glsl: 'vkrt_relu(a)', glslInt: 'max(a, 0)', glslUint32: 'a' },
  LeakyRelu: {
    arity: 1, types: FLOATS, out: 'same', params: (at) => ({ alpha: at.float('alpha', 0.01) }),
    f: (a, _b, p) => (a < 0 ? p.alpha * a : a), glsl: '(a < 0.0 ? alpha * a : a)',
  },
  Elu: {
    arity: 1, types: FLOATS, out: 'same', params: (at) => ({ alpha: at.float('alpha', 1.0) }),
    f: (a, _b, p) => (a < 0 ? p.alpha * Math.expm1(a) : a), glsl: '(a < 0.0 ? alpha * (exp(a) - 1.0) : a)',
  },
  Selu: {
    arity: 1, types: FLOATS, out: 'same',
    params: (at) => ({ alpha: at.float('alpha', 1.67326319217681884765625), gamma: at.float('gamma', 1.05070102214813232421875) }),
    f: (a, _b, p) => (a <= 0 ? p.gamma * (p.alpha * Math.exp(a) - p.alpha) : p.gamma * a),
    glsl: '(a <= 0.0 ? gamma * (alpha * exp(a) - alpha) : gamma * a)',
  },
  Celu: {
    arity: 1, types: FLOATS, out: 'same', since: 12, params: (at) => ({ alpha: at.float('alpha', 1.0) }),
    f: (a, _b, p) => Math.max(0, a) + Math.min(0, p.alpha * Math.expm1(a / p.alpha)),
    glsl: '(vkrt_max(0.0, a) + vkrt_min(0.0, alpha * (exp(a / alpha) - 1.0)))',
  },
  Sigmoid: { traits: RESETS, arity: 1, types: FLOATS, out: 'same', f: sigmoid, glsl: '(1.0 / (1.0 + exp(-a)))' },
  HardSigmoid: {
    traits: RESETS,
    arity: 1, types: FLOATS, out: 'same', params: (at) => ({ alpha: at.float('alpha', 0.2), beta: at.float('beta', 0.5) }),
    f: (a, _b, p) => Math.max(0, Math.min(1, p.alpha * a + p.beta)), glsl: 'vkrt_clip(alpha * a + beta, 0.0, 1.0)',
  },
  HardSwish: {
    arity: 1, types: FLOATS, out: 'same', since: 14,
    f: (a) => a * Math.max(0, Math.min(1, a / 6 + 0.5)), glsl: '(a * vkrt_clip(a / 6.0 + 0.5, 0.0, 1.0))',
  },
  Tanh: { traits: RESETS, arity: 1, types: FLOATS, out: 'same', f: Math.tanh, glsl: 'vkrt_tanh(a)' },
  Softplus: { arity: 1, types: FLOATS, out: 'same', f: softplus, glsl: 'vkrt_softplus(a)' },
  Softsign: { arity: 1, types: FLOATS, out: 'same', f: (a) => a / (1 + Math.abs(a)), glsl: '(a / (1.0 + abs(a)))' },
  Mish: {
    arity: 1, types: FLOATS, out: 'same', since: 18, f: (a) => a * Math.tanh(softplus(a)),
    glsl: '(a * vkrt_tanh(vkrt_softplus(a)))',
  },
  Gelu: {
    arity: 1, types: FLOATS, out: 'same', since: 20,
    params: (at, fail) => {
      const s = at.string('approximate', 'none');
      if (s !== 'none' && s !== 'tanh') fail(`approximate must be 'none' or 'tanh', got '${s}'`);
      return { approximate: s === 'tanh' ? 1 : 0 };
    },
    f: (a, _b, p) => (p.approximate
      ? 0.5 * a * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (a + 0.044715 * a * a * a)))
      : 0.5 * a * (1 + erf(a / Math.SQRT2))),
    glsl: '(approximate != 0.0 ? 0.5 * a * (1.0 + tanh(0.7978845608028654 * (a + 0.044715 * a * a * a))) : 0.5 * a * (1.0 + vkrt_erf(a * 0.7071067811865476)))',
  },
  Swish: {
    arity: 1, types: FLOATS, out: 'same', since: 24, params: (at) => ({ alpha: at.float('alpha', 1.0) }),
    f: (a, _b, p) => a * sigmoid(p.alpha * a), glsl: '(a / (1.0 + exp(-alpha * a)))',
  },
  ThresholdedRelu: {
    arity: 1, types: FLOATS, out: 'same', since: 10, params: (at) => ({ alpha: at.float('alpha', 1.0) }),
    f: (a, _b, p) => (a > p.alpha ? a : 0), glsl: '(a > alpha ? a : 0.0)',
  },
  Shrink: {
    arity: 1, types: NUMERIC, out: 'same', since: 9, params: (at) => ({ bias: at.float('bias', 0.0), lambd: at.float('lambd', 0.5) }),
    f: (a, _b, p) => (a < -p.lambd ? a + p.bias : a > p.lambd ? a - p.bias : 0),
    i: (a, _b, p) => (a < -p.lambd ? a + p.bias : a > p.lambd ? a - p.bias : 0),
    big: (a, _b, p) => (Number(a) < -p.lambd ? a + BigInt(Math.trunc(p.bias)) : Number(a) > p.lambd ? a - BigInt(Math.trunc(p.bias)) : 0n),
    glsl: '(a < -lambd ? a + bias : (a > lambd ? a - bias : 0.0))',
  },

  // ---- binary arithmetic (multidirectional broadcasting) ----
  Add: { arity: 2, types: NUMERIC, out: 'same', f: (a, b) => a + b, i: (a, b) => a + b, big: (a, b) => a + b, glsl: '(a + b)', glslInt: '(a + b)' },
  Sub: { arity: 2, types: NUMERIC, out: 'same', f: (a, b) => a - b, i: (a, b) => a - b, big: (a, b) => a - b, glsl: '(a - b)', glslInt: '(a - b)' },
  Mul: { arity: 2, types: NUMERIC, out: 'same', f: (a, b) => a * b, i: Math.imul, big: (a, b) => a * b, glsl: '(a * b)', glslInt: '(a * b)' },
  // Integer Div truncates toward zero (C semantics, as onnxruntime); a zero divisor gives 0.
  Div: {
    arity: 2, types: NUMERIC, out: 'same', f: (a, b) => a / b, i: (a, b) => (b === 0 ? 0 : Math.trunc(a / b)),
    // GLSL int division truncates toward zero like ONNX
    big: (a, b) => (b === 0n ? 0n : a / b), glsl: 'vkrt_div(a, b)', glslInt: '(b == 0 ? 0 : a / b)', glslUint32: '(b == 0 ? 0 : int(uint(a) / uint(b)))',
  },
  Mod: {
    arity: 2, types: NUMERIC, out: 'same', since: 10,
    params: (at, fail) => {
      const fmod = at.int('fmod', 0);
      if (fmod !== 0 && fmod !== 1) fail(`fmod must be 0 or 1, got ${fmod}`);
      return { fmod };
    },
    // Float inputs require fmod=1 (checked by the op): C fmod, sign of the dividend.
    f: (a, b) => a % b,
    i: (a, b, p) => (p.fmod ? (b === 0 ? 0 : a % b) : floorMod(a, b)),
    big: (a, b, p) => (p.fmod ? (b === 0n ? 0n : a % b) : bigFloorMod(a, b)),
    // GLSL leaves % undefined for negative operands; int division truncates (OpSDiv), so the
    // truncated remainder is a - b * (a / b), and the floored one moves it to the divisor's sign.
    glsl: 'vkrt_fmod(a, b)', glslInt: '(b == 0 ? 0 : vkrt_imod(a, b, fmod_ != 0.0))', glslUint32: '(b == 0 ? 0 : int(uint(a) % uint(b)))',
  },
  PRelu: {
    arity: 2, types: [...FLOATS, ...INTS], out: 'same',
    f: (a, b) => (a < 0 ? a * b : a), i: (a, b) => (a < 0 ? Math.imul(a, b) : a), big: (a, b) => (a < 0n ? a * b : a),
    glsl: '(a < 0.0 ? a * b : a)',
  },
  BitShift: {
    arity: 2, types: UINTS, out: 'same', since: 11,
    params: (at, fail) => {
      const d = at.string('direction');
      if (d !== 'LEFT' && d !== 'RIGHT') fail(`direction must be 'LEFT' or 'RIGHT', got '${d}'`);
      return { left: d === 'LEFT' ? 1 : 0 };
    },
    // Multiplying by 2^b is exact in double and the uint store wraps it; b >= 1024 gives 0.
    i: (a, b, p) => (p.left ? (b >= 64 ? 0 : a * 2 ** b) : b >= 64 ? 0 : Math.floor(a / 2 ** b)),
    big: (a, b, p) => (p.left ? bigShl(a, b) : bigShr(a, b)),
    // shift counts from 32 give 0 (the width wrap then covers 8 and 16 bits); right shifts are logical
    glslInt: '(uint(b) >= 32u ? 0 : left != 0.0 ? int(uint(a) << uint(b)) : int(uint(a) >> uint(b)))',
  },
  BitwiseAnd: { arity: 2, types: INTS, out: 'same', since: 18, i: (a, b) => a & b, big: (a, b) => a & b, glslInt: '(a & b)' },
  BitwiseOr: { arity: 2, types: INTS, out: 'same', since: 18, i: (a, b) => a | b, big: (a, b) => a | b, glslInt: '(a | b)' },
  BitwiseXor: { arity: 2, types: INTS, out: 'same', since: 18, i: (a, b) => a ^ b, big: (a, b) => a ^ b, glslInt: '(a ^ b)' },

  // ---- logic on bool ----
  And: { arity: 2, types: BOOL, out: 'bool', cmp: (a, b) => !!a && !!b, glsl: '(a && b)' },
  Or: { arity: 2, types: BOOL, out: 'bool', cmp: (a, b) => !!a || !!b, glsl: '(a || b)' },
  Xor: { arity: 2, types: BOOL, out: 'bool', cmp: (a, b) => !!a !== !!b, glsl: '(a != b)' },

  // ---- comparisons (numbers, bigints, and strings for Equal) ----
  Equal: { traits: { stringIds: true }, arity: 2, types: [...NUMERIC, 'bool', 'string'], out: 'bool', cmp: (a, b) => num(a) === num(b), glsl: '(a == b)', glslInt: '(a == b)' },
  Less: { arity: 2, types: NUMERIC, out: 'bool', cmp: (a, b) => num(a) < num(b), glsl: '(a < b)', glslInt: '(a < b)', glslUint32: '(uint(a) < uint(b))' },
  LessOrEqual: { arity: 2, types: NUMERIC, out: 'bool', since: 12, cmp: (a, b) => num(a) <= num(b), glsl: '(a <= b)', glslInt: '(a <= b)', glslUint32: '(uint(a) <= uint(b))' },
  Greater: { arity: 2, types: NUMERIC, out: 'bool', cmp: (a, b) => num(a) > num(b), glsl: '(a > b)', glslInt: '(a > b)', glslUint32: '(uint(a) > uint(b))' },
  GreaterOrEqual: { arity: 2, types: NUMERIC, out: 'bool', since: 12, cmp: (a, b) => num(a) >= num(b), glsl: '(a >= b)', glslInt: '(a >= b)', glslUint32: '(uint(a) >= uint(b))' },

  // ---- binary scalars of the variadic ops (Sum folds Add's, Mean folds Add's then divides) ----
  Max: {
    arity: 2, types: NUMERIC, out: 'same', f: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
    i: (a, b) => Math.max(a, b), big: (a, b) => (a > b ? a : b), glsl: 'vkrt_max(a, b)', glslInt: 'max(a, b)', glslUint32: 'int(max(uint(a), uint(b)))',
  },
  Min: {
    arity: 2, types: NUMERIC, out: 'same', f: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
    i: (a, b) => Math.min(a, b), big: (a, b) => (a < b ? a : b), glsl: 'vkrt_min(a, b)', glslInt: 'min(a, b)', glslUint32: 'int(min(uint(a), uint(b)))',
  },
};

/**
 * GLSL 450 helpers the `glsl` expressions may call (GLSL has no erf, pow(x, y) is undefined
 * for x < 0, and max/min/clamp and functions outside their domain leave NaN/Inf undefined: the
 * vkrt_ helpers give the reference's NaN/Inf semantics), in shaders/common/vkrt_math.glsl, which
 * the nn epilogue, pools and reductions share. The kernel generator includes it once in every
 * generated float shader.
 */
export const ELEMENTWISE_GLSL_HELPERS = '#include "vkrt_math.glsl"';

/** GLSL of ops whose reference lives outside the table (Pow, Clip, Where, Sum, Mean). */
export const ELEMENTWISE_GLSL_EXTRA: Readonly<Record<string, string>> = {
  Pow: 'vkrt_pow(a, b)',
  Clip: 'vkrt_clip(a, min_value, max_value)', // not clamp(): NaN stays NaN, and min > max gives max
  Where: '(c ? a : b)',
  Sum: '(a + b)',
  Mean: '(a + b)', // folded, then multiplied by 1.0 / N
};

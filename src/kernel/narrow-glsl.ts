/**
 * GLSL of the narrow number formats, generated from their layouts (src/ir/float.ts MINI_SPECS) so
 * the GPU and the CPU reference share one description:
 *   vkrt_dec_<dtype>(uint code) -> float        exact decode of a float8/float4 code
 *   vkrt_enc_<dtype>(float x, bool saturate)    -> uint code, round to nearest even, as
 *                                                  roundToMiniFloat (the ONNX rules for Cast; a
 *                                                  zero result is +0, float4's NaN too)
 *   vkrt_enc_float8e8m0(float x, bool saturate, uint mode)  mode 0 up, 1 down, 2 nearest
 *   vkrt_round_bf16(float x)                    x rounded to bfloat16 (nearest even)
 *   vkrt_f2i(float x)                           trunc toward zero, wrapped to 32 bits (NaN, Inf: 0)
 *   vkrt_f2i_sat(float x)                       trunc toward zero, clamped to int32 (int64 targets)
 * Everything works on the bits (no float compare that a compiler could fold, no exp2/ldexp).
 */
import { MINI_SPECS, MiniFloat, miniFloatLimits } from '../ir/float';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bitsOf(v: number): string {
  f32[0] = v;
  if (f32[0] !== v) throw new Error(`narrow-glsl: ${v} is not a float32`);
  return `0x${u32[0].toString(16)}u`;
}

const NAN = 'uintBitsToFloat(0x7fc00000u)';

function decode(fmt: MiniFloat): string {
  const s = MINI_SPECS[fmt];
  if (s.kind === 'e8m0') {
    return `float vkrt_dec_${fmt}(uint c) {\n  return c == 255u ? ${NAN} : c == 0u ? uintBitsToFloat(0x00400000u) : uintBitsToFloat(c << 23);\n}\n`;
  }
  const sign = 1 << (s.exp + s.man), emax = (1 << s.exp) - 1, mmax = (1 << s.man) - 1;
  const lines = [`float vkrt_dec_${fmt}(uint c) {`, `  uint e = (c >> ${s.man}u) & ${emax}u, m = c & ${mmax}u;`, `  bool neg = (c & ${sign}u) != 0u;`];
  if (s.kind === 'fnuz') lines.push(`  if (c == ${sign}u) return ${NAN};`);
  if (s.kind === 'fn') lines.push(`  if (e == ${emax}u && m == ${mmax}u) return ${NAN};`);
  if (s.kind === 'ieee') lines.push(`  if (e == ${emax}u) return m != 0u ? ${NAN} : uintBitsToFloat(neg ? 0xff800000u : 0x7f800000u);`);
  // subnormals: m * 2^(1 - bias - man), exact in float32
  lines.push(`  float mag = e == 0u ? float(m) * uintBitsToFloat(${bitsOf(2 ** (1 - s.bias - s.man))}) : uintBitsToFloat(((e + ${127 - s.bias}u) << 23) | (m << ${23 - s.man}u));`);
  lines.push('  return neg ? -mag : mag;', '}');
  return lines.join('\n') + '\n';
}

function encode(fmt: MiniFloat): string {
  const s = MINI_SPECS[fmt];
  if (s.kind === 'e8m0') {
    return [
      `uint vkrt_enc_${fmt}(float x, bool sat, uint mode) {`,
      '  uint a = floatBitsToUint(x) & 0x7fffffffu;',
      '  if (a > 0x7f800000u) return 255u;',
      '  if (a == 0x7f800000u) return sat ? 254u : 255u;',
      '  uint e = a >> 23, m = a & 0x7fffffu;',
      '  if (mode == 0u && m != 0u) e++;',
      '  else if (mode == 2u && (m & 0x400000u) != 0u) e++;',
      '  if (e >= 255u) return sat ? 254u : 255u;',
      '  return e;',
      '}',
    ].join('\n') + '\n';
  }
  const { maxCode, max, half } = miniFloatLimits(fmt);
  const sign = 1 << (s.exp + s.man);
  // float4e2m1 has no NaN: Cast writes it as -0, which holds as +0 (the reference's value)
  const nanCode = s.kind === 'fnuz' ? 0x80 : s.kind === 'finite' ? 0 : 0x7f;
  const emin = 1 - s.bias;
  const over = s.kind === 'ieee' ? `code = 0x7cu;` : s.kind === 'finite' ? `code = ${maxCode}u;` : `return ${nanCode}u;`;
  return [
    `uint vkrt_enc_${fmt}(float x, bool sat) {`,
    '  uint b = floatBitsToUint(x), a = b & 0x7fffffffu;',
    `  if (a > 0x7f800000u) return ${nanCode}u;`,
    '  bool neg = (b >> 31) != 0u && a != 0u; // -0 encodes as +0 (as the reference: -0 < 0 is false)',
    '  uint code;',
    `  if (a > ${bitsOf(max)}) {`,
    `    if (sat || a < ${bitsOf(half)}) code = ${maxCode}u; else { ${over} }`,
    '  } else if ((a >> 23) == 0u) {',
    '    code = 0u; // float32 subnormals: far below half the smallest subnormal of every narrow format',
    '  } else {',
    '    int e = int(a >> 23) - 127;',
    '    uint mant = (a & 0x7fffffu) | 0x800000u;',
    `    int sh = ${23 - s.man} + max(0, ${emin} - e);`,
    '    if (sh >= 25) code = 0u;',
    '    else {',
    '      uint q = mant >> uint(sh), rem = mant & ((1u << uint(sh)) - 1u), halfway = 1u << uint(sh - 1);',
    '      if (rem > halfway || (rem == halfway && (q & 1u) != 0u)) q++;',
    `      code = e < ${emin} ? q : (uint(e + ${s.bias - 1}) << ${s.man}u) + q;`,
    '    }',
    '  }',
    // no negative zero: the reference rounds values, and -0 rounds to the +0 code
    `  return !neg || code == 0u ? code : code | ${sign}u;`,
    '}',
  ].join('\n') + '\n';
}

const FORMATS: MiniFloat[] = ['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float8e8m0', 'float4e2m1'];

const CONVERSIONS: Record<string, string> = {
  vkrt_round_bf16: [
    'float vkrt_round_bf16(float x) {',
    '  uint b = floatBitsToUint(x);',
    '  if ((b & 0x7fffffffu) > 0x7f800000u) return x;',
    '  return uintBitsToFloat(((b + 0x7fffu + ((b >> 16) & 1u)) >> 16) << 16);',
    '}',
  ].join('\n'),
  vkrt_f2i_sat: [
    'int vkrt_f2i_sat(float x) {',
    '  uint a = floatBitsToUint(x) & 0x7fffffffu;',
    '  if (a >= 0x7f800000u) return 0;',
    '  if (a >= 0x4f000000u) return x < 0.0 ? int(0x80000000u) : 0x7fffffff;',
    '  return int(trunc(x));',
    '}',
  ].join('\n'),
  vkrt_f2i: [
    'int vkrt_f2i(float x) {',
    '  uint b = floatBitsToUint(x), a = b & 0x7fffffffu;',
    '  if (a >= 0x7f800000u) return 0;',
    '  if (a < 0x4f000000u) return int(trunc(x)); // |x| < 2^31',
    '  int sh = int(a >> 23) - 150; // |x| = mant * 2^sh, sh >= 8',
    '  uint v = sh >= 32 ? 0u : ((a & 0x7fffffu) | 0x800000u) << uint(sh);',
    '  return int((b >> 31) != 0u ? 0u - v : v);',
    '}',
  ].join('\n'),
};

/** The helpers `code` (a kernel's expression) calls, and only those (each one costs compile time). */
export function narrowGlsl(code: string): string {
  const out: string[] = [];
  for (const f of FORMATS) {
    if (code.includes(`vkrt_dec_${f}(`)) out.push(decode(f));
    if (code.includes(`vkrt_enc_${f}(`)) out.push(encode(f));
  }
  for (const [name, src] of Object.entries(CONVERSIONS)) if (new RegExp(`\\b${name}\\(`).test(code)) out.push(src + '\n');
  return out.join('');
}

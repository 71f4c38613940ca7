/**
 * GPU kernels of the elementwise family: each op becomes a generated pointwise kernel
 * (src/kernel/pointwise.ts) from the GLSL expression in its ELEMENTWISE_SCALAR row. Floats compute
 * in float; integer and bool tensors (stored as i32) use the row's integer expression (glslInt,
 * glslUint32 where uint32's sign matters), the result wrapped to the dtype's width; ops without one
 * are refused at build time with the node named. Cast, CastLike and BitCast (below) also read and
 * write the packed narrow types.
 */
import { BindingRef, KernelContext, KernelImpl, withF16 } from '../../kernel/contract';
import { pointwiseDispatch, PointwiseInput } from '../../kernel/pointwise';
import { DType, dtypeByteSize, isFloat } from '../../ir/dtype';
import { narrowGlsl } from '../../kernel/narrow-glsl';
import { OpDef } from '../types';
import { legacyAlign, legacySlope } from './driver';
import { ELEMENTWISE_GLSL_EXTRA, ELEMENTWISE_GLSL_HELPERS, ELEMENTWISE_SCALAR } from './scalar-table';

const INT_HELPERS = `
int vkrt_imod(int a, int b, bool truncated) {
  int r = a - b * (a / b);
  if (!truncated && r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
int vkrt_ipow(int a, int e) {
  // by squaring, low 32 bits (one step per exponent bit); negative exponents as numpy's float result truncated
  if (e < 0) return a == 1 ? 1 : a == -1 ? ((e & 1) == 0 ? 1 : -1) : 0;
  int r = 1, base = a;
  for (uint n = uint(e); n != 0u; n >>= 1) {
    if ((n & 1u) != 0u) r *= base;
    base *= base;
  }
  return r;
}
`;

/** Integer GLSL of the ops outside the scalar table (the table's rows carry theirs: glslInt, glslUint32). */
const INT_GLSL: Record<string, string> = {
  Where: '(c ? a : b)', Sum: '(a + b)', Pow: 'vkrt_ipow(a, b)',
};

const BOOL_OPS = new Set(['And', 'Or', 'Xor', 'Not']);

function exprOf(op: string, dtype: DType): string | undefined {
  if (op === 'Clip') return 'clip'; // built from its bounds in elementwiseKernel
  if (BOOL_OPS.has(op)) return ELEMENTWISE_SCALAR[op].glsl;
  if (isFloat(dtype)) return ELEMENTWISE_SCALAR[op]?.glsl ?? ELEMENTWISE_GLSL_EXTRA[op];
  const row = ELEMENTWISE_SCALAR[op];
  return (dtype === 'uint32' ? row?.glslUint32 : undefined) ?? row?.glslInt ?? INT_GLSL[op];
}

/** Rewrite `a`, `b`, `c` in a table expression to the generator's v0, v1, v2. */
function bindOperands(expr: string, names: string[]): string {
  return expr.replace(/\b([abc])\b/g, (m) => {
    const k = ['a', 'b', 'c'].indexOf(m);
    return names[k] ?? m;
  });
}

/** The kernel() for an elementwise op. */
export function elementwiseKernel(op: string): (ctx: KernelContext) => KernelImpl[] {
  return (ctx) => {
    const out = ctx.outputs[0];
    const present = ctx.inputs.map((t, i) => ({ t, i })).filter((x) => x.t !== undefined) as { t: NonNullable<typeof ctx.inputs[0]>; i: number }[];
    const x0 = ctx.inputs[op === 'Where' ? 1 : 0];
    if (!x0) return ctx.fail('missing input');
    const float = isFloat(x0.dtype);
    let expr = exprOf(op, x0.dtype);
    if (!expr) return ctx.unsupported(`no GPU kernel for ${op} on ${x0.dtype} tensors; run the model on the reference backend or cast the inputs to float`);
    const desc = ELEMENTWISE_SCALAR[op];
    const floatParams: Record<string, number> = desc?.params ? { ...desc.params(ctx.attrs, ctx.fail, ctx.opset) } : {};
    if (op === 'Mod') { floatParams.fmod_ = floatParams.fmod ?? 0; delete floatParams.fmod; }
    let bound = present;
    if (op === 'Clip') {
      // bounds: attributes before opset 11; inputs after, folded to params when known at build
      // time, else read from their (scalar) tensors
      const intLimit = (v: number) => Math.min(Math.max(v, -2147483648), 2147483520); // exact as float bits
      const lims: string[] = [];
      const keep = [0];
      for (const [i, attr, dflt, name] of [[1, 'min', -Infinity, 'min_value'], [2, 'max', Infinity, 'max_value']] as const) {
        const t = ctx.opset < 11 ? undefined : ctx.inputs[i];
        if (t && !t.constant) { keep.push(i); lims.push(`v${keep.length - 1}`); continue; }
        const v = ctx.opset < 11 ? ctx.attrs.float(attr, dflt) : t ? t.constant!.get(0) : dflt;
        floatParams[name] = float ? v : intLimit(v);
        lims.push(float ? name : `int(${name})`);
      }
      expr = float ? `vkrt_clip(a, ${lims[0]}, ${lims[1]})` : `min(max(a, ${lims[0]}), ${lims[1]})`; // not clamp(): NaN stays NaN, min > max gives max
      bound = present.filter((p) => keep.includes(p.i));
    }
    const names = bound.map((_, j) => `v${j}`);
    const variadic = op === 'Sum' || op === 'Mean' || ((op === 'Max' || op === 'Min') && bound.length !== 2);
    if (variadic) {
      let acc = 'v0';
      for (let j = 1; j < bound.length; j++) acc = bindOperands(expr, [acc, `v${j}`]);
      expr = op === 'Mean' ? `(${acc}) * ${(1 / bound.length).toPrecision(9)}` : acc;
    } else if (op === 'Where') {
      expr = bindOperands(expr, ['v1', 'v2', 'v0']);
    } else {
      expr = bindOperands(expr, names);
    }
    // old opsets' broadcasting (PRelu's per-channel slope, the broadcast/axis attributes before 7)
    const dimsOf = (t: { dims: number[] }, i: number): number[] => {
      if (i !== 1 || bound.length !== 2) return t.dims;
      const a = ctx.inputs[0]!.dims;
      return op === 'PRelu' ? legacySlope(ctx, a, t.dims) : legacyAlign(ctx, a, t.dims);
    };
    // an integer Pow's exponent may be a float tensor (Pow(int32, float32) -> int32)
    const floatExp = op === 'Pow' && !float && isFloat(ctx.inputs[1]!.dtype);
    if (floatExp) expr = '(v1 == trunc(v1) && abs(v1) < 2147483648.0 ? vkrt_ipow(v0, int(v1)) : vkrt_f2i(vkrt_pow(float(v0), v1)))';
    const inputs: PointwiseInput[] = bound.map(({ t, i }) => ({
      gpu: t.gpu,
      dims: dimsOf(t, i),
      as: BOOL_OPS.has(op) || (op === 'Where' && i === 0) ? 'bool' : float || (floatExp && i === 1) ? 'float' : 'int',
    }));
    const resultAs = desc?.out === 'bool' || BOOL_OPS.has(op) ? 'bool' : float ? 'float' : 'int';
    // integer results wrap to the dtype's width, as the reference's typed arrays do
    if (resultAs === 'int') expr = wrapInt(out.dtype, expr);
    const d = pointwiseDispatch({
      name: op.toLowerCase(), inputs, outDims: out.dims, outGpu: out.gpu, resultAs,
      expr, floatParams, helpers: float ? ELEMENTWISE_GLSL_HELPERS : `${INT_HELPERS}${floatExp ? `${ELEMENTWISE_GLSL_HELPERS}\n${narrowGlsl(expr)}` : ''}`,
    }, ctx.caps);
    d.bindings = [...bound.map(({ i }): BindingRef => ({ input: i })), { output: 0 }];
    // FP16 layers: the generated kernel declares each buffer in its tensor's storage type and
    // computes in float (pointwise.ts converts on load and store)
    return withF16([{ name: `pointwise_${op.toLowerCase()}`, dispatches: [d] }], ctx);
  };
}

/** Attach GPU kernels to the family's OpDefs (Cast and BitCast have their own). */
export function withKernels(defs: OpDef[]): OpDef[] {
  return defs.map((d) => {
    if (d.kernel || d.domain) return d;
    if (ELEMENTWISE_SCALAR[d.opType] || ELEMENTWISE_GLSL_EXTRA[d.opType] || d.opType === 'Max' || d.opType === 'Min') {
      return { ...d, kernel: elementwiseKernel(d.opType) };
    }
    if (d.opType === 'Cast' || d.opType === 'CastLike') return { ...d, kernel: castKernel, traits: { ...d.traits, packedStorage: true } };
    if (d.opType === 'BitCast') return { ...d, kernel: bitcastKernel, traits: { ...d.traits, packedStorage: true } };
    return d;
  });
}

const MINI: ReadonlySet<string> = new Set(['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float8e8m0', 'float4e2m1']);

/**
 * An int expression wrapped to an integer dtype held as i32 (8 and 16 bits: two's complement
 * wrap; 32 bits: the int's own; int64/uint64 are held as int32 values).
 */
export function wrapInt(dtype: DType, e: string): string {
  switch (dtype) {
    case 'uint8': return `((${e}) & 255)`;
    case 'uint16': return `((${e}) & 65535)`;
    case 'int8': return `(((${e}) << 24) >> 24)`;
    case 'int16': return `(((${e}) << 16) >> 16)`;
    case 'bool': return `((${e}) != 0 ? 1 : 0)`;
    default: return e;
  }
}

/**
 * Cast / CastLike between every dtype the GPU holds: floats (f32/f16 storage), integers and bool
 * (i32), and the packed narrow floats (float8*, float4e2m1: codes decoded and encoded by the
 * generated helpers of src/kernel/narrow-glsl.ts, round to nearest even, saturate as the
 * attribute says). Results match castTensor (cast.ts) bit for bit.
 */
function castKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const out = ctx.outputs[0];
  const to = out.dtype;
  const from = x.dtype;
  if (!out.gpu || !x.gpu) return ctx.unsupported(`no GPU cast from ${from} to ${to}`);
  const saturate = ctx.attrs.int('saturate', 1) !== 0;
  const mode = ctx.attrs.string('round_mode', 'up');
  // the input as a float expression (F) or an int one (I)
  let as: 'float' | 'int' = 'int';
  let F: string, I: string | undefined;
  if (MINI.has(from)) F = `vkrt_dec_${from}(uint(v0))`;
  else if (isFloat(from)) { as = 'float'; F = 'v0'; }
  else { I = 'v0'; F = from === 'uint32' ? 'float(uint(v0))' : 'float(v0)'; }
  let expr: string;
  let resultAs: 'float' | 'int' | 'bool';
  if (to === 'bool') { resultAs = 'bool'; expr = I !== undefined ? `${I} != 0` : `${F} != 0.0`; }
  else if (to === 'float8e8m0') { resultAs = 'int'; expr = `int(vkrt_enc_${to}(${F}, ${saturate}, ${mode === 'down' ? 1 : mode === 'nearest' ? 2 : 0}u))`; }
  else if (MINI.has(to)) { resultAs = 'int'; expr = `int(vkrt_enc_${to}(${F}, ${saturate}))`; }
  else if (isFloat(to)) {
    resultAs = 'float';
    expr = to === 'float16' ? `unpackHalf2x16(packHalf2x16(vec2(${F}, 0.0))).x` : to === 'bfloat16' ? `vkrt_round_bf16(${F})` : F;
  } else {
    resultAs = 'int';
    // floats truncate toward zero and wrap (NaN, Inf: 0); int64/uint64 hold int32 values
    const base = I ?? (to === 'int64' || to === 'uint64' ? `vkrt_f2i_sat(${F})` : `vkrt_f2i(${F})`);
    expr = wrapInt(to, base);
  }
  const d = pointwiseDispatch({
    name: `cast_${to}`, inputs: [{ gpu: x.gpu, dims: x.dims, as }], outDims: out.dims, outGpu: out.gpu, resultAs, expr, helpers: narrowGlsl(expr),
  }, ctx.caps);
  return withF16([{ name: `cast_${from}_to_${to}`, dispatches: [d] }], ctx);
}

/**
 * BitCast between dtypes of one width up to 32 bits: the source's bits (as the reference sees
 * them: narrow floats re-encoded, so -0 and NaN take their canonical codes, float16/bfloat16 NaN
 * the quiet NaN) become the target's. 64-bit types are held as 32-bit values on the GPU, so only
 * int64 <-> uint64 (the same int) runs there.
 */
function bitcastKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const out = ctx.outputs[0];
  const from = x.dtype, to = out.dtype;
  const wide = (d: DType) => d === 'float64' || d === 'int64' || d === 'uint64';
  if (wide(from) || wide(to)) {
    if ((from === 'int64' || from === 'uint64') && (to === 'int64' || to === 'uint64')) {
      const d = pointwiseDispatch({ name: 'bitcast_i64', inputs: [{ gpu: x.gpu, dims: x.dims, as: 'int' }], outDims: out.dims, outGpu: out.gpu, resultAs: 'int', expr: 'v0' }, ctx.caps);
      return [{ name: `bitcast_${from}_to_${to}`, dispatches: [d] }];
    }
    return ctx.unsupported(`no GPU BitCast from ${from} to ${to}: 64-bit values are held as 32 bits on the GPU`);
  }
  let as: 'float' | 'int' = 'int';
  let bits: string;
  if (from === 'float32') { as = 'float'; bits = 'floatBitsToUint(v0)'; }
  else if (from === 'float16') { as = 'float'; bits = '(vkrt_isnan(v0) ? 0x7e00u : packHalf2x16(vec2(v0, 0.0)) & 0xffffu)'; }
  else if (from === 'bfloat16') { as = 'float'; bits = '(vkrt_isnan(v0) ? (floatBitsToUint(v0) >> 16) | 0x40u : floatBitsToUint(v0) >> 16)'; } // NaN: quieted, as numberToBfloat16Bits
  else if (from === 'float8e8m0') bits = 'uint(v0)';
  else if (MINI.has(from)) bits = `vkrt_enc_${from}(vkrt_dec_${from}(uint(v0)), true)`;
  else bits = `(uint(v0) & ${from === 'bool' ? 255 : 2 ** (dtypeByteSize(from) * 8) - 1}u)`;
  let expr: string;
  let resultAs: 'float' | 'int' = 'int';
  if (to === 'float32') { resultAs = 'float'; expr = `uintBitsToFloat(${bits})`; }
  else if (to === 'float16') { resultAs = 'float'; expr = `unpackHalf2x16(${bits}).x`; }
  else if (to === 'bfloat16') { resultAs = 'float'; expr = `uintBitsToFloat(${bits} << 16)`; }
  else if (to === 'float8e8m0') expr = `int(${bits})`;
  else if (MINI.has(to)) expr = `int(vkrt_enc_${to}(vkrt_dec_${to}(${bits}), false))`; // -0 holds as +0, as the reference rounds it
  else if (to === 'bool') expr = `(${bits} != 0u ? 1 : 0)`;
  else if (to === 'int4' || to === 'int2') expr = `(int(${bits} << ${32 - dtypeByteSize(to) * 8}u) >> ${32 - dtypeByteSize(to) * 8})`;
  else expr = wrapInt(to, `int(${bits})`);
  const d = pointwiseDispatch({
    name: `bitcast_${to}`, inputs: [{ gpu: x.gpu, dims: x.dims, as }], outDims: out.dims, outGpu: out.gpu, resultAs, expr,
    helpers: `${ELEMENTWISE_GLSL_HELPERS}\n${narrowGlsl(`${bits} ${expr}`)}`,
  }, ctx.caps);
  return withF16([{ name: `bitcast_${from}_to_${to}`, dispatches: [d] }], ctx);
}

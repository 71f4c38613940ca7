/**
 * GPU kernels of the elementwise family: each op becomes a generated pointwise kernel
 * (src/kernel/pointwise.ts) from the GLSL expression in its ELEMENTWISE_SCALAR row. Floats compute
 * in float; integer and bool tensors (stored as i32) use the integer expressions below, which exist
 * for the ops real models apply to integers; others are refused at build time with the node named.
 */
import { BindingRef, KernelContext, KernelImpl, withF16 } from '../../kernel/contract';
import { pointwiseDispatch, PointwiseInput } from '../../kernel/pointwise';
import { isFloat } from '../../ir/dtype';
import { OpDef } from '../types';
import { legacyAlign, legacySlope } from './driver';
import { ELEMENTWISE_GLSL_EXTRA, ELEMENTWISE_GLSL_HELPERS, ELEMENTWISE_SCALAR } from './scalar-table';

const INT_HELPERS = `
// integer power as the reference's intPow: square-and-multiply (wrapping), negative exponents
// give 0 except for bases 1 and -1
int vkrt_ipow(int a, int e) {
  if (e < 0) return a == 1 ? 1 : (a == -1 ? ((e & 1) == 0 ? 1 : -1) : 0);
  int r = 1;
  int b = a;
  for (int k = 0; k < 32 && e > 0; k++) {
    if ((e & 1) != 0) r *= b;
    b *= b;
    e >>= 1;
  }
  return r;
}
int vkrt_imod(int a, int b, bool truncated) {
  int r = a - b * (a / b);
  if (!truncated && r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
`;

/** Integer GLSL of ops real models apply to int tensors (a, b are int; c bool). */
const INT_GLSL: Record<string, string> = {
  Add: '(a + b)', Sub: '(a - b)', Mul: '(a * b)', Neg: '(-a)', Abs: 'abs(a)', Sign: 'sign(a)',
  Div: '(b == 0 ? 0 : a / b)', // GLSL int division truncates toward zero like ONNX
  // GLSL leaves % undefined for negative operands; int division truncates (OpSDiv), so the
  // truncated remainder is a - b * (a / b), and the floored one moves it to the divisor's sign.
  Mod: '(b == 0 ? 0 : vkrt_imod(a, b, fmod_ != 0.0))',
  Max: 'max(a, b)', Min: 'min(a, b)', Relu: 'max(a, 0)',
  Pow: 'vkrt_ipow(a, b)', // an int base; a float exponent takes INT_POW_FLOAT_EXP
  Equal: '(a == b)', Less: '(a < b)', LessOrEqual: '(a <= b)', Greater: '(a > b)', GreaterOrEqual: '(a >= b)',
  Where: '(c ? a : b)', Sum: '(a + b)',
};

/** Pow of an int base by a float exponent: the float power truncated back to an int, NaN and +-Inf as 0 (as the reference stores them). */
const INT_POW_FLOAT_EXP = 'vkrt_ipow_f(a, b)';
const INT_POW_FLOAT_HELPER = `
int vkrt_ipow_f(int a, float b) {
  float v = vkrt_pow(float(a), b);
  return isnan(v) || isinf(v) ? 0 : int(trunc(v));
}
`;

const BOOL_OPS = new Set(['And', 'Or', 'Xor', 'Not']);

function exprOf(op: string, float: boolean): string | undefined {
  if (op === 'Clip') return 'clip'; // built from its bounds in elementwiseKernel
  if (BOOL_OPS.has(op)) return ELEMENTWISE_SCALAR[op].glsl;
  if (float) return ELEMENTWISE_SCALAR[op]?.glsl ?? ELEMENTWISE_GLSL_EXTRA[op];
  return INT_GLSL[op];
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
    // Pow's exponent keeps its own type (an int base may take a float exponent)
    const floatExp = op === 'Pow' && !float && !!ctx.inputs[1] && isFloat(ctx.inputs[1].dtype);
    let expr = floatExp ? INT_POW_FLOAT_EXP : exprOf(op, float);
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
    const inputs: PointwiseInput[] = bound.map(({ t, i }) => ({
      gpu: t.gpu,
      dims: dimsOf(t, i),
      as: BOOL_OPS.has(op) || (op === 'Where' && i === 0) ? 'bool' : float || (floatExp && i === 1) ? 'float' : 'int',
    }));
    const resultAs = desc?.out === 'bool' || BOOL_OPS.has(op) ? 'bool' : float ? 'float' : 'int';
    const d = pointwiseDispatch({
      name: op.toLowerCase(), inputs, outDims: out.dims, outGpu: out.gpu, resultAs,
      expr, floatParams, helpers: float ? ELEMENTWISE_GLSL_HELPERS : floatExp ? ELEMENTWISE_GLSL_HELPERS + INT_HELPERS + INT_POW_FLOAT_HELPER : INT_HELPERS,
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
    if (d.opType === 'Cast' || d.opType === 'CastLike') return { ...d, kernel: castKernel };
    return d;
  });
}

/** Cast between the GPU storage types (f32 <-> i32, bool), rounding through float16 where asked. */
function castKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const out = ctx.outputs[0];
  const to = out.dtype;
  const from = x.dtype;
  if (!out.gpu || !x.gpu) return ctx.unsupported(`no GPU cast from ${from} to ${to}`);
  let expr: string;
  let as: 'float' | 'int' | 'bool' = isFloat(from) ? 'float' : 'int';
  let resultAs: 'float' | 'int' | 'bool';
  if (to === 'bool') { expr = 'v0 != 0'; resultAs = 'bool'; if (as === 'float') expr = 'v0 != 0.0'; }
  else if (isFloat(to)) {
    resultAs = 'float';
    expr = as === 'float' ? 'v0' : 'float(v0)';
    if (to === 'float16') expr = `unpackHalf2x16(packHalf2x16(vec2(${expr}, 0.0))).x`;
    else if (to === 'bfloat16' || to !== 'float32' && to !== 'float64') return ctx.unsupported(`no GPU cast to ${to}`);
  } else {
    resultAs = 'int';
    if (to === 'uint8' || to === 'int8' || to === 'uint16' || to === 'int16') {
      const bits = to.endsWith('8') ? 8 : 16;
      const base = as === 'float' ? 'int(trunc(v0))' : 'v0';
      expr = to.startsWith('u') ? `(${base} & ${(1 << bits) - 1})` : `((${base} << ${32 - bits}) >> ${32 - bits})`;
    } else expr = as === 'float' ? 'int(trunc(v0))' : 'v0';
  }
  if (from === 'bool') as = 'int';
  const d = pointwiseDispatch({ name: `cast_${to}`, inputs: [{ gpu: x.gpu, dims: x.dims, as }], outDims: out.dims, outGpu: out.gpu, resultAs, expr }, ctx.caps);
  return withF16([{ name: `cast_${from}_to_${to}`, dispatches: [d] }], ctx);
}

/**
 * GPU kernels of QuantizeLinear and DequantizeLinear for integer quantized types (per-tensor and
 * per-axis scales and zero points): generated pointwise kernels (src/kernel/pointwise.ts), the
 * per-axis parameters broadcast as [C, 1, ...]; float8/float4 tensors are packed codes, decoded and
 * encoded by the generated helpers of src/kernel/narrow-glsl.ts. Blocked quantization of those is
 * refused.
 */
import { BindingRef, KernelContext, KernelImpl, TensorDesc } from '../../../kernel/contract';
import { narrowGlsl } from '../../../kernel/narrow-glsl';
import { isByte, isPacked } from '../../../kernel/storage';
import { PointwiseInput, pointwiseDispatch } from '../../../kernel/pointwise';
import { integerRange, isFloat } from '../../../ir/dtype';
import { dequantizeGeneralKernel, quantizeGeneralKernel } from './qlinear';

/** dims of a scale / zero point as a broadcast operand of x, or undefined when not per-tensor/per-axis. */
function paramDims(ctx: KernelContext, xdims: readonly number[], pdims: readonly number[]): number[] {
  const size = pdims.reduce((a, b) => a * b, 1);
  if (size === 1) return [];
  const rank = xdims.length;
  const a = ctx.opset >= 13 ? ctx.attrs.int('axis', 1) : 1;
  const axis = a < 0 ? a + rank : a;
  if (pdims.length !== 1 || axis < 0 || axis >= rank || pdims[0] !== xdims[axis]) {
    return ctx.unsupported(`scale/zero point [${pdims.join(',')}] is neither per-tensor nor per-axis of [${xdims.join(',')}] (blocked quantization has no GPU kernel)`);
  }
  return [pdims[0], ...new Array<number>(rank - axis - 1).fill(1)];
}

/**
 * The pointwise Q/DQ kernel; `expr` reads x as X and the zero point as Z (floats: packed narrow
 * floats are decoded from their codes, src/kernel/narrow-glsl.ts), the scale as v1.
 */
function quantDispatch(ctx: KernelContext, name: string, expr: string, resultAs: 'float' | 'int', helpers?: string): KernelImpl[] {
  const [x, s, z] = ctx.inputs;
  const y = ctx.outputs[0];
  if (!x || !s) return ctx.fail('missing x or scale');
  if (ctx.opset >= 21 && ctx.attrs.int('block_size', 0) > 0) return ctx.unsupported('blocked quantization has no GPU kernel');
  const read = (t: TensorDesc, v: string) => (!isPacked(t.gpu) ? v : isFloat(t.dtype) ? `vkrt_dec_${t.dtype}(uint(${v}))` : `float(${v})`);
  const inputs: PointwiseInput[] = [{ gpu: x.gpu, dims: x.dims, as: isPacked(x.gpu) ? 'int' : 'float' }, { gpu: s.gpu, dims: paramDims(ctx, x.dims, s.dims), as: 'float' }];
  const bindings: BindingRef[] = [{ input: 0 }, { input: 1 }];
  if (z) { inputs.push({ gpu: z.gpu, dims: paramDims(ctx, x.dims, z.dims), as: isPacked(z.gpu) ? 'int' : 'float' }); bindings.push({ input: 2 }); }
  const e = expr.replace(/\bX\b/g, read(x, 'v0')).replace(/\bZ\b/g, z ? read(z, 'v2') : '0.0');
  const d = pointwiseDispatch({ name, inputs, outDims: y.dims, outGpu: y.gpu, resultAs, expr: e, helpers: `${helpers ?? ''}\n${narrowGlsl(e)}` }, ctx.caps);
  d.bindings = [...bindings, { output: 0 }];
  return [{ name: `${name}_pointwise`, dispatches: [d] }];
}

/** Blocked layouts (block_size > 0) go to the general kernel (shaders/nn/qdq.comp). */
function blocked(ctx: KernelContext): boolean {
  return ctx.opset >= 21 && ctx.attrs.int('block_size', 0) > 0;
}

export function quantizeKernel(ctx: KernelContext): KernelImpl[] {
  // the general kernel divides exactly (nn_div); the pointwise one stays a candidate
  const y = ctx.outputs[0];
  if (isPacked(y.gpu)) return isFloat(y.dtype) ? quantizeNarrow(ctx) : quantizeGeneralKernel(ctx); // int4/int2: packed by the general kernel
  if (isByte(y.gpu)) return quantizeGeneralKernel(ctx); // int8/uint8 one byte each: the general kernel writes bytes
  if (blocked(ctx) || (!isFloat(y.dtype) && y.gpu === 'i32')) return [...quantizeGeneralKernel(ctx), ...(blocked(ctx) ? [] : quantizePointwise(ctx))];
  return quantizePointwise(ctx);
}

function quantizePointwise(ctx: KernelContext): KernelImpl[] {
  const y = ctx.outputs[0];
  if (isFloat(y.dtype) || y.gpu !== 'i32') return ctx.unsupported(`quantizing to ${y.dtype} has no GPU kernel`);
  const [lo, hi] = integerRange(y.dtype);
  // saturate to the type; float clamp bounds are exact for every type up to int32
  return quantDispatch(ctx, `quantize_${y.dtype}`, `int(clamp(roundEven(X / v1) + Z, ${lo.toFixed(1)}, ${hi.toFixed(1)}))`, 'int');
}

/** nn_div's correction splits its operands (4097 * a): beyond 2^100 the plain quotient (such values saturate anyway). */
const Q_DIV = `
float q_div(float a, float b) {
  return (floatBitsToUint(a) & 0x7fffffffu) < 0x71800000u && (floatBitsToUint(b) & 0x7fffffffu) < 0x71800000u ? nn_div(a, b) : a / b;
}
`;

/**
 * QuantizeLinear to a float8/float4 type (packed codes): x / scale divided exactly (nn_div) and
 * rounded to x's precision, plus the zero point, encoded round-to-nearest-even with `saturate`.
 */
function quantizeNarrow(ctx: KernelContext): KernelImpl[] {
  const [x] = ctx.inputs;
  const y = ctx.outputs[0];
  if (blocked(ctx)) return ctx.unsupported(`blocked quantization to ${y.dtype} has no GPU kernel`);
  if (!x || isPacked(x.gpu) || y.dtype === 'float8e8m0') return ctx.unsupported(`quantizing ${x?.dtype} to ${y.dtype} has no GPU kernel`);
  const saturate = ctx.opset >= 19 ? ctx.attrs.int('saturate', 1) !== 0 : true;
  const q = x.dtype === 'float16' ? 'unpackHalf2x16(packHalf2x16(vec2(q_div(X, v1), 0.0))).x' : x.dtype === 'bfloat16' ? 'vkrt_round_bf16(q_div(X, v1))' : 'q_div(X, v1)';
  // float4e2m1 has no NaN: the reference rounds NaN to its largest code
  const enc = `int(vkrt_enc_${y.dtype}(${q} + Z, ${saturate}))`;
  const expr = y.dtype === 'float4e2m1' ? `(vkrt_isnan(${q} + Z) ? 7 : ${enc})` : enc;
  return quantDispatch(ctx, `quantize_${y.dtype}`, expr, 'int', `#include "vkrt_math.glsl"\n#include "nn_quant.glsl"\n${Q_DIV}`);
}

export function dequantizeKernel(ctx: KernelContext): KernelImpl[] {
  const [x] = ctx.inputs;
  if (blocked(ctx)) return x && isPacked(x.gpu) && isFloat(x.dtype) ? ctx.unsupported(`blocked dequantization of ${x.dtype} has no GPU kernel`) : dequantizeGeneralKernel(ctx);
  if (x && isByte(x.gpu)) return dequantizeGeneralKernel(ctx); // int8/uint8 one byte each: the general kernel reads bytes
  const y = ctx.outputs[0];
  if (y.gpu !== 'f32') return ctx.unsupported(`dequantizing to ${y.dtype} has no GPU kernel`);
  return quantDispatch(ctx, 'dequantize', '(X - Z) * v1', 'float');
}

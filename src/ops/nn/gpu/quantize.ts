/**
 * GPU kernels of QuantizeLinear and DequantizeLinear for integer quantized types (per-tensor and
 * per-axis scales and zero points): generated pointwise kernels (src/kernel/pointwise.ts), the
 * per-axis parameters broadcast as [C, 1, ...]. Blocked quantization and float8/float4 types
 * (which the GPU does not hold) are refused.
 */
import { BindingRef, KernelContext, KernelImpl } from '../../../kernel/contract';
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

function quantDispatch(ctx: KernelContext, name: string, expr: string, resultAs: 'float' | 'int', xAs: 'float'): KernelImpl[] {
  const [x, s, z] = ctx.inputs;
  const y = ctx.outputs[0];
  if (!x || !s) return ctx.fail('missing x or scale');
  if (ctx.opset >= 21 && ctx.attrs.int('block_size', 0) > 0) return ctx.unsupported('blocked quantization has no GPU kernel');
  const inputs: PointwiseInput[] = [{ gpu: x.gpu, dims: x.dims, as: xAs }, { gpu: s.gpu, dims: paramDims(ctx, x.dims, s.dims), as: 'float' }];
  const bindings: BindingRef[] = [{ input: 0 }, { input: 1 }];
  if (z) { inputs.push({ gpu: z.gpu, dims: paramDims(ctx, x.dims, z.dims), as: 'float' }); bindings.push({ input: 2 }); }
  const d = pointwiseDispatch({ name, inputs, outDims: y.dims, outGpu: y.gpu, resultAs, expr: z ? expr : expr.replace(/v2/g, '0.0') }, ctx.caps);
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
  if (blocked(ctx) || (!isFloat(y.dtype) && y.gpu === 'i32')) return [...quantizeGeneralKernel(ctx), ...(blocked(ctx) ? [] : quantizePointwise(ctx))];
  return quantizePointwise(ctx);
}

function quantizePointwise(ctx: KernelContext): KernelImpl[] {
  const y = ctx.outputs[0];
  if (isFloat(y.dtype) || y.gpu !== 'i32') return ctx.unsupported(`quantizing to ${y.dtype} has no GPU kernel`);
  const [lo, hi] = integerRange(y.dtype);
  // saturate to the type; float clamp bounds are exact for every type up to int32
  return quantDispatch(ctx, `quantize_${y.dtype}`, `int(clamp(roundEven(v0 / v1) + v2, ${lo.toFixed(1)}, ${hi.toFixed(1)}))`, 'int', 'float');
}

export function dequantizeKernel(ctx: KernelContext): KernelImpl[] {
  if (blocked(ctx)) return dequantizeGeneralKernel(ctx);
  const y = ctx.outputs[0];
  if (y.gpu !== 'f32') return ctx.unsupported(`dequantizing to ${y.dtype} has no GPU kernel`);
  return quantDispatch(ctx, 'dequantize', '(v0 - v2) * v1', 'float', 'float');
}

/**
 * Internal ops of the graph optimizer, in the `vkrt` domain (imported at version 1 by the
 * optimizer; never in a model file):
 *  - FusedElementwise: a chain or small DAG of elementwise ops as one node and one generated
 *    GLSL kernel (program.ts holds the program format);
 *  - pattern-recognised layers (Gelu, HardSwish, Mish, LayerNormalization, Softmax, Attention) under their
 *    ONNX definitions at a fixed opset, so a model whose opset predates the op can still use them.
 */
import { KernelContext, KernelImpl, withF16 } from '../../kernel/contract';
import { pointwiseDispatch, PointwiseInput } from '../../kernel/pointwise';
import { ELEMENTWISE_GLSL_HELPERS } from '../elementwise/scalar-table';
import { inferBroadcast } from '../elementwise/driver';
import { OpRegistry } from '../registry';
import { OpDef } from '../types';
import { evaluateProgram, programGlsl, readProgram } from './program';

export const VKRT = 'vkrt';

/** Most inputs a fused pointwise kernel binds (its params hold rank + inputs * rank strides). */
export const MAX_FUSED_INPUTS = 6;

/**
 * Most steps one fused pointwise program holds: longer chains become several kernels. Bounds the
 * generated shader and keeps fusing a long chain linear (each merge copies a bounded program).
 */
export const MAX_FUSED_STEPS = 64;

/** FusedElementwise over the given registry (the steps' references come from it). */
export function fusedElementwise(registry: () => OpRegistry): OpDef {
  return {
    opType: 'FusedElementwise',
    domain: VKRT,
    traits: { elementwise: true },
    inferShape(ctx, inputs) {
      const first = inputs.find((t) => t);
      if (!first) return ctx.fail('FusedElementwise needs inputs');
      return [{ dtype: first.dtype, shape: inferBroadcast(ctx, inputs.map((t) => t?.shape)) }];
    },
    reference(ctx, inputs) {
      const xs = inputs.map((t, k) => t ?? ctx.fail(`input ${k} is missing`));
      return [evaluateProgram(readProgram(ctx.node), xs, registry(), ctx.node)];
    },
    kernel(ctx: KernelContext): KernelImpl[] {
      const p = readProgram(ctx.node);
      const out = ctx.outputs[0];
      const isFloat = (g: string) => g === 'f32' || g === 'f16';
      if (!isFloat(out.gpu) || ctx.inputs.some((t) => !t || !isFloat(t.gpu))) return ctx.unsupported('fused pointwise kernels take float tensors');
      const inputs: PointwiseInput[] = ctx.inputs.map((t) => ({ gpu: t!.gpu, dims: t!.dims, as: 'float' }));
      const body = programGlsl(p, (k) => `v${k}`, ctx.node);
      try {
        const d = pointwiseDispatch({
          name: 'fused', inputs, outDims: out.dims, outGpu: out.gpu, resultAs: 'float',
          expr: `t${p.steps.length - 1}`, body, helpers: ELEMENTWISE_GLSL_HELPERS,
        }, ctx.caps);
        return withF16([{ name: `pointwise_fused_${p.steps.map((s) => s.op.toLowerCase()).join('_')}`.slice(0, 96), dispatches: [d] }], ctx);
      } catch (e) {
        return ctx.unsupported((e as Error).message);
      }
    },
  };
}

/** An ONNX op re-registered in the vkrt domain, always run at `opset` (its first version with today's semantics). */
export function atOpset(def: OpDef, opset: number): OpDef {
  const fix = <T extends { opset: number }>(ctx: T): T => Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx, { opset });
  return {
    opType: def.opType,
    domain: VKRT,
    inferShape: def.inferShape && ((ctx, inputs) => def.inferShape!(fix(ctx), inputs)),
    reference: (ctx, inputs) => def.reference(fix(ctx), inputs),
    kernel: def.kernel && ((ctx) => def.kernel!(fix(ctx))),
  };
}

/** The internal ops, built over the ONNX definitions they reuse. */
export function vkrtOps(onnx: (opType: string) => OpDef, registry: () => OpRegistry): OpDef[] {
  return [
    fusedElementwise(registry),
    atOpset(onnx('Gelu'), 20),
    atOpset(onnx('HardSwish'), 14),
    atOpset(onnx('Mish'), 18),
    atOpset(onnx('LayerNormalization'), 17),
    atOpset(onnx('Softmax'), 13),
    atOpset(onnx('Attention'), 23),
  ];
}

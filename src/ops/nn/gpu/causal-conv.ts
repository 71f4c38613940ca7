/** GPU kernel of CausalConvWithState (shaders/nn/causal_conv.comp): one invocation per output element. */
import { BindingRef, grid1d, KernelContext, KernelImpl, withF16 } from '../../../kernel/contract';
import { paramLayout } from '../../../kernel/params';
import { isFloat } from '../../../ir/dtype';

/**
 * shaders/nn/causal_conv.comp: rows (B*C), C, L, K, outputs (B*C*L, then the B*C*(K-1) state
 * elements follow in the same index space), the activation (0 none, 1 silu).
 */
const CAUSAL_CONV = paramLayout('causal_conv', { rows: 'u32', C: 'u32', L: 'u32', K: 'u32', nOut: 'u32', total: 'u32', silu: 'u32' },
  'CausalConvWithState, one invocation per output or state element (src/ops/nn/gpu/causal-conv.ts).');

export function causalConvKernel(ctx: KernelContext): KernelImpl[] {
  const [X, W, B, S] = ctx.inputs;
  if (!X || !W) return ctx.fail('input and weight are required');
  if (!isFloat(X.dtype) || !isFloat(W.dtype)) return ctx.fail(`input must be floating-point, got ${X.dtype}`);
  const act = ctx.attrs.string('activation', 'none');
  if (!['none', 'silu', 'swish'].includes(act)) return ctx.unsupported(`activation '${act}' is not supported (none, silu, swish)`);
  if (X.dims.length !== 3) return ctx.fail(`input must be [batch, channels, length], got [${X.dims.join(',')}]`);
  const [Bn, C, L] = X.dims;
  const K = W.dims[W.dims.length - 1];
  if (!(W.dims.length === 3 && W.dims[0] === C && W.dims[1] === 1) && !(W.dims.length === 2 && W.dims[0] === C)) return ctx.fail(`weight must be [${C}, 1, K] (depthwise), got [${W.dims.join(',')}]`);
  if (K < 1) return ctx.fail('kernel size must be >= 1');
  if (B && B.dims.reduce((a, b) => a * b, 1) !== C) return ctx.fail(`bias must have ${C} elements, got [${B.dims.join(',')}]`);
  if (S && (S.dims.length !== 3 || S.dims[0] !== Bn || S.dims[1] !== C || S.dims[2] !== K - 1)) return ctx.fail(`past_state must be [${Bn}, ${C}, ${K - 1}], got [${S.dims.join(',')}]`);
  const rows = Bn * C;
  const nOut = rows * L;
  const hasState = !!ctx.node.outputs[1] && K > 1;
  const total = nOut + (hasState ? rows * (K - 1) : 0);
  const defines: Record<string, number> = {};
  const dummy: BindingRef = { scratch: 0 };
  const bindings: BindingRef[] = [{ input: 0 }, { input: 1 }, B ? { input: 2 } : dummy, S ? { input: 3 } : dummy, ctx.node.outputs[0] ? { output: 0 } : dummy, hasState ? { output: 1 } : dummy];
  if (B) defines.HAS_BIAS = 1;
  if (S) defines.HAS_PAST = 1;
  const params = CAUSAL_CONV.pack({ rows, C, L, K, nOut: ctx.node.outputs[0] ? nOut : 0, total, silu: act === 'none' ? 0 : 1 });
  return withF16([{
    name: 'causal_conv_direct',
    dispatches: [{ shader: 'nn/causal_conv', defines, params, workgroup: [64, 1, 1], groups: grid1d(total, 64, ctx.caps), bindings }],
    scratch: [4],
  }], ctx);
}

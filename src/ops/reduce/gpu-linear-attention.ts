/**
 * GPU kernel of LinearAttention (shaders/reduce/linear_attention.comp). Every update rule keeps
 * the columns of the state S [Dk, Dv] of one (batch, kv head) independent: column j changes only
 * through S[:, j], k, v[j], decay and beta, and o[h, j] = scale * q_h · S[:, j]. So one invocation
 * per (batch, kv head, column j) scans all time steps in order, keeping its column in a float
 * scratch, with no synchronisation at all.
 */
import { BindingRef, grid1d, KernelContext, KernelImpl, withF16 } from '../../kernel/contract';
import { glslEnum, paramLayout } from '../../kernel/params';
import { isFloat } from '../../ir/dtype';

/** linear_attention.comp's RULE param (the update_rule attribute). */
const LIN_ATTN_RULE = glslEnum('LIN_ATTN_RULE', { linear: 0, gated: 1, delta: 2, gated_delta: 3 }, 'uint', "linear_attention.comp's rule param (update_rule), src/ops/reduce/gpu-linear-attention.ts");

/**
 * shaders/reduce/linear_attention.comp: columns (B*Hkv*Dv), B, T, Hq, Hkv, Dk, Dv, the decay width
 * per kv head (Dk or 1), the beta width (Hkv or 1), scale, the update rule.
 */
const LINEAR_ATTENTION = paramLayout('linear_attention', {
  n: 'u32', T: 'u32', Hq: 'u32', Hkv: 'u32', Dk: 'u32', Dv: 'u32', decayPer: 'u32', betaW: 'u32', scale: 'f32', rule: 'u32',
}, 'LinearAttention, one invocation per state column (src/ops/reduce/gpu-linear-attention.ts).');

export function linearAttentionKernel(ctx: KernelContext): KernelImpl[] {
  const [q, k, v, past, decay, beta] = ctx.inputs;
  if (!q || !k || !v) return ctx.fail('query, key and value are required');
  for (const t of [q, k, v, past, decay, beta]) if (t && !isFloat(t.dtype)) return ctx.fail(`inputs must be floating-point, got ${t.dtype}`);
  if (q.dims.length !== 3 || k.dims.length !== 3 || v.dims.length !== 3) return ctx.unsupported('only 3-D [batch, seq, hidden] query/key/value are implemented');
  const Hq = ctx.attrs.int('q_num_heads'), Hkv = ctx.attrs.int('kv_num_heads');
  const rule = ctx.attrs.string('update_rule', 'gated_delta');
  if (!(rule in LIN_ATTN_RULE)) return ctx.fail(`update_rule '${rule}' is not one of ${Object.keys(LIN_ATTN_RULE).join(', ')}`);
  const [B, T, qHidden] = q.dims;
  if (Hq <= 0 || Hkv <= 0 || Hq % Hkv !== 0) return ctx.fail(`q_num_heads ${Hq} must be a positive multiple of kv_num_heads ${Hkv}`);
  if (qHidden % Hq !== 0 || k.dims[2] % Hkv !== 0 || v.dims[2] % Hkv !== 0) return ctx.fail('hidden sizes are not multiples of the head counts');
  const Dk = qHidden / Hq, Dv = v.dims[2] / Hkv;
  if (k.dims[2] / Hkv !== Dk) return ctx.fail(`key head size ${k.dims[2] / Hkv} differs from query head size ${Dk}`);
  for (const t of [k, v]) if (t.dims[0] !== B || t.dims[1] !== T) return ctx.fail('query, key and value batch/sequence sizes differ');
  const gated = rule === 'gated' || rule === 'gated_delta';
  const delta = rule === 'delta' || rule === 'gated_delta';
  const size = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);
  let decayPer = 1, betaW = 1;
  if (gated) {
    if (!decay) return ctx.fail(`update_rule '${rule}' needs the decay input`);
    const dW = decay.dims[decay.dims.length - 1];
    decayPer = dW / Hkv;
    if (size(decay.dims) !== B * T * dW || (decayPer !== Dk && decayPer !== 1)) return ctx.fail(`decay must be [${B},${T},${Hkv * Dk}] or [${B},${T},${Hkv}]`);
  }
  if (delta) {
    if (!beta) return ctx.fail(`update_rule '${rule}' needs the beta input`);
    betaW = beta.dims[beta.dims.length - 1];
    if (size(beta.dims) !== B * T * betaW || (betaW !== Hkv && betaW !== 1)) return ctx.fail(`beta must be [${B},${T},${Hkv}] or [${B},${T},1]`);
  }
  if (past && size(past.dims) !== B * Hkv * Dk * Dv) return ctx.fail(`past_state must be [${B},${Hkv},${Dk},${Dv}], got [${past.dims.join(',')}]`);
  const scale = ctx.attrs.optFloat('scale') ?? 1 / Math.sqrt(Dk);
  const n = B * Hkv * Dv;
  const dummy: BindingRef = { scratch: 0 };
  const defines: Record<string, number> = {};
  if (past) defines.HAS_PAST = 1;
  if (ctx.node.outputs[0]) defines.HAS_OUT = 1;
  if (ctx.node.outputs[1]) defines.HAS_STATE = 1;
  const bindings: BindingRef[] = [
    { input: 0 }, { input: 1 }, { input: 2 }, past ? { input: 3 } : dummy, gated ? { input: 4 } : dummy, delta ? { input: 5 } : dummy,
    ctx.node.outputs[0] ? { output: 0 } : dummy, { scratch: 1 }, ctx.node.outputs[1] ? { output: 1 } : dummy,
  ];
  const stateBytes = B * Hkv * Dk * Dv * 4;
  return withF16([{
    name: 'linear_attention_columns',
    dispatches: [{
      shader: 'reduce/linear_attention', defines,
      params: LINEAR_ATTENTION.pack({ n, T, Hq, Hkv, Dk, Dv, decayPer, betaW, scale, rule: LIN_ATTN_RULE[rule as keyof typeof LIN_ATTN_RULE] }),
      workgroup: [64, 1, 1], groups: grid1d(n, 64, ctx.caps), bindings,
    }],
    scratch: [4, stateBytes],
  }], ctx);
}
